"""Every page the demo personas can reach, in Debian's chromium: no serious or critical accessibility violation
(axe-core, WCAG 2.1 A/AA rules) at 1366 px, and no horizontal page scroll at 390 px (issue 14, docs/interface.md).

One browser for the module and one page load per page: each page is checked by axe on a wide window, then the
same page is narrowed to a phone's width and its page scroll measured. The pages are the smoke crawl's
(tests/test_smoke_crawl.py) from each demo persona's start page, plus a week of lessons, marks and changes (the
diary fixture) so the timetable, the diary, the information letter and the journal have something to show.

No server runs: the crawl fetches the pages with Django's test client and the browser gets them from
``Page.route`` (the route handler runs in Playwright's greenlet and touches no database). The pages do not depend on the
database engine, so the test runs on SQLite only. axe-core is vendored in tests/vendor/ (scripts/vendor-axe).
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
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
# Every demo persona: the staff's pages once (the first persona to reach a view), the family's once more. The
# administrator and the secretary reach the newer apps' administration (OneRoster, archive, printing, signing,
# documents, surveys, materials, portfolios), the viewer the authority's reports.
PERSONAS = ["teacher", "class_teacher", "deputy", "director", "admin", "secretary", "viewer", "parent", "student"]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
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
    # Its own world, committed: a page of the crawl may end the connection's transaction, and a shared world with it.
    pytest.mark.django_db(transaction=True),
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


SELF_CHECK = "/__axe-self-check__"
BAD_PAGE = b"<!doctype html><html><head><title>x</title></head><body><main><input type=text></main></body></html>"


def _pages(world, diary) -> dict[str, dict[str, tuple[bytes, dict[str, str]]]]:  # noqa: F811
    """{persona: {url: (html, headers)}}: the HTML pages the personas reach, each view once for the staff and
    once for the family (the first persona to reach it): the same template with other rows is the same page."""
    pages: dict[str, dict[str, tuple[bytes, dict[str, str]]]] = {}
    kinds: set[tuple[str, bool]] = set()
    for persona in PERSONAS:
        client = client_for(world.persona(persona))
        family = persona in ("parent", "student")

        def keep(url, response, persona=persona, family=family):
            html = response.status_code == 200 and "text/html" in response.get("Content-Type", "")
            if html and (_kind(url), family) not in kinds:
                kinds.add((_kind(url), family))
                pages.setdefault(persona, {})[url] = (response.content, dict(response.items()))

        crawl(client, _starts(world, diary), on_page=keep)
    return pages


class Answerer:
    """Answers the browser: the pages as the crawl received them, the static files from the finders, and an
    empty answer to anything else (an htmx poll). Nothing here touches the database: Playwright runs this in
    another greenlet, where Django would open another connection outside the test's transaction."""

    def __init__(self, pages: dict[str, tuple[bytes, dict[str, str]]]):
        self.pages = pages

    def __call__(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.netloc != "testserver":
            route.abort()
            return
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        if url in self.pages:
            body, headers = self.pages[url]
            route.fulfill(status=200, body=body, headers=headers)
        elif url == SELF_CHECK:
            route.fulfill(status=200, body=BAD_PAGE, headers={"Content-Type": "text/html"})
        elif parts.path.startswith("/static/") and (found := finders.find(parts.path.removeprefix("/static/"))):
            kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
            route.fulfill(status=200, body=Path(found).read_bytes(), headers={"Content-Type": kind})
        else:
            route.fulfill(status=204, body="")


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


def test_every_page_is_accessible_and_fits_a_phone(world, diary, chromium):  # noqa: F811
    axe = AXE.read_text()
    with translation.override("uk"):
        pages = _pages(world, diary)
    failures: dict[str, list[str]] = {}
    overflow: dict[str, int] = {}
    loaded = 0
    report_all = bool(os.environ.get("AXE_REPORT"))
    for persona, stored in pages.items():
        context = chromium.new_context(viewport=WIDE, locale="uk-UA")
        context.add_init_script(axe)  # through the DevTools protocol: the strict CSP stays on
        context.route("**/*", Answerer(stored))
        page = context.new_page()
        page.set_default_timeout(15000)
        for url in [SELF_CHECK, *stored] if not loaded else stored:
            page.set_viewport_size(WIDE)
            response = page.goto(ORIGIN + url, wait_until="load")
            assert response is not None and response.status == 200, (persona, url)
            result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
            if url == SELF_CHECK:  # axe runs and sees a field without a label
                assert "label" in {v["id"] for v in result["violations"]}, result["violations"]
                continue
            loaded += 1
            bad = [v for v in result["violations"] if report_all or v["impact"] in FAILING]
            if bad:
                failures[f"{persona} {url}"] = _summary(bad)
            page.set_viewport_size(PHONE)
            width = page.evaluate("document.scrollingElement.scrollWidth")
            if width > PHONE["width"]:
                overflow[f"{persona} {url}"] = width
        context.close()
    assert loaded > 30, pages.keys()
    assert not failures, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in failures.items())
    assert not overflow, f"pages wider than a 390 px phone (scrollWidth): {overflow}"
