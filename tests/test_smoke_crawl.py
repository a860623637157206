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
from tests.test_csp import STRICT, parse_policy

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
        if not url.startswith(SKIP) and not url.endswith((".pdf", ".csv", ".ics")):
            found.add(url)
    return found


@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_follows_every_shown_link_without_errors(world, persona):
    client = client_for(world.persona(persona))
    start = f"/s/{world.school.slug}/"
    seen: dict[str, int] = {}
    without_policy: list[str] = []
    heavy: dict[str, int] = {}
    frontier = {start, "/accounts/profile/"}
    for _depth in range(3):
        next_frontier: set[str] = set()
        for url in sorted(frontier - set(seen)):
            response = client.get(url)
            seen[url] = response.status_code
            if parse_policy(response.get("Content-Security-Policy", "")) != STRICT:
                without_policy.append(url)
            if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
                next_frontier |= _links(response.content.decode(), url)
                if len(response.content) > MAX_HTML and not HEAVY_ALLOWED.match(urlsplit(url).path):
                    heavy[url] = len(response.content)
        frontier = next_frontier
    errors = {u: s for u, s in seen.items() if s >= 500}
    refused = {u: s for u, s in seen.items() if s in (403, 404) and urlsplit(u).path != start}
    assert not errors, errors
    assert not refused, f"links shown to {persona} that refuse them: {refused}"
    assert not without_policy, f"pages without the strict Content-Security-Policy: {without_policy}"
    assert not heavy, f"pages over {MAX_HTML // 1024} KiB of HTML: {heavy}"
    assert len(seen) > 2
