"""Curriculum report pages (R6.4, R6.2 for colleges): filters (htmx swaps the result), charts, XLSX and PDF.

- curriculum statistics: lessons given against the plan, by lesson type, and the control works' results;
- the yearly summary table of success: the year's results by class × subject and year level × subject;
- a college group's results for a period, by discipline.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.core.params import is_whole_number
from classbook.reports import curriculum, curriculum_exports, exports, queries, table_pages, views
from classbook.reports.curriculum_forms import CurriculumForm, GroupForm, YearTableForm
from classbook.reports.forms import period_choices

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
    out: dict[str, Any] = {"ctx": ctx, "form": form, "result": None, "title": title}
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
        about=f"{scope.title} ({report.start:%d.%m.%Y}–{report.as_of:%d.%m.%Y})",
        head=head,
        rows=rows,
        total_last=bool(report.total and len(report.lines) > 1),
        extra_head=types_head,
        extra_rows=types_rows,
        charts=curriculum_exports.curriculum_charts(report),
        notes=curriculum_exports.curriculum_notes(settings),
        query=request.GET.urlencode(),
        export="reports:curriculum_export",
    )
    return out


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
        about=scope.title,
        head=head,
        rows=rows,
        marked=marked,
        charts=curriculum_exports.year_table_chart(table),
        notes=exports.formulas(settings),
        query=request.GET.urlencode(),
        export="reports:year_table_export",
    )
    return out


# --- A college group's results for a period (R6.2, 004 §4.2.1) ---------------------------------------------


def _group(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    cal = queries.calendar(ctx.school, graded=True)
    groups = list(access.group_result_classes(ctx).order_by("-year__start", "year_level__number", "name"))
    if not groups:
        raise PermissionDenied  # no group the user teaches, curates or oversees
    asked = request.GET.get("school_class", "")
    if is_whole_number(asked) and all(g.pk != int(asked) for g in groups):
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
        about=f"{group} · {results.report.scope.title}",
        head=head,
        rows=rows,
        total_last=bool(results.report.total and len(results.report.lines) > 1),
        charts=exports.progress_charts(results.report, ctx.school),
        notes=exports.formulas(settings),
        query=request.GET.urlencode(),
        export="reports:group_results_export",
    )
    return out


# --- The pages and their exports (``table_pages``, with the curriculum's templates) -------------------------

report, report_export = table_pages.report_views(
    _curriculum,
    action="reports:curriculum",
    heading=gettext_lazy("Curriculum statistics"),
    filename="curriculum",
    doc="Lessons given against the plan, by lesson type, and the control works' results (R6.4).",
    templates=table_pages.CURRICULUM,
)
year_table, year_table_export = table_pages.report_views(
    _year_table,
    action="reports:year_table",
    heading=gettext_lazy("Yearly summary table of success"),
    filename="year-table",
    doc="The year's results by class and year level, subject by subject (сводная таблица успешности, 002).",
    templates=table_pages.CURRICULUM,
)
group_results, group_results_export = table_pages.report_views(
    _group,
    action="reports:group_results",
    heading=gettext_lazy("Group results for the period"),
    filename="group-results",
    doc="A college group's results for a period by discipline (итоги успеваемости группы, 004 §4.2.1).",
    templates=table_pages.CURRICULUM,
)
