"""The site's chrome (the parts of every page around its content), rendered once per distinct input.

The navigation (``_nav.html`` and its includes) is a function of the user's school context alone: every link
shows by a named rule of ``classbook.access`` on the context (``access_tags``), its address by ``{% url %}``
and its text by the language. ``{% site_nav %}`` renders it once per (language, script prefix, context) and
reuses the text: on a grid page its ~20 ``reverse()`` calls, ~40 translations and ~20 rules cost more CPU than
a tenth of the page's raw-SQL floor (issue 10). The context's every field is in the key, so a changed role,
class or child (a new context on the next request) renders anew: nothing is kept that a request could not
recompute. A rule that looks beyond the context (the database, the request) must not be used in the navigation.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from django import template
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from classbook.core.inline_styles import css_text

register = template.Library()

# At most this many distinct navigations are kept (a few kilobytes each); then the cache starts again.
MAX_KEPT = 2048
_kept: dict[tuple[Any, ...], str] = {}
_lock = threading.Lock()


def _field_names(ctx: Any) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(ctx))


def nav_key(ctx: Any) -> tuple[Any, ...]:
    """What the navigation depends on: the language, the script prefix and every field of the context (its
    school and user by id, the school's slug for the addresses)."""
    if ctx is None:
        return (get_language(), get_script_prefix(), None)
    values = tuple(v.pk if isinstance(v, Model) else v for v in (getattr(ctx, name) for name in _field_names(ctx)))
    return (get_language(), get_script_prefix(), ctx.school.slug, *values)


@register.simple_tag(takes_context=True)
def site_nav(context: template.Context) -> SafeString:
    """``{% include "_nav.html" %}`` with the same text, rendered once per ``nav_key``."""
    ctx = context.get("ctx")
    key = nav_key(ctx)
    html = _kept.get(key)
    if html is None:
        html = render_to_string("_nav.html", {"ctx": ctx})
        with _lock:
            if len(_kept) >= MAX_KEPT:
                _kept.clear()
            _kept[key] = html
    return mark_safe(html)  # noqa: S308 - the template's own output, autoescaped when rendered


@register.simple_tag
def inline_style(name: str) -> SafeString:
    """``<style>`` with the static stylesheet ``name`` (one of ``settings.INLINE_STYLES``, whose hashes the
    Content-Security-Policy allows): no round trip before the first paint (``classbook/core/inline_styles.py``)."""
    return mark_safe(f"<style>{css_text(name)}</style>")  # noqa: S308 - our own static file, not user input
