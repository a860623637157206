"""Every persona follows every link it is shown (two clicks deep) and never meets a server error.

A link shown to a user must also open for them: a page that lists a link answering 403/404
is a broken promise in the interface. Every page visited carries the strict Content-Security-Policy, and none
but the journal grid weighs more than 100 KiB of HTML.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import client_for
from tests.test_csp import STRICT, disallowed_styles, parse_policy

LINK_RE = re.compile(r'href="(/[^"#]*)"')
SKIP = ("/static/", "/media/", "/django-admin/", "/api/v1/docs", "/accounts/logout")
# Page weight (issue 14): no page's HTML over 100 KiB except the journal grid (a class × a period's lessons).
MAX_HTML = 100 * 1024
HEAVY_ALLOWED = re.compile(r"^/s/[^/]+/journal/\d+/")
PERSONAS = ["admin", "director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]


def _links(html: str, base: str) -> set[str]:
    found = set()
    for href in LINK_RE.findall(html):
        url = urljoin(base, href.replace("&amp;", "&"))
        # Downloads are not pages, with or without a query (the book of orders' ``book.pdf?year=1``).
        if not url.startswith(SKIP) and not urlsplit(url).path.endswith((".pdf", ".csv", ".ics", ".zip")):
            found.add(url)
    return found


def crawl(client, starts, depth: int = 3, on_page=None) -> dict[str, int]:
    """Every page reachable from ``starts`` in ``depth`` clicks: {url: status}. ``on_page(url, response)`` sees each
    answer (tests/test_interface_browser.py keeps the HTML pages to load them in a browser)."""
    seen: dict[str, int] = {}
    frontier = set(starts)
    for _depth in range(depth):
        next_frontier: set[str] = set()
        for url in sorted(frontier - set(seen)):
            response = client.get(url)
            seen[url] = response.status_code
            if on_page is not None:
                on_page(url, response)
            if response.streaming:  # a download: close its file (closing the response would end the transaction)
                for close in getattr(response, "_resource_closers", ()):
                    close()
            if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
                next_frontier |= _links(response.content.decode(), url)
        frontier = next_frontier
    return seen


@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_follows_every_shown_link_without_errors(world, persona):
    client = client_for(world.persona(persona))
    start = f"/s/{world.school.slug}/"
    without_policy: list[str] = []
    heavy: dict[str, int] = {}

    def check_policy(url, response):
        is_html = response.status_code == 200 and "text/html" in response.get("Content-Type", "")
        policy = response.get("Content-Security-Policy", "")
        if parse_policy(policy) != STRICT or (is_html and disallowed_styles(response.content.decode(), policy)):
            without_policy.append(url)
        if is_html and len(response.content) > MAX_HTML and not HEAVY_ALLOWED.match(urlsplit(url).path):
            heavy[url] = len(response.content)

    seen = crawl(client, {start, "/accounts/profile/"}, on_page=check_policy)
    errors = {u: s for u, s in seen.items() if s >= 500}
    refused = {u: s for u, s in seen.items() if s in (403, 404) and urlsplit(u).path != start}
    assert not errors, errors
    assert not refused, f"links shown to {persona} that refuse them: {refused}"
    assert not without_policy, f"pages without the strict Content-Security-Policy: {without_policy}"
    assert not heavy, f"pages over {MAX_HTML // 1024} KiB of HTML: {heavy}"
    assert len(seen) > 2
