"""Issue 5's acceptance flow in Debian's chromium: a parent logs in, switches between two children,
sees a mark the teacher has just entered, and writes to the class teacher, who then reads it."""

from __future__ import annotations

import os

import pytest
from django.db import connections
from django.urls import reverse

from classbook.journal import services as journal
from classbook.messaging.models import Message
from classbook.people.models import GuardianLink
from tests.diary.conftest import MONDAY
from tests.factories import PASSWORD
from tests.journal.test_browser_grid import CHROMIUM

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.django_db(transaction=True),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def chromium():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()
        connections.close_all()  # the live server's threads held connections; PostgreSQL drops the test DB


def log_in(browser, live_server, username):
    """Through the real login form, as a person does."""
    page = browser.new_context(locale="uk-UA").new_page()
    page.set_default_timeout(8000)
    page.goto(live_server.url + reverse("people:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "/accounts/login" not in page.url, "the login failed"
    return page


def test_parent_switches_children_sees_a_new_mark_and_writes_to_the_class_teacher(world, diary, live_server, chromium):
    # The parent's second child, in another class.
    GuardianLink.objects.create(school=world.school, guardian=world.parent, student=world.other_student, relation="")
    slug = world.school.slug
    parent = log_in(chromium, live_server, world.parent.username)

    # Both children are in the switcher; the second one's diary opens from it.
    parent.goto(live_server.url + reverse("diary:week", args=[slug, world.student.pk, MONDAY.isoformat()]))
    kids = parent.locator("nav.dy-kids a")
    assert kids.count() == 2
    parent.locator(f'nav.dy-kids a[href*="/diary/{world.other_student.pk}/"]').click()
    parent.wait_for_load_state()
    assert f"/diary/{world.other_student.pk}/" in parent.url
    assert world.other_student.user.last_name in parent.locator("h1.dy-h").inner_text()

    # The teacher enters a mark now; switching back to the first child shows it at once.
    thursday = diary.thu_math
    journal.record_mark(acting_user=world.teacher, lesson=thursday, student=world.student, text="7", expected_version=0)
    parent.goto(live_server.url + reverse("diary:week", args=[slug, world.student.pk, MONDAY.isoformat()]))
    day_text = parent.locator("main").inner_text()
    assert "7" in day_text and "10" in day_text  # the new mark beside Monday's

    # A message to the class teacher about the first child.
    parent.goto(live_server.url + reverse("messaging:new", args=[slug]) + f"?student={world.student.pk}")
    parent.locator(f'input[name="recipients"][value="{world.class_teacher.pk}"]').check()
    parent.fill("#id_subject", "Контрольна в четвер")
    parent.fill("#id_body", "Доброго дня! Чи можна переписати контрольну?")
    parent.locator("button.primary").click()
    parent.wait_for_load_state()
    assert Message.objects.filter(sender=world.parent).count() == 1

    teacher = log_in(chromium, live_server, world.class_teacher.username)
    teacher.goto(live_server.url + reverse("messaging:inbox", args=[slug]))
    assert "Контрольна в четвер" in teacher.locator("main").inner_text()
    teacher.locator("text=Контрольна в четвер").first.click()
    teacher.wait_for_load_state()
    assert "Чи можна переписати контрольну?" in teacher.locator("main").inner_text()
