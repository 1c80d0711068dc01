// The review app's Print buttons (data-print): shown only where this script runs. No inline
// script: the CSP allows scripts from this site only.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
