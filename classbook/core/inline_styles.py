"""The site's stylesheets inlined into the page, allowed by their hash in the Content-Security-Policy.

A linked stylesheet blocks the first paint for one more round trip: on a phone's network (Slow 4G, 562 ms a
request) the diary's first visit waited for the page, then for ``app.css`` (issue 14, docs/performance.md).
``{% inline_style "classbook/app.css" %}`` (``core/templatetags/chrome.py``) puts the file's text into a
``<style>`` element instead; the policy stays strict: ``style-src 'self'`` plus the SHA-256 of each file that
may be inlined (``settings.INLINE_STYLES``), never ``'unsafe-inline'``, and ``style=`` attributes stay refused.

The text is the source file without its comments and indentation (a safe minification: whitespace between
tokens is kept), read once and kept while the file does not change (its modification time is part of the key,
so ``runserver`` shows an edited stylesheet without a restart and the policy follows it).
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders

COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


class NotInlinable(ValueError):
    """A stylesheet not listed in ``settings.INLINE_STYLES``: its hash is not in the policy."""


@lru_cache(maxsize=32)
def _source(name: str) -> Path:
    found = finders.find(name)
    if not found:
        raise NotInlinable(f"no static file {name}")
    return Path(str(found))


@lru_cache(maxsize=32)
def _text(path: Path, mtime_ns: int) -> str:
    text = COMMENT.sub("", path.read_text(encoding="utf-8"))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def css_text(name: str) -> str:
    """The inlined text of the static stylesheet ``name`` (one of ``settings.INLINE_STYLES``)."""
    if name not in settings.INLINE_STYLES:
        raise NotInlinable(f"{name} is not in settings.INLINE_STYLES (its hash would not be in the policy)")
    path = _source(name)
    return _text(path, path.stat().st_mtime_ns)


def csp_hash(text: str) -> str:
    """The CSP source that allows a ``<style>`` element with exactly ``text``."""
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def style_sources() -> list[str]:
    """The hash sources of every stylesheet that may be inlined, for ``style-src``."""
    return [csp_hash(css_text(name)) for name in settings.INLINE_STYLES]
