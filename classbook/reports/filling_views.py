"""Journal filling and control report pages (R6.3, R6.9-R6.11): filters, charts, XLSX and PDF exports.

The same read models (``filling``) and access rules (``access.reports``) as the API: a teacher reads their
own journals, a class teacher every journal of their class too, the administration and authority viewers the
school; the daily user activity is the director's and deputies'; the quality formula is changed by them.
The page and its exports are drawn by ``table_pages``' generic page (a table, charts, notes).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core.collation import by_name
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number
from classbook.reports import filling, filling_exports, queries, services, table_pages
from classbook.reports.filling_forms import ActivityForm, FillingForm, QualityForm
from classbook.reports.forms import period_choices


def _build(request: HttpRequest, ctx: SchoolContext) -> tuple[dict[str, Any], filling.FillingReport | None]:
    """The filters and, when valid, the filling report over the user's journals (``report_assignments``)."""
    cal = queries.calendar(ctx.school)
    mine = list(
        access.report_assignments(ctx).select_related("school_class__year", "school_class__year_level", "teacher")
    )
    classes = sorted({a.school_class for a in mine}, key=lambda c: (-c.year.start.toordinal(), c.name))
    teachers = by_name({a.teacher for a in mine})
    for name, known in (("school_class", {c.pk for c in classes}), ("teacher", {t.pk for t in teachers})):
        asked = request.GET.get(name, "")
        if is_whole_number(asked) and int(asked) not in known:
            raise Http404  # another teacher's or class's journals, or another school's: not even their existence
    data = request.GET.copy()
    if not data.get("month"):
        data.setdefault("period", cal.default(timezone.localdate()))
    data.setdefault("group_by", "journal")
    form = FillingForm(data, periods=period_choices(cal.years, cal.periods), classes=classes, teachers=teachers)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    if not form.is_valid():
        return out, None
    d = form.cleaned_data
    resolved = filling.resolve_scope(
        cal, period=d["period"], month=d["month"], school_class_id=d["school_class"], teacher_id=d["teacher"]
    )
    if resolved is None:
        form.add_error("period", _("Unknown period."))
        return out, None
    scope, about = resolved
    report = filling.filling_report(access.report_assignments(ctx), ctx.school, scope, d["group_by"])
    out["about"] = about
    return out, report


def _filling(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    out, report = _build(request, ctx)
    if report is None:
        return out
    head, rows = filling_exports.filling_table(report)
    out.update(
        head=head, rows=rows, charts=filling_exports.filling_charts(report), notes=filling_exports.formulas(report)
    )
    return table_pages.result(
        out, _("Journal filling"), out["about"], "reports:filling_export", request.GET.urlencode()
    )


def _quality(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    out, report = _build(request, ctx)
    if report is None:
        return out
    head, rows = filling_exports.quality_table(report)
    out.update(
        head=head, rows=rows, charts=filling_exports.quality_charts(report), notes=filling_exports.quality_notes(report)
    )
    title = _("Journal-keeping quality")
    return table_pages.result(out, title, out["about"], "reports:quality_export", request.GET.urlencode())


def _activity(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    data = request.GET.copy()
    today = timezone.localdate()
    data.setdefault("start", today.isoformat())
    data.setdefault("end", str(data.get("start", "")))
    form = ActivityForm(data)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    if not form.is_valid():
        return out
    d = form.cleaned_data
    report = filling.user_activity(
        ctx.school,
        access.activity_logins(ctx),
        access.activity_members(ctx),
        d["start"],
        d["end"],
    )
    head, rows = filling_exports.activity_table(report)
    out.update(head=head, rows=rows, charts=[], notes=filling_exports.activity_notes())
    about = f"{d['start']:%d.%m.%Y}" + (f" – {d['end']:%d.%m.%Y}" if d["end"] != d["start"] else "")
    return table_pages.result(out, _("User activity"), about, "reports:activity_export", request.GET.urlencode())


report, report_export = table_pages.report_views(
    _filling,
    action="reports:filling",
    heading=gettext_lazy("Journal filling"),
    filename="journal-filling",
    doc="Journal filling per journal, teacher or class for a month or a study period (R6.3, R6.10).",
)
quality, quality_export = table_pages.report_views(
    _quality,
    action="reports:quality",
    heading=gettext_lazy("Journal-keeping quality"),
    filename="journal-quality",
    doc="Each teacher's journal-keeping quality indicator by the school's formula (R6.11).",
)
activity, activity_export = table_pages.report_views(
    _activity,
    action="reports:activity",
    heading=gettext_lazy("User activity"),
    filename="user-activity",
    doc="Who logged in and what they entered, by user and role, for a day or a few (R6.3).",
    rule=access.may_read_user_activity,
)


@require_http_methods(["GET", "POST"])
@school_view(rule=access.may_read_reports)
def quality_formula(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's quality formula: everyone who reads reports sees it, the director and deputies change it."""
    may_change = access.may_change_quality_formula(ctx)
    current = filling.quality_settings(ctx.school)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = QualityForm(request.POST, instance=current)
        if form.is_valid():
            try:
                services.update_quality_settings(
                    acting_user=ctx.user,
                    school=ctx.school,
                    fields={k: form.cleaned_data[k] for k in services.QUALITY_FIELDS},
                )
            except DomainError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("The quality formula was saved."))
                return redirect("reports:quality_formula", school=ctx.school.slug)
    else:
        form = QualityForm(instance=current)
    return render(
        request,
        "reports/quality_formula.html",
        {"ctx": ctx, "form": form, "may_change": may_change, "formula": filling.quality_formula(current)},
        status=422 if form.errors else 200,
    )
