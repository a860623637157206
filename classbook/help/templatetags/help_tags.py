"""The header's "Help" link: the article that explains the current page, else the help index (R9.4)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from classbook.access.context import SchoolContext
from classbook.access.help import help_audiences, may_read_article
from classbook.help import queries

register = template.Library()


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
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match is not None else ""
    signed_in = bool(getattr(getattr(request, "user", None), "is_authenticated", False))  # error pages too
    url = help_url(view_name, context.get("ctx"), signed_in)
    return format_html('<a class="help-link" href="{}">{}</a>', url, gettext("Help"))
