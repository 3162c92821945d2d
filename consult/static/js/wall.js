// The projector wall. The server pushes only "something changed" (server-sent events);
// the wall then fetches its state and draws it. When the stream fails it polls instead.
(function () {
  "use strict";

  var POLL_MS = 2000;          // polling while the stream is down
  var REOPEN_MS = 30000;       // a stream refused outright (e.g. a proxy error) is retried
  var root = document.getElementById("wall");
  if (!root) { return; }
  var stateUrl = root.getAttribute("data-state-url");
  var streamUrl = root.getAttribute("data-stream-url");
  var offset = 0;              // server clock minus this computer's clock, in ms
  var current = null;          // the last state drawn
  var seenIdeas = null;        // ids already on the wall (new ones are highlighted)
  var lastClosingFetch = 0;
  var fetching = false, fetchAgain = false, pollTimer = null, source = null;

  function t(name, values) {
    var text = root.getAttribute("data-t-" + name) || "";
    Object.keys(values || {}).forEach(function (key) {
      text = text.split("{" + key + "}").join(String(values[key]));
    });
    return text;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function status(text) {
    document.getElementById("wall-status").textContent = text || "";
  }

  // --- drawing ---------------------------------------------------------------------------

  function drawEvent(event) {
    var title = document.getElementById("wall-title");
    title.textContent = event.title;
    title.setAttribute("lang", event.lang);
    document.getElementById("wall-code").textContent = event.code;
    document.getElementById("wall-join-url").textContent = event.join_text;
    document.getElementById("wall-closed").hidden = event.status === "open";
  }

  function drawIdeas(ideas) {
    var list = document.getElementById("wall-ideas");
    var known = seenIdeas || {};
    var next = {};
    list.textContent = "";
    ideas.forEach(function (idea) {
      var item = el("li", "wall-idea");
      if (seenIdeas && !known[idea.id]) { item.classList.add("wall-idea-new"); }
      next[idea.id] = true;
      var title = el("p", "wall-idea-title", idea.title);
      title.setAttribute("lang", idea.lang);
      title.setAttribute("dir", "auto");
      item.appendChild(title);
      if (idea.names.length) {
        var names = el("p", "wall-idea-names", t("by", { names: idea.names.join(", ") }));
        names.setAttribute("dir", "auto");
        item.appendChild(names);
      }
      list.appendChild(item);
    });
    seenIdeas = next;
    document.getElementById("wall-no-ideas").hidden = ideas.length > 0;
    fitIdeas();
  }

  // As many as fit: the newest stay, the oldest go (the list hides what overflows).
  function fitIdeas() {
    var list = document.getElementById("wall-ideas");
    while (list.children.length > 1 && list.scrollHeight > list.clientHeight + 1) {
      list.removeChild(list.lastElementChild);
    }
  }

  function votes(num) {
    return t(num === 1 ? "votes-one" : "votes-other", { num: num });
  }

  function drawRound(round) {
    var section = document.getElementById("wall-round");
    section.hidden = !round;
    if (!round) { return; }
    document.getElementById("wall-round-title").textContent = round.open
      ? t("round", { number: round.number }) + " · " + t("budget", { num: round.budget })
      : t("result", { number: round.number });
    var note = document.getElementById("wall-tally-note");
    var list = document.getElementById("wall-tally");
    list.textContent = "";
    if (!round.tally) {
      note.textContent = t("hidden-tally");
    } else if (!round.tally.length) {
      note.textContent = t("no-votes");
    } else {
      note.textContent = "";
      var most = round.tally[0].votes || 1;
      round.tally.forEach(function (row) {
        var item = el("li", "wall-tally-row");
        var title = el("span", "wall-tally-title", row.title);
        title.setAttribute("dir", "auto");
        var bar = el("span", "wall-bar");
        var fill = el("span", "wall-bar-fill");
        fill.style.width = Math.max(2, Math.round(100 * row.votes / most)) + "%";
        bar.appendChild(fill);
        item.appendChild(title);
        item.appendChild(bar);
        item.appendChild(el("span", "wall-tally-count", votes(row.votes)));
        list.appendChild(item);
      });
    }
    tick();
  }

  function draw(state) {
    current = state;
    drawEvent(state.event);
    drawRound(state.round);
    drawIdeas(state.ideas);  // last: the round takes its room first
  }

  // The countdown runs on this computer's clock, corrected by the server's.
  function tick() {
    var round = current && current.round;
    var clock = document.getElementById("wall-countdown");
    if (!round) { return; }
    clock.classList.toggle("wall-countdown-ended", !round.open);
    if (!round.open) { clock.textContent = t("ended"); return; }
    var left = Math.max(0, Math.ceil((Date.parse(round.closes_at) - (Date.now() + offset)) / 1000));
    var minutes = Math.floor(left / 60), seconds = left % 60;
    clock.textContent = t("left", { time: minutes + ":" + (seconds < 10 ? "0" : "") + seconds });
    // The round closed by the clock: fetch its result (once a second until it says so).
    if (left === 0 && Date.now() - lastClosingFetch > 1000) {
      lastClosingFetch = Date.now();
      refresh();
    }
  }

  // --- fetching --------------------------------------------------------------------------

  function refresh() {
    if (fetching) { fetchAgain = true; return; }
    fetching = true;
    var asked = Date.now();
    fetch(stateUrl, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { throw new Error("login"); }
        if (!response.ok) { throw new Error("status"); }
        return response.json();
      })
      .then(function (state) {
        // The server's time was read about halfway through the request.
        offset = Date.parse(state.server_time) - (asked + Date.now()) / 2;
        draw(state);
        status("");
      })
      .catch(function (error) {
        status(error.message === "login" ? t("login") : t("offline"));
      })
      .then(function () {
        fetching = false;
        if (fetchAgain) { fetchAgain = false; refresh(); }
      });
  }

  function startPolling() {
    if (!pollTimer) { pollTimer = window.setInterval(refresh, POLL_MS); }
  }

  function stopPolling() {
    if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; }
  }

  function listen() {
    if (!window.EventSource) { startPolling(); return; }
    source = new EventSource(streamUrl);
    source.addEventListener("open", stopPolling);
    source.addEventListener("changed", function (message) {
      var topics = [];
      try { topics = JSON.parse(message.data).topics || []; } catch (e) { topics = ["all"]; }
      // The moderation queue is not on the wall.
      if (topics.length === 1 && topics[0] === "queue") { return; }
      refresh();
    });
    source.addEventListener("error", function () {
      // Reconnecting (the server ended the stream, or the network blinked): poll meanwhile.
      startPolling();
      if (source.readyState === 2) {  // CLOSED: the browser gave up on this stream
        window.setTimeout(listen, REOPEN_MS);
      }
    });
  }

  function fullscreenButton() {
    var button = document.getElementById("wall-fullscreen");
    if (!document.documentElement.requestFullscreen) { return; }
    function update() { button.hidden = !!document.fullscreenElement; }
    button.addEventListener("click", function () {
      document.documentElement.requestFullscreen().catch(function () {});
    });
    document.addEventListener("fullscreenchange", update);
    update();
  }

  fullscreenButton();
  refresh();
  listen();
  window.setInterval(tick, 250);
  window.addEventListener("resize", function () { if (current) { drawIdeas(current.ideas); } });
})();
