"""Reports over JSON (R6.1, R6.2): ``/api/v1/schools/{school}/reports/...``.

The same read models and the same access rules as the pages (``classbook.reports.queries``,
``classbook.access.reports``): a teacher gets the figures of their own subjects and class, the
administration and authority viewers the whole school. ``period`` is ``p<id>`` (a study period) or
``y<id>`` (a year's annual grades), as the pages' filter sends it. 404 for another school or a class
outside the caller's reports, 403 for roles without reports, 422 for a period that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access import reports as access
from classbook.access.context import SchoolContext, school_for
from classbook.access.scopes import get_or_404
from classbook.core.errors import DomainError
from classbook.reports import queries
from classbook.schools.models import AcademicYear, StudyPeriod

router = Router(tags=["reports"])


def report_reader(
    request: HttpRequest, school: str, rule: Callable[[SchoolContext], bool] = access.may_read_reports
) -> SchoolContext:
    """The caller's context in ``school`` if the report's access ``rule`` lets them in (every report route)."""
    return school_for(request.user, school, rule)


def resolve_period(ctx: SchoolContext, raw: str) -> tuple[AcademicYear, StudyPeriod | None]:
    picked = queries.calendar(ctx.school).resolve(raw)
    if picked is None:
        raise DomainError(_("Unknown period."), code="invalid_period", field="period")
    return picked


class ProgressQuery(Schema):
    period: str = Field(..., max_length=24, description="p<study period id> or y<academic year id>")
    group_by: Literal["class", "year_level", "subject", "teacher", "school"] = "class"
    school_class: int | None = Field(None, ge=1, le=2**62)
    subject: int | None = Field(None, ge=1, le=2**62)
    teacher: int | None = Field(None, ge=1, le=2**62)


class LineOut(Schema):
    key: int | None
    label: str
    students: int
    by_level: dict[str, int] = Field(description="Students by their lowest grade: high, sufficient, average, low")
    passed_only: int
    not_attested: int
    exempt: int
    grades: int
    grades_by_level: dict[str, int]
    grades_not_attested: int
    grades_exempt: int
    average: Decimal | None
    success_rate: Decimal | None
    quality_rate: Decimal | None
    sou: Decimal | None
    rate_base: int
    success_count: int
    quality_count: int


class SettingsOut(Schema):
    basis: str
    not_attested_fails: bool
    include_departed: bool
    show_sou: bool


class ProgressOut(Schema):
    period: str
    group_by: str
    settings: SettingsOut
    lines: list[LineOut]
    total: LineOut | None


@router.get("/{school}/reports/progress", response=ProgressOut, summary="Progress and quality of learning (R6.1)")
def progress(request: HttpRequest, school: str, q: Query[ProgressQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    year, period = resolve_period(ctx, q.period)
    assignments = access.report_assignments(ctx)
    school_class = None
    if q.school_class is not None:
        school_class = get_or_404(access.report_classes(ctx), pk=q.school_class)
    scope = queries.Scope(
        year=year, period=period, school_class=school_class, subject_id=q.subject, teacher_id=q.teacher
    )
    settings = queries.report_settings(ctx.school)
    report = queries.progress_report(assignments, scope, q.group_by, settings, ctx.school)
    return {
        "period": scope.title,
        "group_by": q.group_by,
        "settings": settings,
        "lines": report.lines,
        "total": report.total,
    }


class SummaryQuery(Schema):
    period: str = Field(..., max_length=24, description="p<study period id> or y<academic year id>")
    school_class: int = Field(..., ge=1, le=2**62)


class SheetSubjectOut(Schema):
    subject_id: int
    name: str
    average: Decimal | None
    not_attested: int
    exempt: int


class SheetStudentOut(Schema):
    student_id: int
    name: str
    left_on: str | None
    grades: dict[str, str] = Field(description="Subject id → grade code (“н/а”, “звільн.” included)")
    corrected: list[int] = Field(description="Subject ids whose grade is a corrected one")
    average: Decimal | None
    not_attested: int


class SummaryOut(Schema):
    school_class: str
    period: str
    subjects: list[SheetSubjectOut]
    students: list[SheetStudentOut]
    average: Decimal | None


@router.get("/{school}/reports/summary", response=SummaryOut, summary="A class's summary sheet of grades (R6.2)")
def summary(request: HttpRequest, school: str, q: Query[SummaryQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    school_class = get_or_404(access.summary_classes(ctx), pk=q.school_class)
    year, period = resolve_period(ctx, q.period)
    if school_class.year_id != year.pk:
        raise DomainError(_("Choose a period of the class's year (%(year)s).") % {"year": school_class.year.name})
    sheet = queries.summary_sheet(
        access.report_assignments(ctx),
        school_class,
        queries.Scope(year=year, period=period),
        queries.report_settings(ctx.school),
        ctx.school,
    )
    return {
        "school_class": school_class.name,
        "period": sheet.scope.title,
        "subjects": sheet.subjects,
        "average": sheet.average,
        "students": [
            {
                "student_id": st.student_id,
                "name": st.name,
                "left_on": st.left_on.isoformat() if st.left_on else None,
                "grades": {str(k): v for k, v in st.cells.items()},
                "corrected": sorted(st.corrected),
                "average": st.average,
                "not_attested": st.not_attested,
            }
            for st in sheet.students
        ],
    }
