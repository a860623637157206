"""The real flow in a browser: a class teacher prints a slip, the parent activates the account (R1.2)."""

from __future__ import annotations

import io
import os
import re
import shutil

import pytest
from pypdf import PdfReader

from tests.factories import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium"),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the test are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


def test_class_teacher_prints_a_slip_and_the_parent_activates_with_it(world, live_server, browser):
    teacher = browser.new_page(viewport={"width": 390, "height": 844}, accept_downloads=True)
    teacher.goto(live_server.url + "/accounts/login/")
    teacher.fill("#id_username", "classteacher")
    teacher.fill("#id_password", PASSWORD)
    teacher.click("button.primary")
    teacher.goto(live_server.url + "/s/lyceum-1/people/codes/")
    teacher.check(f"input[name=user][value='{world.parent.pk}']")
    with teacher.expect_download() as download:
        teacher.click("button[form=issue-form]")
    with open(download.value.path(), "rb") as fh:
        pdf = PdfReader(io.BytesIO(fh.read()))
    text = pdf.pages[0].extract_text()
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", text).group(0)

    parent = browser.new_page(viewport={"width": 390, "height": 844})
    parent.goto(live_server.url + "/accounts/login/")
    parent.click("a[href='/accounts/activate/']")
    parent.fill("#id_code", code.lower())
    parent.click("button.primary")
    parent.fill("#id_new_password1", "sunflower-meadow-river-9")
    parent.fill("#id_new_password2", "sunflower-meadow-river-9")
    parent.click("button.primary")
    parent.goto(live_server.url + "/accounts/profile/")
    assert "(parent)" in parent.content()
