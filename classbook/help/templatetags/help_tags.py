"""The header's "Help" link: the article that explains the current page, else the help index (R9.4).

The link is a function of the page's view name, the language, the script prefix, the school and the reader's
help audiences (``access.help``), the articles being files read once per process (``help.queries``): it is
kept per those (``_links``, a ``core.kept.Kept`` like the navigation's), so it costs a page a few dictionary
lookups. The header kept by ``{% chrome_header %}`` (``core/templatetags/chrome.py``) has a marker where the link
goes and fills it in per request from here, so the header is kept per user, not per user and page.
"""

from __future__ import annotations

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext

from classbook.access.context import SchoolContext
from classbook.access.help import help_audiences, may_read_all_help, may_read_article
from classbook.core.kept import Kept
from classbook.help import queries

register = template.Library()

# At most this many distinct links are kept (pages × languages × school × audiences); then the store starts again.
_links: Kept[SafeString] = Kept(2048)


def help_url(view_name: str, ctx: SchoolContext | None, signed_in: bool) -> str:
    """The URL of the article explaining ``view_name`` for the reader's roles (else one they may open), else of
    the index: a class teacher on the absence reports page gets the class teacher's article, not the parent's."""
    found = [a for s in queries.slugs_for_page(view_name) if (a := queries.article(s)) is not None]
    audiences = help_audiences(ctx, signed_in)
    own = [a for a in found if a.audiences & audiences]
    readable = [a for a in found if may_read_article(ctx, signed_in, a.audiences)]
    chosen = next(iter(own or readable), None)
    if ctx is not None:
        kwargs: dict[str, str] = {"school": ctx.school.slug}
        prefix = "school_help"
    else:
        kwargs, prefix = {}, "help"
    if chosen is None:
        return reverse(f"{prefix}:index", kwargs=kwargs)
    return reverse(f"{prefix}:article", kwargs={**kwargs, "slug": chosen.slug})


@register.simple_tag(takes_context=True)
def help_link(context: template.Context) -> SafeString:
    request = context.get("request")
    if request is None:
        return SafeString("")
    slot = getattr(request, "help_link_slot", None)
    if slot is not None:  # a header being kept (core/templatetags/chrome.py): the link is filled in per request
        return SafeString(slot)
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    signed_in = bool(getattr(getattr(request, "user", None), "is_authenticated", False))  # error pages too
    ctx = context.get("ctx")
    key = (
        get_language(),
        get_script_prefix(),
        view_name,
        ctx.school.slug if ctx is not None else None,
        help_audiences(ctx, signed_in),
        may_read_all_help(ctx),
    )
    link = _links.get(key)
    if link is None:
        url = help_url(view_name, ctx, signed_in)
        link = _links.keep(key, format_html('<a class="help-link" href="{}">{}</a>', url, gettext("Help")))
    return link
