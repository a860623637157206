/* Keyboard-first entry in the journal grid (R2.1, R2.8): a small spreadsheet without a framework.
 *
 * One listener per event type on the grid (event delegation), one shared <input> as the cell editor,
 * saves queued one after another so each save sends the version the previous one returned.
 * Translated strings and URLs come from the page (json_script "journal-config").
 */
(function () {
  "use strict";

  var configEl = document.getElementById("journal-config");
  if (!configEl) return;
  var config = JSON.parse(configEl.textContent);
  var S = config.strings;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var codes = {};
  config.attendanceCodes.forEach(function (c) { codes[c.toLowerCase()] = c; });

  var status = document.getElementById("grid-status");
  function say(text, isError) {
    if (!status) return;
    status.textContent = text || "";
    status.classList.toggle("error", !!isError);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json", "X-Requested-With": "XMLHttpRequest" },
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      var retryAfter = parseInt(resp.headers.get("Retry-After") || "", 10) || 0;
      if (RETRY[resp.status]) {
        // The database or the server is away for a moment (issue #9): nothing was saved; send it again.
        return resp.text().then(function (text) {
          var data = {};
          try { data = JSON.parse(text); } catch (e) { /* a proxy's HTML page */ }
          return { status: resp.status, data: data, retryAfter: retryAfter };
        });
      }
      if (type.indexOf("application/json") === -1) {
        // A login page instead of JSON: the session ended (idle timeout).
        return { status: 401, data: { error: { code: "unauthorized", message: S.session } } };
      }
      return resp.json().then(function (data) { return { status: resp.status, data: data }; });
    });
  }

  // A save answered 502/503/504, or not answered at all, did not happen (or, if the answer was lost after
  // the commit, did: see "in doubt" below). It is sent again, unchanged, after 1, 2, 4 … 30 seconds (or the
  // server's Retry-After), for as long as it takes; the cell stays "saving" until the server acknowledges,
  // and the saves behind it in the queue wait, so they still go in order with the right versions.
  var RETRY = { 502: true, 503: true, 504: true };
  function postRetrying(url, body, waiting) {
    var attempt = 0;
    function once() {
      return post(url, body).then(function (res) {
        if (!RETRY[res.status]) { res.retried = attempt > 0; return res; }
        return later(((res.data || {}).error || {}).message || S.network, res.retryAfter);
      }, function () { return later(S.network, 0); });
    }
    function later(message, retryAfter) {
      var seconds = Math.min(30, Math.max(retryAfter || 0, Math.pow(2, attempt)));
      attempt += 1;
      if (waiting) waiting(message);
      return new Promise(function (resolve) { setTimeout(resolve, seconds * 1000); }).then(once);
    }
    return once();
  }
  // Leaving the page with saves not yet acknowledged would lose them: the browser asks first.
  window.addEventListener("beforeunload", function (ev) {
    if (pending > 0) { ev.preventDefault(); ev.returnValue = ""; }
  });

  // Every save (cells and lessons) goes through one queue: each sends the version the previous
  // save returned, and the page never has two writes in flight. <html data-saving="n"> counts them.
  var queue = Promise.resolve();
  var pending = 0;
  function enqueue(task) {
    pending += 1;
    document.documentElement.dataset.saving = String(pending);
    queue = queue.then(task).then(done, done);
    function done() {
      pending -= 1;
      document.documentElement.dataset.saving = String(pending);
    }
  }

  // ---- The grid -----------------------------------------------------------------------------
  // One <input> is the grid's keyboard: it sits in the selected cell, transparent while moving
  // ("nav"), visible while typing ("enter" after a typed key, "edit" after F2). Text reaches it by
  // keys, IMEs and phone keyboards alike, so typing "н" or "10" on any layout starts an entry.
  var table = document.querySelector("table.jgrid");
  var wrap = table ? table.closest(".grid-wrap") : null;
  var historyBtn = document.getElementById("history-btn");
  var active = null; // the selected <td>
  var mode = "nav";
  var before = ""; // the cell's text when typing started
  var editor = document.createElement("input");
  editor.className = "cell-editor nav";
  editor.setAttribute("autocomplete", "off");
  editor.setAttribute("spellcheck", "false");
  editor.setAttribute("aria-label", S.editor);

  function isCell(el) { return !!el && el.tagName === "TD" && el.classList.contains("c"); }
  function isEditable(td) { return isCell(td) && !td.classList.contains("ro"); }

  function cellText(td) {
    var text = "";
    td.childNodes.forEach(function (n) { if (n !== editor) text += n.textContent; });
    return text;
  }

  function setCellText(td, text) {
    var had = editor.parentNode === td;
    var focused = document.activeElement === editor;
    td.textContent = text;
    if (had) { td.appendChild(editor); if (focused) editor.focus({ preventScroll: true }); }
  }

  function select(td, scroll) {
    if (!isCell(td)) return;
    if (typeof bubble !== "undefined" && td !== active) hideCellError();
    if (active) { active.classList.remove("sel"); active.removeAttribute("aria-selected"); }
    active = td;
    td.classList.add("sel");
    td.setAttribute("aria-selected", "true");
    td.appendChild(editor);
    wrap.tabIndex = -1; // the editor in the selected cell is now the grid's stop in the tab order
    setMode("nav");
    editor.focus({ preventScroll: true });
    if (historyBtn) historyBtn.disabled = !td.dataset.l;
    fillRemarkForm(td);
    if (scroll !== false) td.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (td.title && (td.classList.contains("error") || td.classList.contains("conflict"))) say(td.title, true);
  }

  // The control form "Add remark" follows the selected cell (its lesson and student).
  var remarkLesson = document.getElementById("remark-lesson");
  var remarkStudent = document.getElementById("remark-student");
  function fillRemarkForm(td) {
    if (remarkLesson) remarkLesson.value = td.dataset.l || "";
    if (remarkStudent) remarkStudent.value = td.dataset.s || "";
  }

  function setMode(next) {
    mode = next;
    editor.classList.toggle("nav", next === "nav");
    if (next === "nav") editor.value = "";
  }

  function neighbour(td, dRow, dCol) {
    var tr = td.parentElement;
    var rows = tr.parentElement.rows;
    var r = tr.sectionRowIndex + dRow;
    if (r < 0 || r >= rows.length) return null;
    var cell = rows[r].cells[td.cellIndex + dCol];
    return isCell(cell) ? cell : null;
  }

  function move(dRow, dCol) {
    var next = active && neighbour(active, dRow, dCol);
    if (next) { select(next); return true; }
    return false;
  }

  function startEdit(text, how) {
    if (!isEditable(active)) { editor.value = ""; say(S.readonly, true); return; }
    before = cellText(active);
    active.classList.remove("error", "conflict", "saved");
    setMode(how);
    editor.value = text;
    editor.setSelectionRange(text.length, text.length);
  }

  function finishEdit(commit) {
    if (mode === "nav") return;
    var td = active;
    var value = editor.value.trim();
    setMode("nav");
    if (commit && value !== before) {
      setCellText(td, value);
      save(td, value, before);
    }
  }

  function clearCell(td) {
    if (!isEditable(td)) { say(S.readonly, true); return; }
    var was = cellText(td);
    if (was === "") return;
    setCellText(td, "");
    save(td, "", was);
  }

  // Thematic, period, annual and exam grades are locked once saved (R2.7, ``record_period_grade``): the teacher
  // confirms before the first save. A period grade can then be changed only by a correction, the others not at all.
  var LOCKING = { thematic: S.lockFinal, period: S.lockPeriod, annual: S.lockFinal, exam: S.lockFinal };

  // The error of a refused save is shown at its cell (and in the status line); one bubble for the grid.
  var bubble = document.createElement("div");
  bubble.className = "cell-msg";
  bubble.setAttribute("role", "alert");
  bubble.hidden = true;
  function showCellError(td, message) {
    if (!wrap) return;
    if (bubble.parentNode !== wrap) wrap.appendChild(bubble);
    bubble.textContent = message;
    bubble.hidden = false;
    var box = wrap.getBoundingClientRect();
    var cell = td.getBoundingClientRect();
    bubble.style.top = (cell.bottom - box.top + wrap.scrollTop + 2) + "px";
    bubble.style.left = (cell.left - box.left + wrap.scrollLeft) + "px";
    bubble.dataset.for = (td.dataset.l || td.dataset.k || "") + ":" + td.dataset.s;
  }
  function hideCellError() { bubble.hidden = true; }

  function save(td, value, previous) {
    if (td.dataset.k && LOCKING[td.dataset.k] && value !== "" && previous === "" && !window.confirm(LOCKING[td.dataset.k])) {
      setCellText(td, previous);
      return;
    }
    td.classList.remove("saved", "error", "conflict");
    hideCellError();
    if (workingOffline() && td.dataset.l && !td.dataset.w && !td.dataset.k) { queueCell(td, value, previous); return; }
    td.classList.add("saving");
    td.title = S.saving;
    say(S.saving);
    enqueue(function () { return send(td, value, previous, false); });
  }

  function send(td, value, previous, replace) {
    var body = new URLSearchParams();
    if (td.dataset.w) {
      // A work column: the mark of another work type (a control work …) at this lesson.
      body.set("kind", "work");
      body.set("lesson", td.dataset.l);
      body.set("work_type", td.dataset.w);
    } else if (td.dataset.k) {
      // A period grade (thematic, period, annual, exam): locked once saved; the server says so.
      body.set("kind", "period");
      body.set("grade_kind", td.dataset.k);
      body.set("ordinal", td.dataset.o || "0");
      if (td.dataset.t) body.set("title", td.dataset.t);
      body.set("period", config.periodId || "");
    } else {
      body.set("kind", "lesson");
      body.set("lesson", td.dataset.l);
    }
    body.set("student", td.dataset.s);
    body.set("value", value);
    body.set("version", td.dataset.v); // read now: an earlier save may have moved it on
    if (replace) body.set("replace", "1");
    return postRetrying(config.saveUrl, body, function (message) {
      td.title = message; // still "saving": kept pending until the server acknowledges it
      say(message, true);
    }).then(function (res) {
      var err = (res.data && res.data.error) || {};
      var declined = false;
      if (res.status === 422 && err.code === "cell_occupied" && !replace) {
        // One cell holds one entry: a mark and an absence do not share it. The server refused to replace
        // silently; the teacher says whether the typed entry replaces what the cell holds (issue 10).
        if (window.confirm(err.message)) return send(td, value, previous, true);
        declined = true;
      }
      td.classList.remove("saving");
      if (res.status === 409 && res.retried && err.current && sameValue(err.current.value, value)) {
        // In doubt: the connection broke after an earlier attempt committed. The cell holds what was sent,
        // so that attempt is the save: take its version and carry on.
        res = { status: 200, data: { value: err.current.value, version: err.current.version, late: err.current.late } };
      }
      if (res.status === 200) {
        td.dataset.v = res.data.version;
        setCellText(td, res.data.value);
        td.classList.toggle("late", !!res.data.late);
        if (td.dataset.k) td.classList.add("locked");
        td.title = res.data.late ? S.late : "";
        td.classList.add("saved");
        setTimeout(function () { td.classList.remove("saved"); }, 1500);
        if (res.data.row) updateRow(td.parentElement, res.data.row);
        if (td.dataset.k && showWarnings(td, res.data)) return;
        say(S.saved);
        return;
      }
      if (res.status === 409 && err.current) {
        // Somebody else changed the cell: adopt what is stored and say so.
        td.dataset.v = err.current.version;
        setCellText(td, err.current.value);
        td.classList.add("conflict");
      } else {
        setCellText(td, previous);
        td.classList.add("error");
      }
      td.title = declined ? S.kept : err.message || S.error;
      say(td.title, !declined);
      if (declined) {
        td.classList.remove("error");
        if (mode === "nav" || active === td) select(td);
        return;
      }
      refused(td, res.status === 422 ? value : null);
    }, function () {
      td.classList.remove("saving");
      td.classList.add("error");
      setCellText(td, previous);
      td.title = S.network;
      say(S.network, true);
      refused(td, null);
    });
  }

  // A refused entry keeps the cursor on its cell: unless the teacher is already typing elsewhere, the
  // cell is selected again, the error shown beside it, and an invalid entry is back in the editor to fix.
  function refused(td, typed) {
    if (mode !== "nav" && active !== td) { showCellError(td, td.title); return; }
    select(td);
    showCellError(td, td.title);
    if (typed !== null && typed !== undefined && isEditable(td)) startEdit(typed, "edit");
  }

  // A period or annual grade saved against the school's rules (too few marks, an annual grade that differs
  // from its basis): saved, and the server's warnings stay on the cell and in the status line.
  function showWarnings(td, data) {
    var warnings = data.warnings || [];
    td.classList.toggle("warn", warnings.length > 0);
    delete td.dataset.note;
    if (!warnings.length) return false;
    var text = warnings.map(function (w) { return w.message; }).join(" ");
    td.title = text;
    say(S.saved + ". " + text, true);
    return true;
  }

  function sameValue(a, b) { return String(a || "").trim().toLowerCase() === String(b || "").trim().toLowerCase(); }

  function updateRow(tr, row) {
    var acc = tr.querySelector("td.acc");
    if (acc) {
      setCellText(acc, row.count + "/" + row.required);
      acc.classList.toggle("low", row.count < row.required);
    }
    var avg = tr.querySelector("td.avg");
    if (avg) setCellText(avg, row.average);
  }

  function showHistory(td) {
    if (!td || !td.dataset.l) return;
    var url = config.historyUrl + "?lesson=" + encodeURIComponent(td.dataset.l) + "&student=" + encodeURIComponent(td.dataset.s);
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#cell-history", swap: "innerHTML" });
    } else {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        document.getElementById("cell-history").innerHTML = html;
      });
    }
  }

  function goToLesson(td) {
    if (!td || !td.dataset.l) return;
    var target = document.getElementById("topic-" + td.dataset.l) || document.getElementById("lesson-" + td.dataset.l);
    if (!target) {
      // An older lesson outside the shown part: open the page with every lesson, at this one.
      location.href = config.allLessonsUrl + "#lesson-" + td.dataset.l;
      return;
    }
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }

  var ARROWS = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
    var key = ev.key;
    if (mode !== "nav") {
      if (key === "Enter") { ev.preventDefault(); finishEdit(true); move(ev.shiftKey ? -1 : 1, 0); }
      else if (key === "Tab") { ev.preventDefault(); finishEdit(true); move(0, ev.shiftKey ? -1 : 1); }
      else if (key === "Escape") { ev.preventDefault(); finishEdit(false); say(""); }
      else if (ARROWS[key] && (mode === "enter" || key === "ArrowUp" || key === "ArrowDown")) {
        ev.preventDefault();
        finishEdit(true);
        move(ARROWS[key][0], ARROWS[key][1]);
      }
      return;
    }
    if (ARROWS[key]) { ev.preventDefault(); move(ARROWS[key][0], ARROWS[key][1]); return; }
    switch (key) {
      case "Enter": ev.preventDefault(); move(1, 0); return;
      case "Tab": if (move(0, ev.shiftKey ? -1 : 1)) ev.preventDefault(); return;
      case "Home": ev.preventDefault(); select(active.parentElement.querySelector("td.c")); return;
      case "End": ev.preventDefault(); select(lastLessonCell(active.parentElement)); return;
      case "F2": ev.preventDefault(); startEdit(cellText(active), "edit"); return;
      case "Delete": case "Backspace": ev.preventDefault(); clearCell(active); return;
      case "Escape": document.getElementById("cell-history").innerHTML = ""; say(""); return;
      case "h": case "H": ev.preventDefault(); showHistory(active); return;
      case "t": case "T": ev.preventDefault(); goToLesson(active); return;
      case " ": ev.preventDefault(); return;
    }
    // Any other key types into the transparent editor; the input event below starts the entry.
  }

  function lastLessonCell(tr) {
    var cells = tr.querySelectorAll("td[data-l]");
    return cells.length ? cells[cells.length - 1] : null;
  }

  // After "Add a column": the first writable cell of the new work column.
  function focusCell() {
    var f = config.focus;
    if (!f) return null;
    var rows = table.tBodies[0] ? table.tBodies[0].rows : [];
    if (f.k) {
      // A new thematic column: its cells carry the kind and the theme number.
      for (var i = 0; i < rows.length; i++) {
        var cell = rows[i].querySelector('td[data-k="' + f.k + '"][data-o="' + f.o + '"]');
        if (cell && isEditable(cell)) return cell;
      }
      return null;
    }
    var head = table.querySelector('thead th[data-l="' + f.l + '"][data-w="' + f.w + '"]');
    if (!head) return null;
    for (var r = 0; r < rows.length; r++) {
      if (isEditable(rows[r].cells[head.cellIndex])) return rows[r].cells[head.cellIndex];
    }
    return null;
  }

  function initialCell() {
    var heads = table.querySelectorAll("thead th[data-lesson]");
    var col = null;
    for (var i = 0; i < heads.length; i++) {
      if (!heads[i].classList.contains("future")) col = heads[i];
    }
    col = col || heads[0];
    var rows = table.tBodies[0] ? table.tBodies[0].rows : [];
    if (!rows.length) return null;
    if (!col) return rows[0].querySelector("td.c");
    for (var r = 0; r < rows.length; r++) {
      if (isEditable(rows[r].cells[col.cellIndex])) return rows[r].cells[col.cellIndex];
    }
    return rows[0].cells[col.cellIndex];
  }

  if (table && wrap) {
    editor.addEventListener("keydown", onKey);
    editor.addEventListener("input", function () {
      if (mode === "nav") {
        var typed = editor.value;
        editor.value = "";
        startEdit(typed, "enter");
      }
    });
    editor.addEventListener("blur", function () { finishEdit(true); });
    table.addEventListener("mousedown", function (ev) {
      var td = ev.target.closest("td");
      if (!isCell(td) || ev.target === editor) return;
      ev.preventDefault();
      if (td === active) { if (isEditable(td) && mode === "nav") startEdit(cellText(td), "edit"); editor.focus(); return; }
      finishEdit(true);
      select(td, false);
    });
    wrap.addEventListener("focus", function () { select(active || initialCell()); });
    if (historyBtn) historyBtn.addEventListener("click", function () { showHistory(active); });

    // Start where the teacher works: today's (or the latest past) lesson, first student.
    if (table.dataset.editable === "1" && !location.hash) select(focusCell() || initialCell());
  }

  // ---- The lesson part: topic, type, homework saved on change ---------------------------------
  function saveLesson(form) {
    var out = form.querySelector(".lstatus");
    if (workingOffline()) { queueLesson(form, out); return; }
    out.className = "lstatus";
    out.textContent = S.saving;
    enqueue(function () {
      var body = new FormData(form); // collected now, with the version the last save returned
      return postRetrying(form.action, body, function (message) {
        out.className = "lstatus error";
        out.textContent = message;
      }).then(function (res) {
        var data = res.data;
        if (res.status === 200) {
          form.elements.version.value = data.version;
          out.className = "lstatus ok";
          out.textContent = S.saved;
          return;
        }
        var err = (data && data.error) || {};
        if (res.status === 409 && err.current) {
          ["version", "topic", "lesson_type", "homework", "homework_due", "number"].forEach(function (name) {
            if (form.elements[name] && err.current[name] !== undefined) form.elements[name].value = err.current[name];
          });
        }
        out.className = "lstatus error";
        out.textContent = err.message || S.error;
      }, function () {
        out.className = "lstatus error";
        out.textContent = S.network;
      });
    });
  }

  document.addEventListener("change", function (ev) {
    var form = ev.target.form;
    if (form && form.classList.contains("lesson-form")) saveLesson(form);
  });
  function takeRegister(form, button) {
    var out = form.querySelector(".lstatus");
    out.className = "lstatus";
    out.textContent = S.saving;
    enqueue(function () {
      var body = new FormData();
      body.set("csrfmiddlewaretoken", csrf);
      return postRetrying(button.formAction, body, function (message) {
        out.className = "lstatus error";
        out.textContent = message;
      }).then(function (res) {
        if (res.status === 200) {
          var badge = document.createElement("span");
          badge.className = "badge register";
          badge.textContent = res.data.message;
          button.replaceWith(badge);
          out.className = "lstatus ok";
          out.textContent = S.saved;
          return;
        }
        out.className = "lstatus error";
        out.textContent = ((res.data && res.data.error) || {}).message || S.error;
      }, function () {
        out.className = "lstatus error";
        out.textContent = S.network;
      });
    });
  }

  document.addEventListener("submit", function (ev) {
    if (ev.target.classList && ev.target.classList.contains("lesson-form")) {
      ev.preventDefault();
      if (ev.submitter && ev.submitter.classList.contains("take-register")) takeRegister(ev.target, ev.submitter);
      else saveLesson(ev.target);
    }
  });
  document.addEventListener("keydown", function (ev) {
    // Escape in the lesson part goes back to the grid, to this lesson's column.
    if (ev.key !== "Escape" || !ev.target.form || !ev.target.form.classList.contains("lesson-form") || !table) return;
    var head = table.querySelector('thead th[data-lesson="' + ev.target.form.dataset.lesson + '"]');
    var row = active ? active.parentElement : table.tBodies[0].rows[0];
    if (head && row) select(row.cells[head.cellIndex]);
  });
  // ---- Offline work (issue 17, docs/offline.md) ------------------------------------------------
  // On the teacher's own journal (config.offline), an entry made while the browser is offline goes to a queue in
  // IndexedDB with the version the cell had when seen and the device's time; the cell shows it as pending. When the
  // connection returns the queue goes, in order, to the batch endpoint; each entry comes back applied, a conflict
  // (shown side by side, the teacher chooses) or refused (listed, exportable as a printable file).
  var OFF = config.offline;
  var OS = OFF ? OFF.strings : {};
  var db = null;
  var sessionEnded = false;
  function workingOffline() { return !!OFF && !!window.indexedDB && navigator.onLine === false; }

  function openDb() {
    if (!OFF || !window.indexedDB) return Promise.resolve(null);
    if (db) return Promise.resolve(db);
    return new Promise(function (resolve) {
      var req = window.indexedDB.open("classbook-offline", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("entries", { keyPath: "id" }); };
      req.onsuccess = function () { db = req.result; resolve(db); };
      req.onerror = function () { resolve(null); };
    });
  }
  function store(mode, work) {
    return openDb().then(function (d) {
      if (!d) return null;
      return new Promise(function (resolve, reject) {
        var tx = d.transaction("entries", mode);
        var req = work(tx.objectStore("entries"));
        tx.oncomplete = function () { resolve(req.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function getEntry(id) { return store("readonly", function (s) { return s.get(id); }); }
  function putEntry(e) { return store("readwrite", function (s) { return s.put(e); }); }
  function dropEntry(id) { return store("readwrite", function (s) { return s.delete(id); }); }
  function entries() {
    // Only this teacher's entries of this journal: another user of the browser never sees (or sends) them.
    return store("readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).filter(function (e) { return e.key === OFF.key && e.assignment === OFF.assignment; })
        .sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  function lessonLabel(lessonId) {
    var th = table && table.querySelector('thead th[data-lesson="' + lessonId + '"]');
    return th ? th.textContent.trim() : String(lessonId);
  }
  function queued(id, fresh, change) {
    return getEntry(id).then(function (old) {
      var e = old || fresh;
      e.seq = e.seq || Date.now() + Math.random();
      e.device_at = new Date().toISOString();
      e.status = "pending";
      change(e);
      return putEntry(e);
    }).then(showState);
  }
  function queueCell(td, value, previous) {
    setPending(td, value);
    queued(OFF.key + ":" + td.dataset.l + ":" + td.dataset.s, {
      id: OFF.key + ":" + td.dataset.l + ":" + td.dataset.s, key: OFF.key, assignment: OFF.assignment, kind: "cell",
      lesson: +td.dataset.l, student: +td.dataset.s, version: td.dataset.v || "0.0", replace: false,
      who: td.parentElement.cells[0].textContent.trim(), when: lessonLabel(td.dataset.l),
    }, function (e) {
      e.value = value;
      e.replace = e.replace || previous !== ""; // the teacher typed over what the cell showed
    });
  }
  function queueLesson(form, out) {
    var id = OFF.key + ":lesson:" + form.dataset.lesson;
    out.className = "lstatus error";
    out.textContent = OS.pending;
    queued(id, {
      id: id, key: OFF.key, assignment: OFF.assignment, kind: "lesson", lesson: +form.dataset.lesson,
      version: form.elements.version.value, who: "", when: lessonLabel(form.dataset.lesson),
    }, function (e) {
      if (form.elements.topic) e.topic = form.elements.topic.value;
      if (form.elements.homework) e.homework = form.elements.homework.value;
      e.value = [e.topic, e.homework].filter(Boolean).join(" · ");
    });
  }
  function cellOf(e) {
    if (!table || e.kind !== "cell") return null;
    return table.querySelector('td[data-l="' + e.lesson + '"][data-s="' + e.student + '"]:not([data-w]):not([data-k])');
  }
  function formOf(e) { return document.querySelector('form.lesson-form[data-lesson="' + e.lesson + '"]'); }
  function setPending(td, value) {
    setCellText(td, value);
    td.classList.remove("saving", "saved", "error", "conflict");
    td.classList.add("pending");
    td.title = OS.pending;
  }
  // A page opened again (offline from the worker's copy, or online): the queue is shown on the grid.
  function overlay(list) {
    list.forEach(function (e) {
      var td = cellOf(e);
      if (td) {
        if (e.status === "pending") setPending(td, e.value);
        else { td.classList.add(e.status === "conflict" ? "conflict" : "error"); td.title = e.message || ""; }
      }
      var form = formOf(e);
      if (form && e.kind === "lesson") {
        if (e.topic !== undefined && form.elements.topic) form.elements.topic.value = e.topic;
        if (e.homework !== undefined && form.elements.homework) form.elements.homework.value = e.homework;
      }
    });
  }

  function wire(e) {
    var out = { id: e.id, kind: e.kind, lesson: e.lesson, version: String(e.version), device_at: e.device_at };
    if (e.kind === "lesson") { if (e.topic !== undefined) out.topic = e.topic; if (e.homework !== undefined) out.homework = e.homework; }
    else { out.student = e.student; out.value = e.value; out.replace = !!e.replace; }
    return out;
  }
  var syncing = false;
  function sync() {
    if (!OFF || syncing || navigator.onLine === false) return Promise.resolve();
    syncing = true;
    return entries().then(function (list) {
      var todo = list.filter(function (e) { return e.status === "pending"; });
      if (!todo.length) return null;
      say(OS.sending);
      return fetch(OFF.syncUrl, {
        method: "POST", credentials: "same-origin", body: JSON.stringify({ entries: todo.map(wire) }),
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      }).then(function (resp) {
        var json = (resp.headers.get("Content-Type") || "").indexOf("application/json") !== -1;
        if (resp.status === 401 || resp.status === 403 || !json) { sessionEnded = true; say(OS.session, true); return null; }
        if (!resp.ok) return null; // the server is away for a moment: the queue stays, sent again later
        return resp.json().then(function (data) { return results(todo, data.results || []); });
      }, function () { return null; });
    }).then(function () { syncing = false; return showState(); }, function () { syncing = false; });
  }
  function results(sent, answers) {
    var byId = {};
    answers.forEach(function (r) { byId[r.id] = r; });
    return Promise.all(sent.map(function (e) {
      var r = byId[e.id];
      if (!r) return null;
      var td = cellOf(e);
      if (r.status === "applied") {
        if (td) {
          td.dataset.v = r.version;
          setCellText(td, r.value);
          td.classList.remove("pending", "error", "conflict");
          td.classList.toggle("late", !!r.late);
          td.title = r.late ? S.late : "";
        }
        var form = formOf(e);
        if (form && e.kind === "lesson") form.elements.version.value = r.version;
        return dropEntry(e.id);
      }
      e.status = r.status;
      e.message = r.message;
      e.current = r.current;
      if (td) { td.classList.remove("pending"); td.classList.add(r.status === "conflict" ? "conflict" : "error"); td.title = r.message; }
      return putEntry(e);
    })).then(function () { say(OS.sent); });
  }

  // The panel: what waits, the conflicts side by side (yours / now in the journal, who, when), the refused ones.
  var panel = document.getElementById("offline-panel");
  function cell(tr, text, tag) { var c = document.createElement(tag || "td"); c.textContent = text == null ? "" : text; tr.appendChild(c); return c; }
  function when(iso) { return iso ? new Date(iso).toLocaleString([], { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" }) : ""; }
  function listTable(list, heads, row) {
    var t = document.createElement("table");
    var h = t.createTHead().insertRow();
    heads.forEach(function (text) { cell(h, text, "th"); });
    var body = t.createTBody();
    list.forEach(function (e) { row(body.insertRow(), e); });
    return t;
  }
  function showState() {
    if (!OFF || !panel) return Promise.resolve();
    return entries().then(function (list) {
      var waiting = list.filter(function (e) { return e.status === "pending"; });
      var conflicts = list.filter(function (e) { return e.status === "conflict"; });
      var refused = list.filter(function (e) { return e.status === "refused"; });
      var offline = navigator.onLine === false;
      panel.hidden = !offline && !list.length;
      var state = document.getElementById("offline-state");
      state.textContent = (offline ? OS.offline + " " : "") + (sessionEnded ? OS.session + " " : "") +
        (waiting.length ? OS.pending + ": " + waiting.length : "");
      var box = document.getElementById("offline-conflicts");
      box.textContent = "";
      if (conflicts.length) {
        cell(box, OS.conflicts, "p");
        box.appendChild(listTable(conflicts, [OS.student, OS.lesson, OS.yours, OS.current, "", ""], function (tr, e) {
          var now = e.current || {};
          cell(tr, e.who); cell(tr, e.when); cell(tr, e.value);
          cell(tr, (now.value || "—") + (now.by ? " (" + now.by + ", " + when(now.at) + ")" : ""));
          [["mine", OS.keepMine], ["theirs", OS.keepCurrent]].forEach(function (b) {
            var btn = cell(tr, "").appendChild(document.createElement("button"));
            btn.type = "button"; btn.className = "small"; btn.textContent = b[1];
            btn.dataset.choose = b[0]; btn.dataset.id = e.id;
          });
        }));
      }
      box = document.getElementById("offline-refused");
      box.textContent = "";
      if (refused.length) {
        cell(box, OS.refused, "p");
        box.appendChild(listTable(refused, [OS.student, OS.lesson, OS.entry, OS.enteredAt, OS.reason], function (tr, e) {
          cell(tr, e.who); cell(tr, e.when); cell(tr, e.value); cell(tr, when(e.device_at)); cell(tr, e.message);
        }));
      }
      document.getElementById("offline-export").hidden = !(refused.length || (sessionEnded && list.length));
    });
  }

  function choose(id, mine) {
    return getEntry(id).then(function (e) {
      if (!e) return null;
      var now = e.current || {};
      if (mine) {
        // Written over the current value knowingly: sent again with the version the teacher has now seen.
        e.version = now.version || e.version;
        e.status = "pending";
        return putEntry(e).then(sync);
      }
      var td = cellOf(e);
      if (td) { td.dataset.v = now.version; setCellText(td, now.value || ""); td.classList.remove("conflict"); td.title = ""; }
      return dropEntry(id).then(showState);
    });
  }

  function escapeHtml(text) {
    return String(text == null ? "" : text).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  // Everything not saved, as a printable page the teacher downloads: nothing typed offline is ever lost.
  function exportList() {
    entries().then(function (list) {
      var rows = list.map(function (e) {
        return "<tr>" + [e.who, e.when, e.value, when(e.device_at), e.message || OS.pending].map(function (v) {
          return "<td>" + escapeHtml(v) + "</td>";
        }).join("") + "</tr>";
      }).join("");
      var title = escapeHtml(OS.exportTitle) + " — " + escapeHtml(document.title);
      var html = "<!doctype html><meta charset=utf-8><title>" + title + "</title><h1>" + title + "</h1>" +
        "<table border=1 cellpadding=4><tr>" + [OS.student, OS.lesson, OS.entry, OS.enteredAt, OS.reason].map(function (h) {
          return "<th>" + escapeHtml(h) + "</th>";
        }).join("") + "</tr>" + rows + "</table>";
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([html], { type: "text/html" }));
      a.download = "journal-offline-entries.html";
      document.body.appendChild(a);
      a.click();
      a.remove();
    });
  }

  if (OFF && window.indexedDB) {
    entries().then(overlay).then(showState).then(sync);
    window.addEventListener("online", sync);
    window.addEventListener("offline", function () { say(OS.offline, true); showState(); });
    if (panel) {
      panel.addEventListener("click", function (ev) {
        var btn = ev.target.closest("button");
        if (!btn) return;
        if (btn.id === "offline-export") exportList();
        else if (btn.dataset.choose) choose(btn.dataset.id, btn.dataset.choose === "mine");
      });
    }
  }
})();
