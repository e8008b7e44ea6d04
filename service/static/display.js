// The machine-side display: say when the refresh fails, and since when; clear it on recovery.
// htmx keeps polling through failures, so the page recovers by itself once the server answers.
(function () {
  "use strict";
  var body = document.body;
  var note = document.getElementById("contact");
  var lostAt = null;

  function clock(moment) {
    try {
      return moment.toLocaleTimeString(body.dataset.lang, {
        hour: "2-digit", minute: "2-digit", hour12: false, timeZone: body.dataset.zone
      });
    } catch (e) {
      return moment.toTimeString().slice(0, 5);
    }
  }

  function lost() {
    if (lostAt === null) {
      lostAt = new Date();
      note.textContent = body.dataset.lost.replace("{time}", clock(lostAt));
      note.hidden = false;
      body.classList.add("is-lost");
    }
  }

  function back() {
    lostAt = null;
    note.hidden = true;
    note.textContent = "";
    body.classList.remove("is-lost");
  }

  document.addEventListener("htmx:sendError", lost);
  document.addEventListener("htmx:responseError", lost);
  document.addEventListener("htmx:timeout", lost);
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      back();
    }
  });
})();
