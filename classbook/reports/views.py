"""Report pages (R6.1, R6.2, R6.9): filters (htmx swaps the result), charts, XLSX and PDF exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from classbook.access import report_runs
from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core.collation import by_name
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number
from classbook.reports import exports, queries, run_views, services, steps
from classbook.reports.forms import ProgressForm, SettingsForm, SummaryForm, period_choices
from classbook.reports.models import GroupBy
from classbook.reports.queries import Pending
from classbook.schools.models import AcademicYear, SchoolClass, StudyPeriod, TeachingAssignment


@require_GET
@school_view(rule=access.may_read_reports)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The list of reports the user may open."""
    return render(
        request,
        "reports/index.html",
        {
            "ctx": ctx,
            "has_classes": access.summary_classes(ctx).exists(),
            "may_change_settings": access.may_change_report_settings(ctx),
            "may_read_activity": access.may_read_user_activity(ctx),
            # The comparison of the authority's schools (issue 11), for its viewers only.
            "authorities": report_runs.comparable_authorities(ctx),
        },
    )


# --- The filters of the reports over journals (progress, curriculum statistics) ------------------------------


def picked_journals(
    assignments: QuerySet[TeachingAssignment], picked: tuple[AcademicYear, StudyPeriod | None] | None
) -> list[TeachingAssignment]:
    """The user's journals (``assignments``, already narrowed by access) of the picked period's year."""
    if picked is None:
        return []
    return list(assignments.filter(year=picked[0]).select_related("school_class__year_level", "subject", "teacher"))


def journal_choices(mine: list[TeachingAssignment]) -> dict[str, list[Any]]:
    """The class, subject and teacher choices of the filters: only what the user's journals hold."""
    return {
        "classes": sorted({a.school_class for a in mine}, key=lambda c: (c.year_level.number, c.name)),
        "subjects": sorted({a.subject for a in mine}, key=lambda s: s.name),
        "teachers": by_name({a.teacher for a in mine}),
    }


def picked_scope(
    picked: tuple[AcademicYear, StudyPeriod | None], mine: list[TeachingAssignment], cleaned: dict[str, Any]
) -> queries.Scope:
    """The report's scope from valid filters (a class only among the user's journals' classes)."""
    classes = {a.school_class_id: a.school_class for a in mine}
    return queries.Scope(
        year=picked[0],
        period=picked[1],
        school_class=classes.get(cleaned["school_class"]) if cleaned["school_class"] else None,
        subject_id=cleaned["subject"],
        teacher_id=cleaned["teacher"],
    )


# --- Progress and quality (R6.1) -----------------------------------------------------------------------


def _progress(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    """The filters and, when they are valid, the report: the page, the exports and nothing else use this."""
    cal = queries.calendar(ctx.school, graded=True)
    choices = period_choices(cal.years, cal.periods)
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("period", cal.default(today, graded=True))
    data.setdefault("group_by", GroupBy.CLASS)
    picked = cal.resolve(str(data["period"]))
    mine = picked_journals(access.report_assignments(ctx), picked)
    form = ProgressForm(data, periods=choices, **journal_choices(mine))
    out: dict[str, Any] = {
        "ctx": ctx,
        "form": form,
        "report": None,
        "pending": cal.pending(str(data["period"]), today),
        "page_url": "reports:progress",
    }
    if picked is None or not form.is_valid():
        return out
    scope = picked_scope(picked, mine, form.cleaned_data)
    settings = queries.report_settings(ctx.school)
    steps.advance()  # a background run's steps (``runs.SCHOOL_EXPORTS``): the filters,
    report = queries.progress_report(
        access.report_assignments(ctx), scope, form.cleaned_data["group_by"], settings, ctx.school
    )
    steps.advance()  # the report's query,
    head, rows = exports.progress_table(report, ctx.school)
    out.update(
        report=report,
        head=head,
        rows=rows,
        charts=exports.progress_charts(report, ctx.school),
        formulas=exports.formulas(settings),
        query=request.GET.urlencode(),
    )
    steps.advance()  # the table and charts; the file is the export's
    return out


@require_GET
@school_view(rule=access.may_read_reports)
def progress(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Progress and quality of learning for a period or the year, by class, year level, subject or teacher."""
    context = _progress(request, ctx)
    template = "reports/_progress.html" if request.headers.get("HX-Request") else "reports/progress.html"
    return render(request, template, context, status=200 if context["form"].is_valid() else 422)


@require_GET
@school_view(rule=access.may_read_reports)
def progress_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    """The same report as XLSX (numbers as numbers, header frozen) or PDF (with the charts)."""
    if fmt not in exports.FORMATS:
        raise Http404
    if (queued := run_views.background(request, ctx, "progress", fmt)) is not None:
        return queued  # the whole school or the year of a large school: built in the background
    context = _progress(request, ctx)
    report = context["report"]
    if report is None:
        raise Http404
    title = _("Progress and quality of learning")
    about = [str(ctx.school), f"{title}: {report.scope.title}"]
    name = f"progress-{ctx.school.slug}"
    if fmt == "xlsx":
        content = exports.workbook(title, about, context["head"], context["rows"], context["formulas"])
    else:
        context.update(school=ctx.school, title=title, printed_on=timezone.localdate())
        content = exports.pdf("reports/progress_pdf.html", context, request.build_absolute_uri("/"))
    steps.advance()  # the file
    return exports.download(content, fmt, name)


# --- Summary sheet of grades (R6.2) ---------------------------------------------------------------------


def class_defaults(
    cal: queries.Calendar, classes: list[SchoolClass], data: QueryDict, today: dt.date
) -> Pending | None:
    """Fill the period and the class a class report (summary sheet, group results) opens on, and say why the
    period holds no grades yet (``Calendar.pending``, offered only when the user has a class of that year).

    The period: ``Calendar.default(graded=True)``, or the running one when the asked class is of another year;
    the class: the asked one, else the user's first class of the period's year (the running period and the
    user's first class when they have none then).
    """
    key = cal.default(today, graded=True)
    year_of = {c.pk: c.year_id for c in classes}
    asked = str(data.get("school_class", ""))
    picked = cal.resolve(key)
    year = picked[0].pk if picked else None
    if is_whole_number(asked):
        if year_of.get(int(asked)) != year:
            key = cal.default(today)
    else:
        in_year = [c for c in classes if c.year_id == year]
        if not in_year:
            key, in_year = cal.default(today), classes
        data.setdefault("school_class", str(in_year[0].pk))
    data.setdefault("period", key)
    pending = cal.pending(str(data["period"]), today)
    offered = cal.resolve(pending.offer) if pending and pending.offer else None
    if pending and (offered is None or all(c.year_id != offered[0].pk for c in classes)):
        pending = replace(pending, offer="")
    return pending


def _summary(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    cal = queries.calendar(ctx.school, graded=True)
    classes = list(access.summary_classes(ctx).order_by("-year__start", "year_level__number", "name"))
    if not classes:
        raise PermissionDenied  # a subject teacher: the summary sheet is the class teacher's and the administration's
    asked = request.GET.get("school_class", "")
    if is_whole_number(asked) and all(c.pk != int(asked) for c in classes):
        raise Http404  # another class, or another school's: not even its existence
    data = request.GET.copy()
    pending = class_defaults(cal, classes, data, timezone.localdate())
    form = SummaryForm(data, periods=period_choices(cal.years, cal.periods), classes=classes)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "sheet": None, "pending": pending, "page_url": "reports:summary"}
    picked = cal.resolve(str(data["period"]))
    if picked is None or not form.is_valid():
        return out
    school_class = next(c for c in classes if c.pk == form.cleaned_data["school_class"])
    if school_class.year_id != picked[0].pk:
        form.add_error(
            "period", _("Choose a period of the class's year (%(year)s).") % {"year": school_class.year.name}
        )
        return out
    sheet = queries.summary_sheet(
        access.report_assignments(ctx),
        school_class,
        queries.Scope(year=picked[0], period=picked[1]),
        queries.report_settings(ctx.school),
        ctx.school,
    )
    head, rows, foot = exports.summary_table(sheet)
    out.update(
        sheet=sheet,
        lines=exports.summary_lines(sheet),
        head=head,
        rows=rows,
        foot=foot,
        chart=exports.summary_chart(sheet),
        query=request.GET.urlencode(),
    )
    return out


@require_GET
@school_view(rule=access.may_read_reports)
def summary(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The class's summary sheet of period or annual grades: students × subjects (зведена відомість)."""
    context = _summary(request, ctx)
    template = "reports/_summary.html" if request.headers.get("HX-Request") else "reports/summary.html"
    return render(request, template, context, status=200 if context["form"].is_valid() else 422)


@require_GET
@school_view(rule=access.may_read_reports)
def summary_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    context = _summary(request, ctx)
    sheet = context["sheet"]
    if sheet is None:
        raise Http404
    title = _("Summary sheet of grades")
    about = [str(ctx.school), f"{title}: {sheet.school_class} · {sheet.scope.title}"]
    name = f"summary-{ctx.school.slug}-{sheet.school_class.pk}"
    if fmt == "xlsx":
        return exports.download(
            exports.workbook(title, about, context["head"], [*context["rows"], context["foot"]]), fmt, name
        )
    context.update(school=ctx.school, title=title, printed_on=timezone.localdate())
    return exports.download(
        exports.pdf("reports/summary_pdf.html", context, request.build_absolute_uri("/")), fmt, name
    )


# --- The school's definitions ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@school_view(rule=access.may_read_reports)
def report_settings(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's definitions of the rates: everyone who reads reports sees them, the administration changes them."""
    may_change = access.may_change_report_settings(ctx)
    current = queries.report_settings(ctx.school)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied
        form = SettingsForm(request.POST, instance=current)
        if form.is_valid():
            try:
                services.update_report_settings(
                    acting_user=ctx.user,
                    school=ctx.school,
                    fields={k: form.cleaned_data[k] for k in services.SETTING_FIELDS},
                )
            except DomainError as exc:
                form.add_error(exc.field, exc.message)
            else:
                messages.success(request, _("The report settings were saved."))
                return redirect("reports:settings", school=ctx.school.slug)
    else:
        form = SettingsForm(instance=current)
    return render(
        request,
        "reports/settings.html",
        {"ctx": ctx, "form": form, "may_change": may_change, "formulas": exports.formulas(current)},
        status=422 if form.errors else 200,
    )
