"""The site's chrome (the parts of every page around its content), rendered once per distinct input.

The navigation (``_nav.html`` and its includes) is a function of the user's school context alone: every link
shows by a named rule of ``classbook.access`` on the context (``access_tags``), its address by ``{% url %}``
and its text by the language. ``{% site_nav %}`` renders it once per (language, script prefix, context) and
reuses the text: on a grid page its ~20 ``reverse()`` calls, ~40 translations and ~20 rules cost more CPU than
a tenth of the page's raw-SQL floor (issue 10). The context's every field is in the key, so a changed role,
class or child (a new context on the next request) renders anew: nothing is kept that a request could not
recompute. A rule that looks beyond the context (the database, the request) must not be used in the navigation.

The rest of ``base.html``'s chrome is kept the same way: ``{% chrome_head %}`` (``chrome/head.html``: the
scripts and the manifest) and ``{% chrome_header %}`` (``chrome/header.html``: the skip link and the top bar
with the menu, the help link, the account and the language form) render their template once per key and reuse
the text. Each part is rendered with stand-ins that hold exactly its key (``_UserPart``, ``_RequestPart``), so
the template cannot read anything else of the user or the request: what it does not see, it cannot keep
stale. Nothing per request is kept: the CSRF token and ``request.get_full_path`` are rendered as markers, the
kept text is split around them and they are filled in on every request (the messages and the page's blocks
stay in ``base.html``). So is the help link, which depends on the page: it is kept per page and audiences by
``help_tags`` itself, and the header per user, not per user and page. Without a request or a CSRF token (a
template rendered outside a request) the part is rendered as a plain ``{% include %}``;
``tests/test_chrome_base.py`` compares both for every persona and language.
"""

from __future__ import annotations

import dataclasses
import operator
import re
import secrets
from collections.abc import Callable
from typing import Any

from django import template
from django.db.models import Model
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from classbook.core.inline_styles import css_text
from classbook.core.kept import Kept

register = template.Library()

# The navigations' texts and the parts' pieces (their text split around the per-request markers), at most 2,048
# (a few kilobytes each); then the store starts again.
_kept: Kept[Any] = Kept(2048)


_getters: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _fields_of(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of every field of the dataclass ``cls``, as a tuple (looked up once per class)."""
    getter = _getters.get(cls)
    if getter is None:
        names = [f.name for f in dataclasses.fields(cls)]
        getter = _getters[cls] = (
            operator.attrgetter(*names) if len(names) > 1 else lambda obj: (getattr(obj, names[0]),)
        )
    return getter


def nav_key(ctx: Any) -> tuple[Any, ...]:
    """What the navigation depends on: the language, the script prefix and every field of the context (its
    school and user by id, the school's slug for the addresses)."""
    if ctx is None:
        return (get_language(), get_script_prefix(), None)
    values = tuple(v.pk if isinstance(v, Model) else v for v in _fields_of(type(ctx))(ctx))
    return (get_language(), get_script_prefix(), ctx.school.slug, *values)


@register.simple_tag(takes_context=True)
def site_nav(context: template.Context) -> SafeString:
    """``{% include "_nav.html" %}`` with the same text, rendered once per ``nav_key``."""
    ctx = context.get("ctx")
    key = nav_key(ctx)
    html = _kept.get(key)
    if html is None:
        html = render_to_string("_nav.html", {"ctx": ctx})
        _kept.keep(key, html)
    return mark_safe(html)  # noqa: S308 - the template's own output, autoescaped when rendered


# Where the per-request values go in a kept part: text no template writes (a NUL and this process's random
# word), unchanged by escaping.
_MARK = secrets.token_hex(8)
CSRF_MARK = f"\x00csrf-{_MARK}\x00"
NEXT_MARK = f"\x00next-{_MARK}\x00"
HELP_MARK = f"\x00help-{_MARK}\x00"
_MARKS = re.compile(f"({re.escape(CSRF_MARK)}|{re.escape(NEXT_MARK)}|{re.escape(HELP_MARK)})")


@dataclasses.dataclass(frozen=True)
class _UserPart:
    """What a kept part may read of ``user``: its part of the key."""

    is_authenticated: bool
    pk: Any = None
    short_name: str = ""


class _RequestPart:
    """What a kept part may read of ``request``: nothing but markers. The address is filled in per request, and
    so is the help link (``{% help_link %}`` gives ``help_link_slot``; the link is kept per page and audiences
    in ``help_tags``, so the header is kept per user, not per user and page)."""

    help_link_slot = HELP_MARK

    def get_full_path(self) -> str:
        return NEXT_MARK


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _plain(context: template.Context, name: str) -> SafeString:
    """The part as ``{% include name %}`` renders it: outside a request, the reference of the tests, and the help
    link filled into a kept header (``chrome/help_link.html``)."""
    part = context.template.engine.get_template(name)  # type: ignore[union-attr]
    with context.push():
        return mark_safe(part.render(context).removesuffix("\n"))  # noqa: S308 - the template's own output


def _kept_part(key: tuple[Any, ...], values: Callable[[], dict[str, Any]]) -> tuple[str, ...]:
    """The part ``key[0]`` rendered with ``values()`` (its whole context, built from the key alone), split
    around the markers; kept per key."""
    pieces: tuple[str, ...] | None = _kept.get(key)
    if pieces is None:
        text = render_to_string(key[0], {"csrf_token": CSRF_MARK, **values()}).removesuffix("\n")
        pieces = tuple(_MARKS.split(text))
        _kept.keep(key, pieces)
    return pieces


@register.simple_tag(takes_context=True)
def chrome_head(context: template.Context) -> SafeString:
    """``chrome/head.html`` (the scripts and the manifest), kept per (language, script prefix, signed in)."""
    key = ("chrome/head.html", get_language(), get_script_prefix(), _signed_in(context.get("user")))
    pieces = _kept_part(key, lambda: {"user": _UserPart(key[3])})
    return mark_safe(pieces[0] if len(pieces) == 1 else "".join(pieces))  # noqa: S308 - the template's output


@register.simple_tag(takes_context=True)
def chrome_header(context: template.Context) -> SafeString:
    """``chrome/header.html`` (the skip link and the top bar), kept per (language, script prefix, school context,
    the school's name, the user's sign-in, id and name); the CSRF token, the address for the language form and
    the help link (``help_tags``, kept per page and audiences there) filled in per request."""
    request = context.get("request")
    token = context.get("csrf_token")
    if request is None or not token or token == "NOTPROVIDED":  # noqa: S105 - csrf's marker of no token
        return _plain(context, "chrome/header.html")
    ctx = context.get("ctx")
    user: Any = context.get("user")
    user_key = (True, user.pk, user.short_name) if _signed_in(user) else (False, None, "")
    key = (
        "chrome/header.html",
        nav_key(ctx),  # the language and the script prefix first
        str(ctx.school) if ctx is not None else None,
        user_key,
    )
    pieces = _kept_part(
        key,
        lambda: {
            "ctx": ctx,
            "user": _UserPart(*user_key),
            "request": _RequestPart(),
        },
    )
    values = {
        CSRF_MARK: escape(str(token)),
        NEXT_MARK: escape(request.get_full_path()),
        HELP_MARK: _plain(context, "chrome/help_link.html"),  # ``{% help_link %}``: core imports no app
    }
    return mark_safe("".join([values.get(p, p) for p in pieces]))  # noqa: S308 - the values escaped as rendered


@register.simple_tag
def inline_style(name: str) -> SafeString:
    """``<style>`` with the static stylesheet ``name`` (one of ``settings.INLINE_STYLES``, whose hashes the
    Content-Security-Policy allows): no round trip before the first paint (``classbook/core/inline_styles.py``)."""
    return mark_safe(f"<style>{css_text(name)}</style>")  # noqa: S308 - our own static file, not user input
