"""No template carries inline script or style, so the strict Content-Security-Policy holds on every page.

Behaviour lives in static files bound by data attributes (classbook/static/classbook/app.js; how to add
some: docs/development.md). Templates rendered only into PDFs by WeasyPrint (``*_pdf.html``) never reach
a browser and may keep a ``<style>`` element; they may not carry script either.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_agnostic  # no database: run on SQLite only by scripts/test

ROOT = Path(__file__).resolve().parent.parent / "classbook"
TEMPLATES = sorted(p for p in ROOT.rglob("*.html") if ".venv" not in p.parts)

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.IGNORECASE)
DATA_BLOCK = re.compile(r"""\btype\s*=\s*["']?application/json\b""", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"""[\s"'/]on[a-z]+\s*=""", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript\s*:", re.IGNORECASE)
HTMX_INLINE = re.compile(r"\b(?:data-)?hx-on\b|\b(?:data-)?hx-vars\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"""[\s"']style\s*=""", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)


def inline_problems(text: str, *, pdf_only: bool = False) -> list[str]:
    """What in ``text`` a strict CSP (script-src/style-src 'self') would block or that runs as inline script."""
    problems = []
    for tag in SCRIPT_TAG.findall(text):
        if not re.search(r"\bsrc\s*=", tag, re.IGNORECASE) and not DATA_BLOCK.search(tag):
            problems.append(f"inline script: {tag}")
    problems += [f"event handler attribute: {m.group(0).strip()}" for m in EVENT_HANDLER.finditer(text)]
    problems += [f"javascript: URL near {m.start()}" for m in JAVASCRIPT_URL.finditer(text)]
    problems += [f"htmx inline script: {m.group(0)}" for m in HTMX_INLINE.finditer(text)]
    problems += [f"style attribute near {m.start()}" for m in STYLE_ATTRIBUTE.finditer(text)]
    if not pdf_only:
        problems += [f"<style> element near {m.start()}" for m in STYLE_ELEMENT.finditer(text)]
    return problems


def test_the_scan_sees_the_templates():
    assert len(TEMPLATES) >= 90
    assert ROOT / "templates" / "base.html" in TEMPLATES


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_no_inline_script_or_style(path):
    problems = inline_problems(path.read_text(encoding="utf-8"), pdf_only=path.name.endswith("_pdf.html"))
    assert not problems, problems


@pytest.mark.parametrize(
    "snippet",
    [
        "<script>alert(1)</script>",
        '<script type="text/javascript">x()</script>',
        '<script type="module">x()</script>',
        '<select onchange="this.form.submit()">',
        "<button type=button onClick='print()'>",
        '<a href="#"\nonclick="x()">',
        '<a href="javascript:void(0)">',
        '<a href="JavaScript :x()">',
        '<button hx-on:click="x()">',
        '<button hx-on::after-request="x()">',
        '<button data-hx-on-click="x()">',
        '<div hx-vars="x: y()">',
        '<input style="width:100%">',
        "<p style='color:red'>",
        "<style>p { color: red }</style>",
    ],
)
def test_the_scan_catches_inline_script_and_style(snippet):
    assert inline_problems(snippet)


@pytest.mark.parametrize(
    "snippet",
    [
        "<script src=\"{% static 'classbook/app.js' %}\" defer></script>",
        '<script type="application/json" id="grid-config">{"a": 1}</script>',
        '<select name="period" data-autosubmit>',
        "<p>Marks are shown on the day they were given.</p>",
        '<link rel="stylesheet" href="/static/classbook/app.css">',
        '<a data-fill=\'{"id_start": "2026-09-01"}\' href="?start=2026-09-01">',
    ],
)
def test_the_scan_lets_static_script_data_blocks_and_data_attributes_through(snippet):
    assert not inline_problems(snippet)


def test_pdf_templates_may_keep_a_style_element_but_no_script():
    assert not inline_problems("<style>@page { size: A4 }</style>", pdf_only=True)
    assert inline_problems("<style>@page { size: A4 }</style><script>x()</script>", pdf_only=True)
