"""Attendance report pages (R6.2): filters (htmx swaps the result), charts, XLSX and PDF exports.

The same read models (``attendance``) and access rules (``access.reports``) as the API; who reads what:
a subject teacher the lessons of their own subjects, a class teacher their class, the administration and
authority viewers the school. Whole days, the summary sheet and consecutive absences need every lesson of
the day, so they are the class teacher's and the administration's (``attendance_classes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.reports import attendance, attendance_exports, exports, queries, run_views
from classbook.reports.attendance_forms import AttendanceForm, ConsecutiveForm, RegistersForm, default_range
from classbook.reports.forms import SummaryForm, period_choices
from classbook.schools.models import SchoolClass

FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def _download(content: bytes, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def _with_range(request: HttpRequest) -> QueryDict:
    data = request.GET.copy()
    start, end = default_range(timezone.localdate())
    data.setdefault("start", start.isoformat())
    data.setdefault("end", end.isoformat())
    return data


def _classes(ctx: SchoolContext, *, whole: bool) -> list[SchoolClass]:
    qs = access.attendance_classes(ctx) if whole else access.report_classes(ctx)
    return list(qs.order_by("-year__start", "year_level__number", "name"))


def _check_class(request: HttpRequest, classes: list[SchoolClass]) -> None:
    asked = request.GET.get("school_class", "")
    if asked.isdigit() and all(c.pk != int(asked) for c in classes):
        raise Http404  # another class, or another school's: not even its existence


def _result(context: dict[str, Any], title: str, about: str, export: str, query: str) -> dict[str, Any]:
    context.update(title=title, about=about, export=export, query=query)
    return context


# --- Lessons and days missed over a range ---------------------------------------------------------------


def _report(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = _classes(ctx, whole=False)
    _check_class(request, classes)
    subjects = access.report_subjects(ctx)
    data = _with_range(request)
    data.setdefault("group_by", "class")
    form = AttendanceForm(data, classes=classes, subjects=subjects)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    if not form.is_valid():
        return out
    d = form.cleaned_data
    scope = attendance.Range(d["start"], d["end"], school_class_id=d["school_class"], subject_id=d["subject"])
    report = attendance.attendance_report(
        access.report_assignments(ctx), access.attendance_classes(ctx), scope, d["group_by"]
    )
    head, rows = attendance_exports.report_table(report)
    out.update(
        head=head, rows=rows, charts=attendance_exports.report_charts(report), notes=attendance_exports.formulas()
    )
    about = f"{d['start']:%d.%m.%Y} – {d['end']:%d.%m.%Y}"
    return _result(out, _("Attendance"), about, "reports:attendance_export", request.GET.urlencode())


# --- The class's summary sheet of attendance (R6.2) -------------------------------------------------------


def _sheet(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = _classes(ctx, whole=True)
    if not classes:
        raise PermissionDenied  # a subject teacher: the summary sheet is the class teacher's and the administration's
    _check_class(request, classes)
    cal = queries.calendar(ctx.school)
    data = request.GET.copy()
    data.setdefault("period", cal.default(timezone.localdate()))
    data.setdefault("school_class", str(classes[0].pk))
    form = SummaryForm(data, periods=period_choices(cal.years, cal.periods), classes=classes)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    picked = cal.resolve(str(data["period"]))
    if picked is None or not form.is_valid():
        return out
    year, period = picked
    school_class = next(c for c in classes if c.pk == form.cleaned_data["school_class"])
    if school_class.year_id != year.pk:
        form.add_error(
            "period", _("Choose a period of the class's year (%(year)s).") % {"year": school_class.year.name}
        )
        return out
    start, end = (period.start, period.end) if period is not None else (year.start, year.end)
    sheet = attendance.attendance_sheet(access.report_assignments(ctx), school_class, start, end)
    head, rows = attendance_exports.report_table(sheet)
    out.update(
        head=head, rows=rows, charts=attendance_exports.report_charts(sheet), notes=attendance_exports.formulas()
    )
    title = _("Summary sheet of attendance")
    about = f"{school_class} · {period.name if period else year.name} ({start:%d.%m.%Y} – {end:%d.%m.%Y})"
    return _result(out, title, about, "reports:attendance_sheet_export", request.GET.urlencode())


# --- Consecutive absences ------------------------------------------------------------------------------


def _consecutive(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = _classes(ctx, whole=True)
    if not classes:
        raise PermissionDenied
    _check_class(request, classes)
    data = _with_range(request)
    data.setdefault("at_least", "3")
    form = ConsecutiveForm(data, classes=classes)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    if not form.is_valid():
        return out
    d = form.cleaned_data
    streaks = attendance.consecutive_absences(
        access.attendance_classes(ctx),
        attendance.Range(d["start"], d["end"], school_class_id=d["school_class"]),
        d["at_least"],
    )
    head, rows = attendance_exports.streak_table(streaks)
    notes = [
        _(
            "A school day of a class is a day with a lesson of the class held (cancelled lessons left out); a student "
            "is absent on it when they missed every lesson they had that day."
        )
    ]
    out.update(head=head, rows=rows, charts=[], notes=notes)
    about = _("%(days)s or more school days in a row, %(start)s – %(end)s") % {
        "days": d["at_least"],
        "start": f"{d['start']:%d.%m.%Y}",
        "end": f"{d['end']:%d.%m.%Y}",
    }
    return _result(out, _("Consecutive absences"), about, "reports:consecutive_export", request.GET.urlencode())


# --- Registers not taken ---------------------------------------------------------------------------------


def _registers(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    data = request.GET.copy()
    data.setdefault("day", timezone.localdate().isoformat())
    form = RegistersForm(data)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    if not form.is_valid():
        return out
    day = form.cleaned_data["day"]
    classes = attendance.registers_not_taken(access.report_assignments(ctx), day)
    head, rows = attendance_exports.register_table(classes)
    notes = [
        _(
            "A register is taken when attendance was recorded at the lesson or the teacher marked it taken with "
            "nobody absent; cancelled lessons are left out."
        )
    ]
    out.update(head=head, rows=rows, charts=[], notes=notes)
    return _result(
        out, _("Registers not taken"), f"{day:%d.%m.%Y}", "reports:registers_export", request.GET.urlencode()
    )


# --- The pages and their exports --------------------------------------------------------------------------

Builder = Callable[[HttpRequest, SchoolContext], dict[str, Any]]


def _page(request: HttpRequest, ctx: SchoolContext, build: Builder, action: str, heading: str) -> HttpResponse:
    context = build(request, ctx)
    context.update(action=action, heading=heading)
    template = "reports/_attendance.html" if request.headers.get("HX-Request") else "reports/attendance.html"
    return render(request, template, context, status=200 if context["form"].is_valid() else 422)


def _export(request: HttpRequest, ctx: SchoolContext, build: Builder, fmt: str, name: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    context = build(request, ctx)
    if context["head"] is None:
        raise Http404
    filename = f"{name}-{ctx.school.slug}"
    if fmt == "xlsx":
        about = [str(ctx.school), f"{context['title']}: {context['about']}"]
        return _download(
            exports.workbook(context["title"], about, context["head"], context["rows"], context["notes"]), fmt, filename
        )
    context.update(school=ctx.school, printed_on=timezone.localdate())
    return _download(
        exports.pdf("reports/attendance_pdf.html", context, request.build_absolute_uri("/")), fmt, filename
    )


@require_GET
@school_view(rule=access.may_read_reports)
def report(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Lessons and whole days missed over any days, by class, student or subject."""
    return _page(request, ctx, _report, "reports:attendance", _("Attendance"))


@require_GET
@school_view(rule=access.may_read_reports)
def report_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    if (queued := run_views.background(request, ctx, "attendance", fmt)) is not None:
        return queued  # the whole school or a long range of a large school: built in the background
    return _export(request, ctx, _report, fmt, "attendance")


@require_GET
@school_view(rule=access.may_read_reports)
def sheet(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The class's summary sheet of attendance for a period or the year."""
    return _page(request, ctx, _sheet, "reports:attendance_sheet", _("Summary sheet of attendance"))


@require_GET
@school_view(rule=access.may_read_reports)
def sheet_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    return _export(request, ctx, _sheet, fmt, "attendance-sheet")


@require_GET
@school_view(rule=access.may_read_reports)
def consecutive(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Students absent N or more school days in a row."""
    return _page(request, ctx, _consecutive, "reports:consecutive", _("Consecutive absences"))


@require_GET
@school_view(rule=access.may_read_reports)
def consecutive_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    return _export(request, ctx, _consecutive, fmt, "consecutive-absences")


@require_GET
@school_view(rule=access.may_read_reports)
def registers(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Classes whose register was not taken on a day."""
    return _page(request, ctx, _registers, "reports:registers", _("Registers not taken"))


@require_GET
@school_view(rule=access.may_read_reports)
def registers_export(request: HttpRequest, ctx: SchoolContext, fmt: str) -> HttpResponse:
    return _export(request, ctx, _registers, fmt, "registers")
