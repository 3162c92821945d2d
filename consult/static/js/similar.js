// Similar ideas while typing. Without JavaScript the form's "Check for similar ideas"
// button asks the server and shows the form again with the same list.
(function () {
  "use strict";

  var box = document.getElementById("similar-ideas");
  if (!box || !window.fetch || !window.FormData) { return; }
  var form = box.closest("form");
  var results = document.getElementById("similar-results");
  var title = form && form.elements.title;
  var body = form && form.elements.body;
  if (!title || !results) { return; }
  var timer = null;
  var last = "";
  var running = null;

  function ask() {
    var text = title.value.trim();
    var more = body ? body.value.slice(0, 2000) : "";
    var key = text + "\n" + more;
    // Too little to compare yet, or nothing changed since the last answer.
    if (text.length < 4 || key === last) { return; }
    last = key;
    var data = new FormData();
    data.append("csrf_token", form.elements.csrf_token.value);
    data.append("title", text.slice(0, 300));
    data.append("body", more);
    data.append("exclude", box.getAttribute("data-similar-exclude") || "");
    if (running && running.abort) { running.abort(); }
    running = window.AbortController ? new AbortController() : null;
    fetch(box.getAttribute("data-similar-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: running ? running.signal : undefined
    }).then(function (response) {
      // A refusal (too many checks, logged out) leaves the last list; the button still works.
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null) { results.innerHTML = html; }
    }).catch(function () { last = ""; });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 800);
  }

  title.addEventListener("input", later);
  if (body) { body.addEventListener("input", later); }
})();
