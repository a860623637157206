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
 *   <details data-menu>                          the site menu: open on wide screens, a button on phones
 *   <table class="stack">                        a card per row on a phone: each cell gets its column's
 *                                                header text as data-label (app.css shows it before the cell)
 *
 * And on every page: the navigation link of the current page gets aria-current="page" (the navigation's
 * text is cached per user context, so the server does not mark it), and a table or box that scrolls
 * sideways becomes focusable so the keyboard can scroll it (WCAG 2.1.1; docs/interface.md).
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

  var WIDE = window.matchMedia("(min-width: 60em)");

  function syncMenu() {
    document.querySelectorAll("details[data-menu]").forEach(function (menu) {
      menu.open = WIDE.matches;
    });
  }

  function markCurrent() {
    var here = window.location.pathname;
    document.querySelectorAll(".topnav a[href]").forEach(function (a) {
      if (a.getAttribute("href") === here) a.setAttribute("aria-current", "page");
    });
  }

  function focusableScrollers() {
    document.querySelectorAll("main table, main .table-wrap, main pre").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1 && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
      }
    });
  }

  function labelStackedCells() {
    document.querySelectorAll("table.stack").forEach(function (table) {
      var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1] : null;
      if (!heads) return;
      var names = [];
      Array.prototype.forEach.call(heads.cells, function (th) {
        for (var i = 0; i < th.colSpan; i++) names.push(th.textContent.trim());
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (names[column] && cell.colSpan < names.length && !cell.hasAttribute("data-label")) {
              cell.setAttribute("data-label", names[column]);
            }
            column += cell.colSpan;
          });
        });
      });
    });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || WIDE.matches) return;
    var menu = document.querySelector("details[data-menu][open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });

  function ready() {
    syncMenu();
    markCurrent();
    labelStackedCells();
    focusableScrollers();
  }
  if (WIDE.addEventListener) WIDE.addEventListener("change", syncMenu);
  window.addEventListener("resize", focusableScrollers);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
