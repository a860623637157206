"""The flows people really do, in Debian's chromium: the class teacher records a reason for several
absences; a parent reports a reason and reads the decision."""

from __future__ import annotations

import os

import pytest
from django.db import connections
from django.urls import reverse

from classbook.appeals.models import AbsenceReport
from classbook.journal.models import Attendance
from tests.appeals.conftest import MON, TUE
from tests.journal.test_browser_grid import CHROMIUM, logged_in_page

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

SHOTS = os.environ.get("APPEALS_SCREENSHOTS")  # a folder: save what the pages look like


@pytest.fixture(scope="module")
def chromium():
    """One chromium for the module's tests (each opens its own context: no cookies or pages are shared)."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        yield browser
        browser.close()
        # Playwright's thread opened database connections of its own; PostgreSQL must drop the test database.
        connections.close_all()


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_class_teacher_ticks_absences_and_records_one_reason(world, week, live_server, chromium):
    page = logged_in_page(chromium, live_server, world.class_teacher)
    url = live_server.url + reverse("appeals:absences", args=[world.school.slug])
    page.goto(f"{url}?class={world.class_a.pk}&from=2026-10-01&to=2026-10-07")
    for row in week.absences.values():
        page.locator(f'input[name="absence"][value="{row.pk}:{row.version}"]').check()
    page.select_option("#r-kind", "illness")
    page.fill("#r-reason", "довідка № 5")
    page.locator('input[name="excused"]').check()
    page.locator("button.primary").click()
    page.wait_for_selector(".msg")
    _shot(page, "absences")
    assert "2" in page.locator("#summary tbody tr td").nth(2).inner_text()  # excused: 2
    assert {(a.reason, a.reason_excused) for a in Attendance.objects.all()} == {("довідка № 5", True)}


def test_parent_reports_and_the_class_teacher_accepts(world, week, live_server, chromium):
    parent = logged_in_page(chromium, live_server, world.parent)
    parent.goto(live_server.url + reverse("appeals:new_report", args=[world.school.slug]))
    parent.fill("#id_start", MON.isoformat())
    parent.fill("#id_end", TUE.isoformat())
    parent.fill("#id_text", "Хворів, довідка № 9")
    parent.locator("button.primary").click()
    parent.wait_for_selector("#pending")
    _shot(parent, "reports-parent")
    assert AbsenceReport.objects.get().status == "pending"

    teacher = logged_in_page(chromium, live_server, world.class_teacher)
    teacher.goto(live_server.url + reverse("appeals:reports", args=[world.school.slug]))
    teacher.locator('#pending button[value="accept"]').click()
    teacher.wait_for_selector(".msg")
    _shot(teacher, "reports-class-teacher")
    assert AbsenceReport.objects.get().applied_count == 2

    parent.reload()
    # The report moved to the parent's "decided" list (the words are in the school's language).
    assert AbsenceReport.objects.get().status == "accepted"
    assert MON.strftime("%d.%m.%Y") in parent.locator("#decided").inner_text()
