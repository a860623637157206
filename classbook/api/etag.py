"""``ETag`` / ``If-None-Match`` on the API's heavy reads (issue 18): the journal grid and the diary week.

The tag is a digest of the *state* the answer is built from — a short tuple read in one query by the read
model's freshness module (``journal.freshness``, ``diary.freshness``) — plus what else shapes the answer:
the viewer (user, roles, what they may edit), the day (lessons turn late, closed or past) and the language.
A request whose ``If-None-Match`` names the current tag gets ``304 Not Modified`` with no body, before the
answer is built; any other gets the answer with its ``ETag``. Tags are weak (``W/"..."``): two answers
with the same tag mean the same thing, byte equality is not promised. ``Cache-Control: private, no-cache``
makes every cache revalidate (the answers are personal and change often); ``Vary`` names what the answer
depends on besides the URL.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

from classbook.access.context import SchoolContext

# Bump when an answer's shape changes, so clients holding a tag of the old shape fetch the new one.
SHAPE = "1"


def make_etag(ctx: SchoolContext, kind: str, state: tuple[Any, ...], *extra: Any) -> str:
    viewer = (ctx.user.pk, tuple(sorted(ctx.roles)))
    parts = (SHAPE, kind, viewer, timezone.localdate().isoformat(), get_language(), state, extra)
    return 'W/"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def matches(request: HttpRequest, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 13.1.2) or is ``*``."""
    header = request.headers.get("If-None-Match", "")
    if not header:
        return False
    wanted = _opaque(etag)
    return any(t.strip() == "*" or _opaque(t) == wanted for t in header.split(","))


def not_modified(etag: str) -> HttpResponse:
    return tagged(HttpResponse(status=304), etag)


def tagged(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    response["Vary"] = "Authorization, Cookie, Accept-Language"
    return response
