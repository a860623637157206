"""What every table report's page and download share (attendance, filling, usage, curriculum): the filters'
defaults, the htmx page (the form, then the table and charts), and its XLSX / PDF download, built by one function.

A report module writes only its *builder* — ``(request, ctx) -> context`` with ``form``, ``title``,
``about``, ``export``, ``query``, and for a download ``head`` (``None`` or missing: nothing to download),
``rows``, ``notes`` — and gets its two views from :func:`report_views`, with the access rule every door of that
report uses and its templates (``TABLE`` unless the report has its own, as the curriculum's ``CURRICULUM``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.functional import Promise
from django.views.decorators.http import require_GET

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core.params import is_whole_number
from classbook.reports import exports, run_views, steps
from classbook.reports.attendance_forms import default_range
from classbook.schools.models import SchoolClass

Builder = Callable[[HttpRequest, SchoolContext], dict[str, Any]]
View = Callable[..., HttpResponseBase]


@dataclass(frozen=True)
class Templates:
    """A report's page, the part htmx swaps in, and its PDF."""

    page: str
    partial: str
    pdf: str


TABLE = Templates("reports/attendance.html", "reports/_attendance.html", "reports/attendance_pdf.html")
CURRICULUM = Templates("reports/curriculum.html", "reports/_curriculum.html", "reports/curriculum_pdf.html")


def with_range(request: HttpRequest) -> QueryDict:
    """The query with the default days (``default_range``) where the person gave none."""
    data = request.GET.copy()
    start, end = default_range(timezone.localdate())
    data.setdefault("start", start.isoformat())
    data.setdefault("end", end.isoformat())
    return data


def check_class(request: HttpRequest, classes: list[SchoolClass]) -> None:
    asked = request.GET.get("school_class", "")
    if is_whole_number(asked) and all(c.pk != int(asked) for c in classes):
        raise Http404  # another class, or another school's: not even its existence


def result(context: dict[str, Any], title: str, about: str, export: str, query: str) -> dict[str, Any]:
    context.update(title=title, about=about, export=export, query=query)
    return context


def page(
    request: HttpRequest,
    ctx: SchoolContext,
    build: Builder,
    action: str,
    heading: str | Promise,
    templates: Templates = TABLE,
) -> HttpResponse:
    context = build(request, ctx)
    context.update(action=action, heading=heading)
    template = templates.partial if request.headers.get("HX-Request") else templates.page
    return render(request, template, context, status=200 if context["form"].is_valid() else 422)


def export(
    request: HttpRequest, ctx: SchoolContext, build: Builder, fmt: str, name: str, templates: Templates = TABLE
) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    context = build(request, ctx)
    if context.get("head") is None:
        raise Http404
    steps.advance()  # a background run's steps: the report's queries are the builder's, then the table
    filename = f"{name}-{ctx.school.slug}"
    if fmt == "xlsx":
        about = [str(ctx.school), f"{context['title']}: {context['about']}"]
        content = exports.workbook(context["title"], about, context["head"], context["rows"], context["notes"])
    else:
        context.update(school=ctx.school, printed_on=timezone.localdate())
        content = exports.pdf(templates.pdf, context, request.build_absolute_uri("/"))
    steps.advance()  # and the file
    return exports.download(content, fmt, filename)


def report_views(
    build: Builder,
    *,
    action: str,
    heading: Promise,
    filename: str,
    doc: str,
    rule: Callable[[SchoolContext], bool] = access.may_read_reports,
    background: str | None = None,
    templates: Templates = TABLE,
) -> tuple[View, View]:
    """The page (``action``: its URL name) and the download (``<action>_export``) of one table report.

    ``rule`` is the report's access rule (the API route asks the same one); ``background`` names the report
    whose large downloads are built as a background run (``run_views.background``'s size rule)."""

    def report_page(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
        return page(request, ctx, build, action, heading, templates)

    def report_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
        if background is not None and (queued := run_views.background(request, ctx, background, fmt)) is not None:
            return queued  # the whole school or a long range of a large school: built in the background
        return export(request, ctx, build, fmt, filename, templates)

    report_page.__doc__ = doc
    report_export.__doc__ = f"{doc} XLSX or PDF."
    return require_GET(school_view(rule=rule)(report_page)), require_GET(school_view(rule=rule)(report_export))
