"""Every page the demo personas can reach, in Debian's chromium: no serious or critical accessibility violation
(axe-core, WCAG 2.1 A/AA rules) at 1366 px, and no horizontal page scroll at 390 px (issue 14, docs/interface.md).

One browser for the module and one page load per page: each page is checked by axe on a wide window, then the
same page is narrowed to a phone's width and its page scroll measured. The pages are the smoke crawl's
(tests/test_smoke_crawl.py) from each persona's start page, plus a week of lessons, marks and changes (the
diary fixture) so the timetable, the diary, the information letter and the journal have something to show.

No server runs: the browser's requests are answered by Django's test client in this thread (``Page.route``),
inside the test's transaction, so the module shares the world as other tests do. The pages do not depend on the
database engine, so the test runs on SQLite only. axe-core is vendored in tests/vendor/ (scripts/vendor-axe).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.urls import Resolver404, resolve, reverse
from django.utils import translation

from tests.conftest import client_for
from tests.diary.conftest import MONDAY, diary, media  # noqa: F401 - fixtures reused
from tests.journal.test_browser_grid import CHROMIUM
from tests.test_smoke_crawl import crawl

sync_api = pytest.importorskip("playwright.sync_api")

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PERSONAS = ["teacher", "class_teacher", "deputy", "director", "parent", "student"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
ORIGIN = "http://testserver"
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# The kinds of violation that fail the test; moderate and minor ones are reported by `AXE_REPORT=1`.
FAILING = {"serious", "critical"}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.skipif(connection.vendor == "postgresql", reason="the pages do not depend on the engine: SQLite only"),
]


def _starts(world, diary) -> set[str]:  # noqa: F811 - the fixture's value
    s = world.school.slug
    week = MONDAY.isoformat()
    return {
        f"/s/{s}/",
        "/accounts/profile/",
        reverse("timetable:my", args=[s]) + f"?date={week}",
        reverse("timetable:class", args=[s, world.class_a.pk]) + f"?date={week}",
        reverse("diary:week", args=[s, world.student.pk, week]),
        reverse("diary:marks", args=[s, world.student.pk]),
        reverse("diary:letter", args=[s, world.student.pk]) + f"?period={diary.period.pk}",
        reverse("planning:completion", args=[s]) + f"?as_of={(MONDAY + dt.timedelta(days=4)).isoformat()}",
        reverse("journal:grid", args=[s, diary.math.pk]),
    }


def _kind(url: str) -> str:
    """One page per view and persona: the same template with another id is the same page."""
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return url


def _pages(world, diary) -> dict[str, list[str]]:  # noqa: F811
    """{persona: [url, ...]}: the HTML pages the personas reach, each view once for the staff and once for the
    family (the first persona to reach it): the same template with other rows is the same page to check."""
    pages: dict[str, list[str]] = {}
    kinds: set[tuple[str, bool]] = set()
    for persona in PERSONAS:
        client = client_for(world.persona(persona))
        family = persona in ("parent", "student")

        def keep(url, response, persona=persona, family=family):
            if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
                if (_kind(url), family) not in kinds:
                    kinds.add((_kind(url), family))
                    pages.setdefault(persona, []).append(url)

        crawl(client, _starts(world, diary), on_page=keep)
    return pages


class Answerer:
    """Answers the browser's requests with Django's test client (the persona's session) or the static files."""

    def __init__(self, client):
        self.client = client
        self.errors: list[str] = []

    def __call__(self, route) -> None:
        try:
            self.answer(route)
        except Exception as exc:  # shown by the test: Playwright would only log it
            self.errors.append(f"{route.request.url}: {exc!r}")
            route.abort()

    def answer(self, route) -> None:
        request = route.request
        parts = urlsplit(request.url)
        if parts.netloc != "testserver":
            route.abort()
            return
        if parts.path.startswith("/static/"):
            found = finders.find(parts.path.removeprefix("/static/"))
            if not found:
                route.fulfill(status=404, body="")
                return
            kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
            route.fulfill(status=200, body=Path(found).read_bytes(), headers={"Content-Type": kind})
            return
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"HTTP_HX_REQUEST": "true"} if request.headers.get("hx-request") else {}
        if request.method == "GET":
            response = self.client.get(path, follow=True, **headers)
        else:  # a page's own script posting (htmx): the crawl only reads, so refuse it
            route.fulfill(status=405, body="")
            return
        if response.streaming:
            body = b"".join(response.streaming_content)
            for close in getattr(response, "_resource_closers", ()):
                close()
        else:
            body = response.content
        route.fulfill(status=response.status_code, body=body, headers={k: v for k, v in response.items()})


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def _summary(violations: list[dict]) -> list[str]:
    return [
        f"{v['impact']} {v['id']}: {v['help']} — {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in violations
    ]


def test_every_page_is_accessible_and_fits_a_phone(world, diary, chromium, monkeypatch):  # noqa: F811
    # Playwright's sync API dispatches the route handlers on its event loop in this thread; Django would take
    # that for an async context and refuse the database. The handler is synchronous code: allow it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    axe = AXE.read_text()
    pages = _pages(world, diary)
    if os.environ.get("UI_TIMES"):
        open(os.environ["UI_TIMES"], "a").write(f"pages {sum(map(len, pages.values()))}\n")
    failures: dict[str, list[str]] = {}
    overflow: dict[str, int] = {}
    loaded = 0
    with translation.override("uk"):
        for persona, urls in pages.items():
            context = chromium.new_context(viewport=WIDE, locale="uk-UA")
            context.add_init_script(axe)  # through the DevTools protocol: the strict CSP stays on
            answerer = Answerer(client_for(world.persona(persona)))
            context.route("**/*", answerer)
            page = context.new_page()
            page.set_default_timeout(15000)
            for url in urls:
                page.set_viewport_size(WIDE)
                try:
                    response = page.goto(ORIGIN + url, wait_until="load")
                finally:
                    assert not answerer.errors, answerer.errors
                assert response is not None and response.status == 200, (persona, url)
                loaded += 1
                if os.environ.get("UI_TIMES"):
                    import time

                    open(os.environ["UI_TIMES"], "a").write(f"{time.monotonic():.2f} {persona} {url}\n")
                result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
                bad = [v for v in result["violations"] if v["impact"] in FAILING]
                if os.environ.get("AXE_REPORT"):
                    bad = result["violations"]
                if bad:
                    failures[f"{persona} {url}"] = _summary(bad)
                    if os.environ.get("UI_TIMES"):
                        open(os.environ["UI_TIMES"], "a").write("\n".join(_summary(bad)) + "\n")
                page.set_viewport_size(PHONE)
                width = page.evaluate("document.scrollingElement.scrollWidth")
                if width > PHONE["width"]:
                    overflow[f"{persona} {url}"] = width
                    if os.environ.get("UI_TIMES"):
                        open(os.environ["UI_TIMES"], "a").write(f"OVERFLOW {width}\n")
            context.close()
    assert loaded > 30, pages
    assert not failures, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in failures.items())
    assert not overflow, f"pages wider than a 390 px phone (scrollWidth): {overflow}"
