// The console's own script (served from Tenantry; the CSP allows no inline script): copy buttons, and
// focus on the page's heading after htmx swaps in a whole page.
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var field = document.getElementById(button.getAttribute("data-copy"));
  var status = document.querySelector('[data-copied-for="' + button.getAttribute("data-copy") + '"]');
  if (!field) return;
  field.select();
  var done = function () { if (status) status.textContent = "Copied."; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});
document.addEventListener("htmx:afterSettle", function (event) {
  var bar = event.target.querySelector && event.target.querySelector("progress");
  if (bar && bar.value >= bar.max) {
    var heading = document.getElementById("import-done");
    if (heading) heading.focus();
  }
});
