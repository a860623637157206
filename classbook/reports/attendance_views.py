"""Attendance report pages (R6.2): filters (htmx swaps the result), charts, XLSX and PDF exports.

The same read models (``attendance``) and access rules (``access.reports``) as the API; who reads what:
a subject teacher the lessons of their own subjects, a class teacher their class, the administration and
authority viewers the school. Whole days, the summary sheet and consecutive absences need every lesson of
the day, so they are the class teacher's and the administration's (``attendance_classes``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.reports import attendance, attendance_exports, queries, table_pages
from classbook.reports.attendance_forms import AttendanceForm, ConsecutiveForm, RegistersForm
from classbook.reports.forms import SummaryForm, period_choices
from classbook.schools.models import SchoolClass


def _classes(ctx: SchoolContext, *, whole: bool) -> list[SchoolClass]:
    qs = access.attendance_classes(ctx) if whole else access.report_classes(ctx)
    return list(qs.order_by("-year__start", "year_level__number", "name"))


# --- Lessons and days missed over a range ---------------------------------------------------------------


def _report(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = _classes(ctx, whole=False)
    table_pages.check_class(request, classes)
    subjects = access.report_subjects(ctx)
    data = table_pages.with_range(request)
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
    return table_pages.result(out, _("Attendance"), about, "reports:attendance_export", request.GET.urlencode())


# --- The class's summary sheet of attendance (R6.2) -------------------------------------------------------


def _sheet(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = _classes(ctx, whole=True)
    if not classes:
        raise PermissionDenied  # a subject teacher: the summary sheet is the class teacher's and the administration's
    table_pages.check_class(request, classes)
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
    return table_pages.result(out, title, about, "reports:attendance_sheet_export", request.GET.urlencode())


# --- Consecutive absences ------------------------------------------------------------------------------


def _consecutive(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = _classes(ctx, whole=True)
    if not classes:
        raise PermissionDenied
    table_pages.check_class(request, classes)
    data = table_pages.with_range(request)
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
    return table_pages.result(
        out, _("Consecutive absences"), about, "reports:consecutive_export", request.GET.urlencode()
    )


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
    return table_pages.result(
        out, _("Registers not taken"), f"{day:%d.%m.%Y}", "reports:registers_export", request.GET.urlencode()
    )


# --- The pages and their exports --------------------------------------------------------------------------

report, report_export = table_pages.report_views(
    _report,
    action="reports:attendance",
    heading=gettext_lazy("Attendance"),
    filename="attendance",
    doc="Lessons and whole days missed over any days, by class, student or subject.",
    background="attendance",
)
sheet, sheet_export = table_pages.report_views(
    _sheet,
    action="reports:attendance_sheet",
    heading=gettext_lazy("Summary sheet of attendance"),
    filename="attendance-sheet",
    doc="The class's summary sheet of attendance for a period or the year.",
)
consecutive, consecutive_export = table_pages.report_views(
    _consecutive,
    action="reports:consecutive",
    heading=gettext_lazy("Consecutive absences"),
    filename="consecutive-absences",
    doc="Students absent N or more school days in a row.",
)
registers, registers_export = table_pages.report_views(
    _registers,
    action="reports:registers",
    heading=gettext_lazy("Registers not taken"),
    filename="registers",
    doc="Classes whose register was not taken on a day.",
)
