"""The journal grid through a blackout, in a real browser (issue 17, docs/offline.md).

The teacher opens their journal (the service worker keeps it), loses the connection, enters a mark and an
absence and a mark in a cell a substitute changes meanwhile, reloads the page offline (the worker's copy, the
entries still pending from IndexedDB), and comes back online: the queue is sent, two entries are applied, the third
comes back as a conflict shown side by side, and the teacher keeps theirs. Logout leaves no offline data.
"""

# ruff: noqa: F811 - the browser fixture is imported and used as an argument

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from classbook.journal import services
from classbook.journal.models import Attendance, Lesson, Mark
from classbook.people.models import Student
from tests import factories as f
from tests.journal.test_browser_grid import CHROMIUM, browser, logged_in_page  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(
        connection.vendor == "postgresql", reason="the browser's offline mode does not depend on the DB"
    ),
    pytest.mark.django_db(transaction=True),
]

KEPT = """async () => {
  const names = (await caches.keys()).filter(n => n.startsWith("classbook-diary-"));
  if (names.length !== 1 || !(await (await caches.open(names[0])).match(location.href))) return false;
  return !!(await caches.match(document.querySelector("script[src*=journal-grid]").src));
}"""
PENDING = """n => document.querySelectorAll('td.pending').length === n
  && /: \\d/.test(document.querySelector('#offline-state').textContent)"""
QUEUE_SIZE = """() => new Promise(done => { const q = indexedDB.open("classbook-offline");
  q.onsuccess = () => { const db = q.result; if (!db.objectStoreNames.contains("entries")) return done(0);
    const r = db.transaction("entries").objectStore("entries").count(); r.onsuccess = () => done(r.result); }; })"""


def test_teacher_works_offline_reloads_and_syncs_and_chooses_in_a_conflict(world, live_server, browser):
    assignment = world.teacher.teaching_assignments.get()
    f.make_grid(assignment, students=2, lessons=0)
    lesson = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=timezone.localdate())
    page = logged_in_page(browser, live_server, world.teacher)
    page.goto(live_server.url + reverse("journal:grid", args=[world.school.slug, assignment.pk]))
    page.wait_for_function(KEPT)  # the worker kept the grid and its script
    students = [int(s) for s in page.locator(f"td[data-l='{lesson.pk}']:not([data-w])").evaluate_all(
        "cells => cells.map(c => c.dataset.s)")]  # fmt: skip

    page.context.set_offline(True)
    for typed in ("10", "н", "9"):
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
    page.wait_for_function(PENDING, arg=3)
    # Meanwhile a substitute of the lesson, online, marks the third student.
    Lesson.objects.filter(pk=lesson.pk).update(conducted_by=world.other_teacher)
    lesson.conducted_by = world.other_teacher
    services.record_mark(
        acting_user=world.other_teacher,
        lesson=lesson,
        student=Student.objects.get(pk=students[2]),
        text="7",
        expected_version=0,
    )

    page.reload()  # offline: the worker's copy, the queue on it
    assert page.locator("[data-offline-banner]").is_visible()
    page.wait_for_function(PENDING, arg=3)
    assert page.locator("td.pending").all_inner_texts() == ["10", "н", "9"]
    assert not Mark.objects.filter(lesson=lesson, student_id=students[0]).exists()

    page.context.set_offline(False)  # the queue goes to the server
    page.wait_for_function("() => !document.querySelector('td.pending') && document.querySelector('td.conflict')")
    assert Mark.objects.get(lesson=lesson, student_id=students[0]).value.code == "10"
    assert Attendance.objects.get(lesson=lesson, student_id=students[1]).code.code == "н"
    assert Mark.objects.get(lesson=lesson, student_id=students[2]).value.code == "7"  # not overwritten
    conflict = page.locator("#offline-conflicts tbody tr").inner_text()
    assert "9" in conflict and "7" in conflict and world.other_teacher.last_name in conflict

    page.locator("#offline-conflicts button[data-choose=mine]").click()
    page.wait_for_function("() => !document.querySelector('td.conflict, td.pending')")
    assert Mark.objects.get(lesson=lesson, student_id=students[2]).value.code == "9"

    # A mark the scale does not have, entered offline: refused, listed, exportable; logout (Clear-Site-Data)
    # then leaves neither the kept pages nor the queue.
    page.locator(f"td[data-l='{lesson.pk}'][data-s='{students[0]}']").click()
    page.context.set_offline(True)
    page.keyboard.type("13")
    page.keyboard.press("Enter")
    page.wait_for_function(PENDING, arg=1)
    page.context.set_offline(False)
    page.wait_for_function(
        "() => document.querySelector('#offline-refused tbody tr') && !document.querySelector('#offline-export').hidden"
    )
    assert page.evaluate(QUEUE_SIZE) == 1
    assert Mark.objects.get(lesson=lesson, student_id=students[0]).value.code == "10"
    page.evaluate("() => document.querySelector(\"form[action$='/logout/']\").submit()")
    page.wait_for_url("**/accounts/login/**")
    page.wait_for_function("async () => !(await caches.keys()).some(n => n.startsWith('classbook-'))")
    assert page.evaluate(QUEUE_SIZE) == 0
