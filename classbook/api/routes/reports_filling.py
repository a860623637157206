"""Journal filling and control reports over JSON (R6.3, R6.9-R6.11): ``/api/v1/schools/{school}/reports/...``.

The same read models (``classbook.reports.filling``) and access rules (``classbook.access.reports``) as the
pages: a teacher gets their own journals, a class teacher every journal of their class too, the administration
and authority viewers the school (404 for a class or teacher outside the caller's journals); the user
activity is the director's and deputies' (403 for anyone else). 422 for an unknown period or month.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access import reports as access
from classbook.api.routes.reports import report_reader
from classbook.core.errors import DomainError
from classbook.reports import filling, queries

router = Router(tags=["reports"])


class FiguresOut(Schema):
    lessons: int
    substitute: int = Field(description="Of the lessons given, those given by a substitute")
    no_topic: int
    no_homework: int
    no_register: int
    marks: int
    late_marks: int
    students: int | None = Field(description="Null unless the accumulation rule is checked (a study period)")
    below_rule: int | None
    min_marks: int | None
    remarks_open: int
    remarks_fixed: int


class ComponentOut(Schema):
    key: str
    label: str
    weight: int
    part: int
    whole: int
    share: Decimal | None


class LineOut(Schema):
    key: int | None
    label: str
    figures: FiguresOut


class TeacherOut(LineOut):
    components: list[ComponentOut]
    score: Decimal | None


class FillingOut(Schema):
    start: dt.date
    end: dt.date
    group_by: str
    accumulation_checked: bool
    lines: list[LineOut]
    total: LineOut
    teachers: list[TeacherOut]
    formula: str


class FillingQuery(Schema):
    period: str = Field("", max_length=24, description="p<study period id> or y<academic year id>")
    month: str = Field("", max_length=7, description="YYYY-MM; takes precedence over period")
    group_by: Literal["journal", "teacher", "class"] = "journal"
    school_class: int | None = Field(None, ge=1, le=2**62)
    teacher: int | None = Field(None, ge=1, le=2**62)


@router.get(
    "/{school}/reports/journal-filling",
    response=FillingOut,
    summary="Journal filling and each teacher's quality indicator (R6.3, R6.10, R6.11)",
)
def journal_filling(request: HttpRequest, school: str, q: Query[FillingQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    mine = access.report_assignments(ctx)
    if q.school_class is not None and not mine.filter(school_class_id=q.school_class).exists():
        raise Http404
    if q.teacher is not None and not mine.filter(teacher_id=q.teacher).exists():
        raise Http404
    if not q.period and not q.month:
        raise DomainError(_("Choose a period or a month."), code="invalid_period", field="period")
    resolved = filling.resolve_scope(
        queries.calendar(ctx.school),
        period=q.period,
        month=q.month,
        school_class_id=q.school_class,
        teacher_id=q.teacher,
    )
    if resolved is None:
        raise DomainError(_("Unknown period."), code="invalid_period", field="month" if q.month else "period")
    report = filling.filling_report(mine, ctx.school, resolved[0], q.group_by)
    return {
        "start": report.scope.start,
        "end": report.scope.end,
        "group_by": report.group_by,
        "accumulation_checked": report.checked,
        "lines": report.lines,
        "total": report.total,
        "teachers": report.teachers,
        "formula": filling.quality_formula(report.quality),
    }


class ActivityOut(Schema):
    user_id: int | None
    name: str
    roles: str
    logins: int
    lessons: int
    marks: int
    absences: int
    topics: int
    homework: int


class ActivityReportOut(Schema):
    start: dt.date
    end: dt.date
    users: list[ActivityOut]
    by_role: list[ActivityOut]
    total: ActivityOut


class ActivityQuery(Schema):
    start: dt.date
    end: dt.date | None = None


@router.get(
    "/{school}/reports/user-activity",
    response=ActivityReportOut,
    summary="Who logged in and what they entered, by user and role (R6.3)",
)
def user_activity(request: HttpRequest, school: str, q: Query[ActivityQuery]) -> filling.ActivityReport:
    ctx = report_reader(request, school, access.may_read_user_activity)
    end = q.end or q.start
    if end < q.start:
        raise DomainError(_("The last day is before the first day."), code="invalid_range", field="end")
    if (end - q.start).days + 1 > filling.MAX_ACTIVITY_DAYS:
        raise DomainError(
            _("A report covers at most %(days)s days.") % {"days": filling.MAX_ACTIVITY_DAYS},
            code="range_too_long",
            field="end",
        )
    return filling.user_activity(ctx.school, access.activity_logins(ctx), access.activity_members(ctx), q.start, end)
