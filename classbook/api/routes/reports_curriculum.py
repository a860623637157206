"""Curriculum reports over JSON (R6.4, R6.2): ``/api/v1/schools/{school}/reports/curriculum...``.

The same read models (``classbook.reports.curriculum``) and access rules (``classbook.access.reports``) as
the pages: a teacher gets their own subjects, a class teacher (a group's curator) also their class, the
administration and authority viewers the school. ``period`` is ``p<id>`` (a study period) or ``y<id>`` (the
year), as the pages send it. 404 for another school or a class (group) outside the caller's reports, 403 for
roles without reports, 422 for an unknown period (never a 500).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access import reports as access
from classbook.access.scopes import get_or_404
from classbook.api.routes.reports import LineOut, SettingsOut, report_reader, resolve_period
from classbook.core.errors import DomainError
from classbook.reports import curriculum, queries

router = Router(tags=["reports"])


class CurriculumQuery(Schema):
    period: str = Field(..., max_length=24, description="p<study period id> or y<academic year id>")
    group_by: Literal["class", "subject", "teacher", "journal", "school"] = "class"
    school_class: int | None = Field(None, ge=1, le=2**62)
    subject: int | None = Field(None, ge=1, le=2**62)
    teacher: int | None = Field(None, ge=1, le=2**62)


class TypeCountOut(Schema):
    planned: int = Field(description="Hours of the type in the plans (the whole year)")
    due: int = Field(description="Hours of the type the plans put on the period's lessons up to the day")
    conducted: int = Field(description="Lessons of the type given in the period up to the day")


class CurriculumLineOut(Schema):
    key: int | None
    label: str
    journals: int
    without_plan: int
    hours_per_week: Decimal
    planned_year: int
    planned: int = Field(description="Plan hours bound to the period's lessons")
    due: int
    conducted: int
    by_substitute: int
    behind: int
    ahead: int = Field(description="Lessons given beyond the plan's hours")
    completion: Decimal | None = Field(description="conducted ÷ planned × 100")
    by_type: dict[str, TypeCountOut] = Field(description="Lesson type code → counts")
    control: LineOut | None = Field(description="The control works' results (the progress report's figures)")


class CurriculumOut(Schema):
    period: str
    start: dt.date
    as_of: dt.date
    group_by: str
    settings: SettingsOut
    lines: list[CurriculumLineOut]
    total: CurriculumLineOut | None


@router.get(
    "/{school}/reports/curriculum",
    response=CurriculumOut,
    summary="Lessons given against the plan, by lesson type, and control works' results (R6.4)",
)
def curriculum_statistics(request: HttpRequest, school: str, q: Query[CurriculumQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    year, period = resolve_period(ctx, q.period)
    school_class = None
    if q.school_class is not None:
        school_class = get_or_404(access.report_classes(ctx), pk=q.school_class)
    scope = queries.Scope(
        year=year, period=period, school_class=school_class, subject_id=q.subject, teacher_id=q.teacher
    )
    settings = queries.report_settings(ctx.school)
    report = curriculum.curriculum_report(
        access.curriculum_assignments(ctx), scope, q.group_by, settings, ctx.school, today=timezone.localdate()
    )
    return {
        "period": scope.title,
        "start": report.start,
        "as_of": report.as_of,
        "group_by": q.group_by,
        "settings": settings,
        "lines": report.lines,
        "total": report.total,
    }


class YearTableQuery(Schema):
    period: str = Field(..., max_length=24, description="y<academic year id> (annual grades) or p<study period id>")


class SectionOut(Schema):
    key: int
    label: str
    lines: list[LineOut] = Field(description="One line per subject")
    total: LineOut | None


class YearTableOut(Schema):
    period: str
    settings: SettingsOut
    classes: list[SectionOut]
    year_levels: list[SectionOut]
    total: LineOut | None


@router.get("/{school}/reports/year-table", response=YearTableOut, summary="Yearly summary table of success (R6.4)")
def year_table(request: HttpRequest, school: str, q: Query[YearTableQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    year, period = resolve_period(ctx, q.period)
    settings = queries.report_settings(ctx.school)
    scope = queries.Scope(year=year, period=period)
    table = curriculum.year_table(access.curriculum_assignments(ctx), scope, settings, ctx.school)
    return {
        "period": scope.title,
        "settings": settings,
        "classes": table.classes,
        "year_levels": table.year_levels,
        "total": table.total,
    }


class GroupQuery(Schema):
    period: str = Field(..., max_length=24, description="p<study period id> or y<academic year id>")
    group: int = Field(..., ge=1, le=2**62, description="The college group (a class of kind “group”)")


class DisciplineOut(LineOut):
    teachers: str


class GroupResultsOut(Schema):
    group: str
    period: str
    settings: SettingsOut
    disciplines: list[DisciplineOut]
    total: LineOut | None


@router.get("/{school}/reports/group-results", response=GroupResultsOut, summary="A college group's results (R6.2)")
def group_results(request: HttpRequest, school: str, q: Query[GroupQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    groups = access.group_result_classes(ctx)
    if not groups.exists():
        raise PermissionDenied
    group = get_or_404(groups, pk=q.group)
    year, period = resolve_period(ctx, q.period)
    if group.year_id != year.pk:
        raise DomainError(
            _("Choose a period of the group's year (%(year)s).") % {"year": group.year.name}, field="period"
        )
    settings = queries.report_settings(ctx.school)
    results = curriculum.group_results(
        access.curriculum_assignments(ctx), group, queries.Scope(year=year, period=period), settings, ctx.school
    )
    return {
        "group": group.name,
        "period": results.report.scope.title,
        "settings": settings,
        "disciplines": [
            {**line.__dict__, "teachers": results.teachers.get(line.key or 0, "")} for line in results.report.lines
        ],
        "total": results.report.total,
    }
