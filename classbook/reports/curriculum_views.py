"""Curriculum report pages (R6.4, R6.2 for colleges): filters (htmx swaps the result), charts, XLSX and PDF.

- curriculum statistics: lessons given against the plan, by lesson type, and the control works' results;
- the yearly summary table of success: the year's results by class × subject and year level × subject;
- a college group's results for a period, by discipline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.reports import curriculum, curriculum_exports, exports, queries, views
from classbook.reports.curriculum_forms import CurriculumForm, GroupForm, YearTableForm
from classbook.reports.forms import period_choices

Builder = Callable[[HttpRequest, SchoolContext], dict[str, Any]]


def _page(request: HttpRequest, ctx: SchoolContext, build: Builder, template: str) -> HttpResponse:
    context = build(request, ctx)
    partial = request.headers.get("HX-Request")
    return render(
        request,
        "reports/_curriculum.html" if partial else template,
        context,
        status=200 if context["form"].is_valid() else 422,
    )


def _export(request: HttpRequest, ctx: SchoolContext, build: Builder, fmt: str, name: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    context = build(request, ctx)
    if context.get("result") is None:
        raise Http404
    about = [str(ctx.school), f"{context['title']}: {context['subtitle']}"]
    filename = f"{name}-{ctx.school.slug}"
    if fmt == "xlsx":
        return exports.download(
            exports.workbook(context["title"], about, context["head"], context["rows"], context["notes"]),
            fmt,
            filename,
        )
    context.update(school=ctx.school, printed_on=timezone.localdate())
    return exports.download(
        exports.pdf("reports/curriculum_pdf.html", context, request.build_absolute_uri("/")), fmt, filename
    )


# --- Curriculum statistics (R6.4) -----------------------------------------------------------------------


def _curriculum(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    cal = queries.calendar(ctx.school)
    data = request.GET.copy()
    data.setdefault("period", cal.default(timezone.localdate()))
    data.setdefault("group_by", curriculum.CurriculumLines.CLASS)
    picked = cal.resolve(str(data["period"]))
    mine = views.picked_journals(access.curriculum_assignments(ctx), picked)
    form = CurriculumForm(data, periods=period_choices(cal.years, cal.periods), **views.journal_choices(mine))
    title = _("Curriculum statistics")
    out: dict[str, Any] = {"ctx": ctx, "form": form, "result": None, "title": title, "page_url": "reports:curriculum"}
    if picked is None or not form.is_valid():
        return out
    scope = views.picked_scope(picked, mine, form.cleaned_data)
    settings = queries.report_settings(ctx.school)
    report = curriculum.curriculum_report(
        access.curriculum_assignments(ctx),
        scope,
        form.cleaned_data["group_by"],
        settings,
        ctx.school,
        today=timezone.localdate(),
    )
    head, rows = curriculum_exports.curriculum_table(report)
    types_head, types_rows = curriculum_exports.types_table(report)
    out.update(
        result=report,
        subtitle=f"{scope.title} ({report.start:%d.%m.%Y}–{report.as_of:%d.%m.%Y})",
        head=head,
        rows=rows,
        total_last=bool(report.total and len(report.lines) > 1),
        extra_head=types_head,
        extra_rows=types_rows,
        charts=curriculum_exports.curriculum_charts(report),
        notes=curriculum_exports.curriculum_notes(settings),
        query=request.GET.urlencode(),
        export_url="reports:curriculum_export",
    )
    return out


@require_GET
@school_view(rule=access.may_read_reports)
def report(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Lessons given against the plan, by lesson type, and the control works' results (R6.4)."""
    return _page(request, ctx, _curriculum, "reports/curriculum.html")


@require_GET
@school_view(rule=access.may_read_reports)
def report_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    return _export(request, ctx, _curriculum, fmt, "curriculum")


# --- The yearly summary table of success (R6.4, 002) ------------------------------------------------------


def _year_table(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    cal = queries.calendar(ctx.school, graded=True)
    current = next((y for y in cal.years if y.is_current), cal.years[0] if cal.years else None)
    data = request.GET.copy()
    # The current year once its annual grades are set; until then the latest year or period that has grades.
    key = f"y{current.pk}" if current else ""
    data.setdefault("period", key if not key or cal.has_grades(key) else cal.latest_graded() or key)
    form = YearTableForm(data, periods=period_choices(cal.years, cal.periods))
    title = _("Yearly summary table of success")
    out: dict[str, Any] = {
        "ctx": ctx,
        "form": form,
        "result": None,
        "title": title,
        "page_url": "reports:year_table",
        "pending": cal.pending(str(data["period"]), timezone.localdate()),
    }
    picked = cal.resolve(str(data["period"]))
    if picked is None or not form.is_valid():
        return out
    settings = queries.report_settings(ctx.school)
    scope = queries.Scope(year=picked[0], period=picked[1])
    table = curriculum.year_table(access.curriculum_assignments(ctx), scope, settings, ctx.school)
    head, rows, marked = curriculum_exports.year_table_rows(table, ctx.school)
    out.update(
        result=table,
        subtitle=scope.title,
        head=head,
        rows=rows,
        marked=marked,
        charts=curriculum_exports.year_table_chart(table),
        notes=exports.formulas(settings),
        query=request.GET.urlencode(),
        export_url="reports:year_table_export",
    )
    return out


@require_GET
@school_view(rule=access.may_read_reports)
def year_table(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The year's results by class and year level, subject by subject (сводная таблица успешности, 002)."""
    return _page(request, ctx, _year_table, "reports/curriculum.html")


@require_GET
@school_view(rule=access.may_read_reports)
def year_table_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    return _export(request, ctx, _year_table, fmt, "year-table")


# --- A college group's results for a period (R6.2, 004 §4.2.1) ---------------------------------------------


def _group(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    cal = queries.calendar(ctx.school, graded=True)
    groups = list(access.group_result_classes(ctx).order_by("-year__start", "year_level__number", "name"))
    if not groups:
        raise PermissionDenied  # no group the user teaches, curates or oversees
    asked = request.GET.get("school_class", "")
    if asked.isdigit() and all(g.pk != int(asked) for g in groups):
        raise Http404  # another group, or another school's: not even its existence
    data = request.GET.copy()
    pending = views.class_defaults(cal, groups, data, timezone.localdate())
    form = GroupForm(data, periods=period_choices(cal.years, cal.periods), groups=groups)
    title = _("Group results for the period")
    out: dict[str, Any] = {
        "ctx": ctx,
        "form": form,
        "result": None,
        "title": title,
        "page_url": "reports:group_results",
        "pending": pending,
    }
    picked = cal.resolve(str(data["period"]))
    if picked is None or not form.is_valid():
        return out
    group = next(g for g in groups if g.pk == form.cleaned_data["school_class"])
    if group.year_id != picked[0].pk:
        form.add_error("period", _("Choose a period of the group's year (%(year)s).") % {"year": group.year.name})
        return out
    settings = queries.report_settings(ctx.school)
    results = curriculum.group_results(
        access.curriculum_assignments(ctx),
        group,
        queries.Scope(year=picked[0], period=picked[1]),
        settings,
        ctx.school,
    )
    head, rows = curriculum_exports.group_table(results, ctx.school)
    out.update(
        result=results,
        subtitle=f"{group} · {results.report.scope.title}",
        head=head,
        rows=rows,
        total_last=bool(results.report.total and len(results.report.lines) > 1),
        charts=exports.progress_charts(results.report, ctx.school),
        notes=exports.formulas(settings),
        query=request.GET.urlencode(),
        export_url="reports:group_results_export",
    )
    return out


@require_GET
@school_view(rule=access.may_read_reports)
def group_results(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """A college group's results for a period by discipline (итоги успеваемости группы, 004 §4.2.1)."""
    return _page(request, ctx, _group, "reports/curriculum.html")


@require_GET
@school_view(rule=access.may_read_reports)
def group_results_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    return _export(request, ctx, _group, fmt, "group-results")
