"""The grid's script through a database outage, in a real browser (issue #9, ``journal-grid.js``).

A save the server answers 503 (the database away), or does not answer at all, stays pending in the cell and is
sent again until the server acknowledges it; when the answer of a save that did commit is lost, the retry's
409 showing the sent value counts as the acknowledgement, and the cell takes that version. Playwright's
routing plays the outage between the page and the live server.
"""

# ruff: noqa: F811 - the browser fixture is imported and used as an argument

from __future__ import annotations

import os

import pytest
from django.urls import reverse
from django.utils import timezone

from classbook.journal import services
from classbook.journal.models import JournalChange, Mark
from tests import factories as f
from tests.journal.test_browser_grid import CHROMIUM, browser, logged_in_page  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.browser,
    pytest.mark.outage,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]

UNAVAILABLE = '{"error": {"code": "unavailable", "message": "The journal could not reach its database."}}'


def _grid(world, live_server, browser, students=1):
    assignment = world.teacher.teaching_assignments.get()
    f.make_grid(assignment, students=students, lessons=0)
    lesson = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=timezone.localdate())
    page = logged_in_page(browser, live_server, world.teacher, service_workers="block")  # routes its saves
    page.set_default_timeout(15000)
    page.goto(live_server.url + reverse("journal:grid", args=[world.school.slug, assignment.pk]))
    return page, lesson


def test_a_save_the_server_could_not_take_stays_pending_and_is_sent_again(world, live_server, browser):
    page, lesson = _grid(world, live_server, browser)
    attempts = []

    def outage(route):
        attempts.append(1)
        if len(attempts) == 1:
            route.abort("connectionreset")  # no answer at all
        elif len(attempts) == 2:
            route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json", body=UNAVAILABLE)
        else:
            route.continue_()

    page.route("**/cell/", outage)
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('td.saving[title*=\"database\"]') !== null")
    assert page.evaluate("document.documentElement.dataset.saving") == "1"  # pending, not given up
    assert page.locator("td.error").count() == 0
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert len(attempts) == 3
    assert page.locator("td.error, td.conflict, td.saving").count() == 0
    assert list(Mark.objects.filter(lesson=lesson).values_list("value__code", flat=True)) == ["10"]


def test_a_save_whose_answer_was_lost_after_the_commit_is_acknowledged_by_the_retry(world, live_server, browser):
    page, lesson = _grid(world, live_server, browser)
    attempts = []

    def answer_lost(route):
        attempts.append(1)
        if len(attempts) == 1:
            route.fetch()  # the server saves it ...
            route.abort("connectionreset")  # ... and the answer never reaches the page
        else:
            route.continue_()

    page.route("**/cell/", answer_lost)
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert page.locator("td.error, td.conflict").count() == 0  # the retry's 409 holds "10": it is the save
    # The cell took the stored version: the next change to it saves without a conflict.
    page.keyboard.press("ArrowUp")
    page.keyboard.type("11")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.documentElement.dataset.saving === '0'")
    assert page.locator("td.error, td.conflict").count() == 0
    assert list(Mark.objects.filter(lesson=lesson).values_list("value__code", flat=True)) == ["11"]
    assert JournalChange.objects.filter(lesson=lesson, kind="mark").count() == 2  # saved once, changed once
