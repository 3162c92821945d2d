// Votes without a page reload. Without JavaScript the same forms post and redirect back.
(function () {
  "use strict";

  // The answer is shown (and announced) at the button that was tapped, not at the top of
  // the page; only one answer is shown at a time.
  function tell(form, text, refused) {
    var notes = document.querySelectorAll("[data-vote-note]");
    for (var i = 0; i < notes.length; i++) {
      notes[i].textContent = "";
      notes[i].classList.remove("vote-refused");
    }
    var note = form.querySelector("[data-vote-note]");
    if (note) {
      note.textContent = text;
      note.classList.toggle("vote-refused", !!refused);
    }
  }

  function update(form, data) {
    var button = form.querySelector("button");
    var voted = !!data.voted;
    var other = form.getAttribute(voted ? "data-unvote-url" : "data-vote-url");
    form.setAttribute("action", other);
    button.setAttribute("aria-pressed", voted ? "true" : "false");
    button.textContent = button.getAttribute(voted ? "data-label-voted" : "data-label-vote");
    var count = document.getElementById("votes-" + form.getAttribute("data-idea"));
    // The label comes translated from the server; without it (counts hidden) nothing shows.
    // The idea page shows the total with its online and paper parts (count_detail).
    if (count && data.count_label) {
      count.textContent = count.hasAttribute("data-count-detail") ? data.count_detail : data.count_label;
    }
    // The budget is shown (and announced) once, in the page's summary.
    var budgets = document.querySelectorAll("[data-vote-budget]");
    for (var i = 0; i < budgets.length; i++) { budgets[i].textContent = data.budget; }
    tell(form, data.message, false);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-vote") || !window.fetch) { return; }
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    }).then(function (result) {
      if (result.status === 401 && result.data.login) { window.location.href = result.data.login; return; }
      if (result.ok) { update(form, result.data); } else { tell(form, result.data.message, true); }
    }).catch(function () {
      form.submit();  // network trouble: fall back to the plain form post
    }).then(function () {
      button.disabled = false;
      // Disabling dropped the focus: give it back, so the keyboard stays where it was.
      if (document.activeElement === document.body) { button.focus(); }
    });
  });
})();
