"""A teacher fills a lesson from the keyboard only, in a real browser (R2.1, R2.3, R2.8).

Playwright's sync API drives Debian's chromium against the live server. Playwright runs an event loop
in this thread, so Django's async-safety check is relaxed for this module.
"""

from __future__ import annotations

import os

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classbook.journal import services
from classbook.journal.models import Attendance, JournalChange, Lesson, Mark
from tests import factories as f

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser():
    """One chromium for the module's tests (each opens its own context: no cookies or pages are shared)."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
        # Database work done inside Playwright's context opened connections of its own (the context
        # variables differ there); close them, or PostgreSQL refuses to drop the test database.
        connections.close_all()


def logged_in_page(browser, live_server, user, service_workers="allow"):
    """A page of a new context with ``user`` logged in. ``service_workers="block"`` for a test that routes the
    page's own requests: the teacher's grid registers the offline worker (docs/offline.md), and Playwright's
    ``page.route`` does not see requests that pass through a service worker."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="uk-UA", service_workers=service_workers)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(5000)
    page.on("pageerror", lambda err: print("page error:", err))
    return page


@pytest.mark.django_db(transaction=True)
def test_teacher_fills_a_lesson_from_the_keyboard(world, live_server, browser):
    assignment = world.teacher.teaching_assignments.get()
    f.make_grid(assignment, students=2, lessons=0)
    today = timezone.localdate()
    yesterday = services.create_lesson(
        acting_user=world.teacher, assignment=assignment, date=today - timezone.timedelta(days=1)
    )
    lesson = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=today)

    page = logged_in_page(browser, live_server, world.teacher)
    url = live_server.url + reverse("journal:grid", args=[world.school.slug, assignment.pk])
    page.goto(url)
    rows = page.locator("table.jgrid tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.s))")
    assert len(rows) == 3
    # The grid opens on today's lesson, first student, ready for typing.
    assert page.locator("td.sel").get_attribute("data-l") == str(lesson.pk)

    page.keyboard.type("н")
    page.keyboard.press("Enter")
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    # Straight on to the lesson part: T jumps to the topic of the selected lesson.
    page.keyboard.press("t")
    page.keyboard.type("Додавання дробів")
    page.keyboard.press("Tab")  # lesson type
    page.keyboard.press("Tab")  # homework
    page.keyboard.type("№ 125, 127")
    page.keyboard.press("Tab")

    # Wait in the page, not in the database: on SQLite the live server shares this thread's
    # connection, so the test must not query while the server writes.
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert page.locator(f"#lesson-{lesson.pk} .lstatus.ok").count() == 1
    assert page.locator("td.error, td.conflict").count() == 0

    page.reload()
    cells = [page.locator(f'td[data-l="{lesson.pk}"][data-s="{sid}"]').inner_text().strip() for sid in rows]
    assert cells == ["н", "10", "9"]
    assert page.locator(f"#topic-{lesson.pk}").input_value() == "Додавання дробів"
    assert page.locator(f"#homework-{lesson.pk}").input_value() == "№ 125, 127"
    assert page.locator(f'td[data-l="{yesterday.pk}"]').first.inner_text().strip() == ""
    # Entering an absence took today's register; yesterday's is taken with its button ("nobody absent").
    assert page.locator(f"#lesson-{lesson.pk} .badge.register").count() == 1
    page.locator(f"#lesson-{yesterday.pk} .take-register").click()
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert page.locator(f"#lesson-{yesterday.pk} .badge.register").count() == 1

    assert Attendance.objects.get(lesson=lesson).student_id == rows[0]
    marks = dict(Mark.objects.filter(lesson=lesson).values_list("student_id", "value__code"))
    assert marks == {rows[1]: "10", rows[2]: "9"}
    assert Lesson.objects.get(pk=yesterday.pk).register_taken_at is not None
    saved = Lesson.objects.get(pk=lesson.pk)
    assert saved.topic == "Додавання дробів" and saved.register_taken_at is not None
    assert (
        JournalChange.objects.filter(lesson=lesson, actor=world.teacher, kind__in=["mark", "attendance"]).count() == 3
    )


@pytest.mark.django_db(transaction=True)
def test_teacher_adds_a_control_work_column_and_fills_it_from_the_keyboard(world, live_server, browser):
    from classbook.journal.models import WorkType

    assignment = world.teacher.teaching_assignments.get()
    f.make_grid(assignment, students=1, lessons=0)
    lesson = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=timezone.localdate())
    control = WorkType.objects.get(school=world.school, code="control")

    page = logged_in_page(browser, live_server, world.teacher)
    page.goto(live_server.url + reverse("journal:grid", args=[world.school.slug, assignment.pk]))
    rows = page.locator("table.jgrid tbody tr").evaluate_all("rows => rows.map(r => Number(r.dataset.s))")
    page.locator("#add-column-lesson").select_option(str(lesson.pk))
    page.locator('#add-column select[name="add_wt"]').select_option(str(control.pk))
    page.locator("#add-column button").click()
    page.wait_for_selector(f'thead th[data-w="{control.pk}"]')
    # The keyboard starts in the new column, first student.
    assert page.locator("td.sel").get_attribute("data-w") == str(control.pk)
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert page.locator("td.error, td.conflict").count() == 0

    page.goto(live_server.url + reverse("journal:grid", args=[world.school.slug, assignment.pk]))
    cells = [page.locator(f'td[data-w="{control.pk}"][data-s="{sid}"]').inner_text().strip() for sid in rows[:2]]
    assert cells == ["10", "9"]
    marks = dict(Mark.objects.filter(lesson=lesson, work_type=control).values_list("student_id", "value__code"))
    assert marks == {rows[0]: "10", rows[1]: "9"}


@pytest.mark.django_db(transaction=True)
def test_an_absence_over_a_mark_asks_and_an_invalid_entry_keeps_the_cursor_on_its_cell(world, live_server, browser):
    """Issue 10: never replace silently (the grid asks, then re-sends with replace); a refused entry keeps
    the cursor on its cell, shows the error beside it and gives the typed text back to fix."""
    assignment = world.teacher.teaching_assignments.get()
    f.make_grid(assignment, students=1, lessons=0)
    lesson = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=timezone.localdate())
    services.record_mark(acting_user=world.teacher, lesson=lesson, student=world.student, text="8", expected_version=0)

    page = logged_in_page(browser, live_server, world.teacher)
    page.goto(live_server.url + reverse("journal:grid", args=[world.school.slug, assignment.pk]))
    asked = []

    def answer(dialog):
        asked.append(dialog.message)
        if len(asked) == 1:
            dialog.dismiss()  # the first time: keep the mark
        else:
            dialog.accept()

    page.on("dialog", answer)
    cell = page.locator(f'td[data-l="{lesson.pk}"][data-s="{world.student.pk}"]')
    cell.click()
    page.keyboard.type("н")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert len(asked) == 1 and "8" in asked[0] and "н" in asked[0]
    assert cell.inner_text().strip() == "8"  # cancelled: the cell keeps its mark
    assert page.locator("td.sel").get_attribute("data-s") == str(world.student.pk)
    page.keyboard.type("н")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert len(asked) == 2 and cell.inner_text().strip() == "н"

    # A value off the scale: the cursor comes back to the cell, the error is shown at it, the text is back.
    other = page.locator(f'td[data-l="{lesson.pk}"]:not([data-s="{world.student.pk}"])')
    other.click()
    page.keyboard.type("13")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert page.locator("td.sel").get_attribute("data-s") == other.get_attribute("data-s")
    assert page.locator(".cell-msg").is_visible() and page.locator(".cell-msg").inner_text().strip()
    assert page.locator(".cell-editor").input_value() == "13"
    assert Attendance.objects.get(lesson=lesson).code.code == "н"
    assert list(Mark.objects.filter(lesson=lesson, value__isnull=False)) == []
