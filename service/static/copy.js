// A button that copies the value of the input it names (data-copy="<input id>").
// Without JavaScript the button stays hidden and the read-only input is there to copy by hand.
(function () {
  "use strict";
  function report(button, ok) {
    var status = document.getElementById("copy-status");
    if (status) status.textContent = status.dataset[ok ? "copied" : "failed"] || "";
  }
  function copy(button) {
    var input = document.getElementById(button.dataset.copy);
    if (!input) return;
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () { report(button, true); },
        function () { report(button, document.execCommand("copy")); }
      );
    } else {
      report(button, document.execCommand("copy"));
    }
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button); });
  });
})();
