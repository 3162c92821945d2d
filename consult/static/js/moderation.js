/* The room's moderation queue hears the event's stream (the same one as the wall) and
   says when new ideas arrive, in a polite live region with a link that reloads the
   queue. It does not redraw the list itself: a moderator may be typing a reason. */
(function () {
  "use strict";
  var note = document.getElementById("queue-news");
  if (!note || !window.EventSource) { return; }
  var first = true;
  var source = new EventSource(note.getAttribute("data-stream-url"));
  source.addEventListener("changed", function (message) {
    if (first) { first = false; return; }  // sent on every (re)connect, nothing new
    var topics = [];
    try { topics = JSON.parse(message.data).topics || []; } catch (e) { topics = ["all"]; }
    if (topics.indexOf("queue") === -1 && topics.indexOf("all") === -1) { return; }
    note.hidden = false;
  });
})();
