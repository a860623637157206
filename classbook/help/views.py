"""Help pages (R9.4): the index by role with search, and one article. No query of their own (docs/help.md)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.help import ACCOUNT, CLASS_TEACHER, PUBLIC, help_audiences, may_read_all_help, may_read_article
from classbook.help import queries
from classbook.people.models import Role

# The order of the groups on the index; the first group of the reader's that names an article lists it.
GROUPS = (
    (PUBLIC, _("Getting started")),
    (ACCOUNT, _("Your account")),
    (Role.TEACHER, Role.TEACHER.label),
    (CLASS_TEACHER, _("Class teacher")),
    (Role.DIRECTOR, Role.DIRECTOR.label),
    (Role.DEPUTY, Role.DEPUTY.label),
    (Role.ADMIN, Role.ADMIN.label),
    (Role.SECRETARY, Role.SECRETARY.label),
    (Role.PARENT, Role.PARENT.label),
    (Role.STUDENT, Role.STUDENT.label),
)


@dataclass(frozen=True)
class Group:
    title: str
    articles: list[queries.Article]


def _groups(audiences: frozenset[str], show_all: bool) -> list[Group]:
    placed: set[str] = set()
    groups = []
    for key, title in GROUPS:
        if not show_all and key not in audiences:
            continue
        items = [a for a in queries.articles() if key in a.audiences and a.slug not in placed]
        placed |= {a.slug for a in items}
        if items:
            groups.append(Group(str(title), items))
    return groups


def _index(request: HttpRequest, ctx: SchoolContext | None) -> HttpResponse:
    signed_in = request.user.is_authenticated
    may_all = may_read_all_help(ctx)
    show_all = may_all and request.GET.get("all") == "1"
    audiences = help_audiences(ctx, signed_in)
    query = request.GET.get("q", "").strip()[: queries.MAX_QUERY]
    readable = [a for a in queries.articles() if may_read_article(ctx, signed_in, a.audiences)]
    if not show_all:
        readable = [a for a in readable if a.audiences & audiences]
    context = {
        "query": query,
        "results": queries.search(query, readable) if query else None,
        "groups": [] if query else _groups(audiences, show_all),
        "may_all": may_all,
        "show_all": show_all,
    }
    return render(request, "help/index.html", context)


def _article(request: HttpRequest, ctx: SchoolContext | None, slug: str) -> HttpResponse:
    found = queries.article(slug)
    if found is None or not may_read_article(ctx, request.user.is_authenticated, found.audiences):
        raise Http404
    return render(request, "help/article.html", {"article": found})


def index(request: HttpRequest) -> HttpResponse:
    """``/help/``: outside a school only the activation, login and account articles."""
    return _index(request, None)


def article(request: HttpRequest, slug: str) -> HttpResponse:
    return _article(request, None, slug)


@school_view()
def school_index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """``/s/<school>/help/``: the articles for the reader's roles in the school (every one for staff who ask)."""
    return _index(request, ctx)


@school_view()
def school_article(request: HttpRequest, ctx: SchoolContext, slug: str) -> HttpResponse:
    return _article(request, ctx, slug)
