// Text size (A-/A+), remembered on this device. Loaded in <head> so pages open at the chosen size.
(function () {
  "use strict";
  var STEPS = [0.875, 1, 1.125, 1.25, 1.5, 1.75];
  var KEY = "pepvoice-text-size";
  function read() {
    var i = 1;
    try { i = parseInt(localStorage.getItem(KEY) || "1", 10); } catch (e) { /* private mode */ }
    return isNaN(i) ? 1 : Math.max(0, Math.min(STEPS.length - 1, i));
  }
  function apply(i) {
    document.documentElement.style.setProperty("--text-scale", String(STEPS[i]));
    var buttons = document.querySelectorAll("[data-textsize]");
    for (var b = 0; b < buttons.length; b++) {
      var step = parseInt(buttons[b].getAttribute("data-textsize"), 10);
      buttons[b].disabled = (step < 0 && i === 0) || (step > 0 && i === STEPS.length - 1);
    }
  }
  apply(read());
  document.addEventListener("DOMContentLoaded", function () {
    apply(read());
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-textsize]");
      if (!button) return;
      var i = Math.max(0, Math.min(STEPS.length - 1, read() + parseInt(button.getAttribute("data-textsize"), 10)));
      try { localStorage.setItem(KEY, String(i)); } catch (e) { /* still applies for this page */ }
      apply(i);
    });
  });
})();
