/* Small behaviours of every page, bound by data attributes instead of inline script (the
 * Content-Security-Policy allows no inline script: docs/development.md, "Behaviour without inline
 * script"). Listeners sit on the document, so content that htmx swaps in works without re-binding.
 *
 *   <select data-autosubmit>                     submits its form when the choice changes
 *   <button type="button" data-print>            prints the page
 *   <input readonly data-select-on-click>        selects its text when clicked (to copy it)
 *   <input type="checkbox" data-check-all="css"> ticks or unticks every checkbox matching the selector
 *   <a data-fill='{"id_start": "2026-09-01"}'>   fills the fields with those ids instead of following the link
 *   <form data-busy="progress-id"                on submit shows #progress-id and disables the form's buttons
 *         data-busy-when="open">                 ... only when the button pressed has that value
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var el = event.target.closest ? event.target.closest("[data-autosubmit]") : null;
    if (el && el.form) el.form.submit();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!target.closest) return;
    var el = target.closest("[data-print]");
    if (el) {
      window.print();
      return;
    }
    el = target.closest("[data-select-on-click]");
    if (el) {
      el.select();
      return;
    }
    el = target.closest("[data-check-all]");
    if (el) {
      document.querySelectorAll(el.dataset.checkAll).forEach(function (box) {
        if (box !== el) box.checked = el.checked;
      });
      return;
    }
    el = target.closest("a[data-fill]");
    if (el) {
      var values = JSON.parse(el.dataset.fill);
      Object.keys(values).forEach(function (id) {
        var field = document.getElementById(id);
        if (field) field.value = values[id];
      });
      event.preventDefault();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.busy) return;
    var when = form.dataset.busyWhen;
    if (when && !(event.submitter && event.submitter.value === when)) return;
    var progress = document.getElementById(form.dataset.busy);
    if (progress) progress.hidden = false;
    // After this event the browser has read the form (with the pressed button's value): only then
    // disable the buttons, so a second click cannot send it twice.
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) {
        b.disabled = true;
      });
    }, 0);
  });
})();
