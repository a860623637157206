"""Attendance reports over JSON (R6.2): ``/api/v1/schools/{school}/reports/attendance...``.

The same read models (``classbook.reports.attendance``) and access rules (``classbook.access.reports``) as
the pages: a subject teacher gets the lessons of their own subjects, a class teacher their class, the
administration and authority viewers the school; the summary sheet and consecutive absences need the whole
day, so they are the class teacher's and the administration's (403 for a subject teacher). 404 for a class
outside the caller's reports, 422 for days in the wrong order or a range too long.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access import reports as access
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.api.routes.reports import report_reader
from classbook.core.errors import DomainError
from classbook.reports import attendance, queries

router = Router(tags=["reports"])


def _check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise DomainError(_("The last day is before the first day."), code="invalid_range", field="end")
    if (end - start).days + 1 > attendance.MAX_DAYS:
        raise DomainError(
            _("A report covers at most %(days)s days.") % {"days": attendance.MAX_DAYS},
            code="range_too_long",
            field="end",
        )


class LineOut(Schema):
    key: int | None
    label: str
    missed: int
    excused: int
    unexcused: int
    illness: int
    late: int
    days: int | None = Field(description="Whole days missed; null where the caller does not read the whole day")
    days_excused: int | None
    left_on: dt.date | None


class WeekOut(Schema):
    start: dt.date
    excused_illness: int
    excused_other: int
    unexcused: int


class ReportOut(Schema):
    start: dt.date
    end: dt.date
    group_by: str
    lines: list[LineOut]
    total: LineOut | None
    weeks: list[WeekOut]


class ReportQuery(Schema):
    start: dt.date
    end: dt.date
    group_by: Literal["class", "student", "subject"] = "class"
    school_class: int | None = Field(None, ge=1, le=2**62)
    subject: int | None = Field(None, ge=1, le=2**62)


def _out(report: attendance.AttendanceReport) -> dict[str, object]:
    return {
        "start": report.range.start,
        "end": report.range.end,
        "group_by": report.group_by,
        "lines": report.lines,
        "total": report.total,
        "weeks": report.weeks,
    }


@router.get("/{school}/reports/attendance", response=ReportOut, summary="Lessons and whole days missed (R6.2)")
def report(request: HttpRequest, school: str, q: Query[ReportQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    if q.school_class is not None:
        get_or_404(access.report_classes(ctx), pk=q.school_class)
    _check_range(q.start, q.end)
    scope = attendance.Range(q.start, q.end, school_class_id=q.school_class, subject_id=q.subject)
    return _out(
        attendance.attendance_report(access.report_assignments(ctx), access.attendance_classes(ctx), scope, q.group_by)
    )


class SheetQuery(Schema):
    period: str = Field(..., max_length=24, description="p<study period id> or y<academic year id>")
    school_class: int = Field(..., ge=1, le=2**62)


@router.get(
    "/{school}/reports/attendance-sheet", response=ReportOut, summary="A class's summary sheet of attendance (R6.2)"
)
def sheet(request: HttpRequest, school: str, q: Query[SheetQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    classes = access.attendance_classes(ctx)
    if not classes.exists():
        raise PermissionDenied  # a subject teacher: the summary sheet is the class teacher's and the administration's
    school_class = get_or_404(classes, pk=q.school_class)
    picked = queries.calendar(ctx.school).resolve(q.period)
    if picked is None:
        raise DomainError(_("Unknown period."), code="invalid_period", field="period")
    year, period = picked
    if school_class.year_id != year.pk:
        raise DomainError(_("Choose a period of the class's year (%(year)s).") % {"year": school_class.year.name})
    start, end = (period.start, period.end) if period is not None else (year.start, year.end)
    return _out(attendance.attendance_sheet(access.report_assignments(ctx), school_class, start, end))


CONSECUTIVE_SORTS = Sorts("-days,name", days="days", name="name", first="first", school_class="school_class")
REGISTERS_SORTS = Sorts("name", name="name", held="held")


class ConsecutiveQuery(ListQuery):
    sort: str = CONSECUTIVE_SORTS.field()
    start: dt.date
    end: dt.date
    at_least: int = Field(3, ge=2, le=60)
    school_class: int | None = Field(None, ge=1, le=2**62)


class StreakOut(Schema):
    student_id: int
    name: str
    school_class: str
    first: dt.date
    last: dt.date
    days: int


@router.get(
    "/{school}/reports/consecutive-absences",
    response=Page[StreakOut],
    summary="Students absent N or more school days in a row",
)
def consecutive(request: HttpRequest, school: str, q: Query[ConsecutiveQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    classes = access.attendance_classes(ctx)
    if not classes.exists():
        raise PermissionDenied
    if q.school_class is not None:
        get_or_404(classes, pk=q.school_class)
    _check_range(q.start, q.end)
    streaks = attendance.consecutive_absences(
        classes, attendance.Range(q.start, q.end, school_class_id=q.school_class), q.at_least
    )
    return paginate(request, streaks, q, CONSECUTIVE_SORTS)


class MissingOut(Schema):
    lesson_id: int
    number: int | None
    subject: str
    teacher: str
    substitute: bool


class RegistersQuery(ListQuery):
    sort: str = REGISTERS_SORTS.field()
    day: dt.date


class RegistersOut(Schema):
    class_id: int
    name: str
    held: int
    missing: list[MissingOut]


@router.get(
    "/{school}/reports/registers-not-taken",
    response=Page[RegistersOut],
    summary="Classes with lessons held on a day whose register was not taken",
)
def registers(request: HttpRequest, school: str, q: Query[RegistersQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    classes = attendance.registers_not_taken(access.report_assignments(ctx), q.day)
    return paginate(request, classes, q, REGISTERS_SORTS)
