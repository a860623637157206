"""Diary API (R5.1, R5.2): the students the caller may open (their children, themselves, a class
teacher's class), a student's week, marks by subject, period grades and attendance summary, under
``/api/v1/schools/{school}/diary/``. Same rules as the pages (``classbook.access.diary``): a student
the caller may not open answers 404 like one that does not exist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access.context import SchoolContext, resolve_school
from classbook.api import etag
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.diary import freshness, queries, services

router = Router(tags=["diary"])


def _person(request: HttpRequest, school: str, student_id: int) -> tuple[SchoolContext, queries.DiaryStudent]:
    ctx = resolve_school(request.user, school)
    person = queries.pick(queries.diary_people(ctx), student_id)
    if person is None:
        raise Http404
    services.record_view(ctx, person.id)  # R9.2: who looks, the same as the pages
    return ctx, person


def _period(ctx: SchoolContext, period_id: int | None) -> Any:
    periods = queries.periods_of_year(ctx)
    if period_id is None:
        period = queries.current_period(periods)
        if period is None:
            raise Http404
        return period
    return next((p for p in periods if p.pk == period_id), None) or queries.period_by_id(ctx, period_id)


class StudentOut(Schema):
    id: int
    name: str
    class_id: int | None
    class_name: str
    class_teacher: str


STUDENT_SORTS = Sorts("name", name="name", class_name=("class_name", "name"), id="id")


class StudentQuery(ListQuery):
    sort: str = STUDENT_SORTS.field()


@router.get("/{school}/diary/students", response=Page[StudentOut], summary="Students whose diary I may open")
def list_students(request: HttpRequest, school: str, q: Query[StudentQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    people = [
        {
            "id": p.id,
            "name": p.name,
            "class_id": p.class_id,
            "class_name": p.class_name,
            "class_teacher": p.class_teacher,
        }
        for p in queries.diary_people(ctx)
    ]
    return paginate(request, people, q, STUDENT_SORTS)


class MarkOut(Schema):
    value: str
    work_type: str
    comment: str
    date: dt.date | None = None


class AbsenceOut(Schema):
    code: str
    name: str
    excused: bool
    late: bool


class FileOut(Schema):
    id: int
    name: str
    size: int
    url: str


class LessonMaterialOut(Schema):
    id: int
    title: str
    kind: str = Field(description="The kind of material, in the caller's language")
    url: str = Field(description="The link, or the path of the material's file")


class LessonOut(Schema):
    lesson_id: int | None
    number: int | None
    start: dt.time | None
    end: dt.time | None
    subject: str
    teacher: str
    room: str
    status: str
    note: str
    topic: str
    homework: str
    homework_due: dt.date | None
    marks: list[MarkOut]
    absence: AbsenceOut | None
    files: list[FileOut]
    materials: list[LessonMaterialOut]


class DayOut(Schema):
    date: dt.date
    is_day_off: bool
    lessons: list[LessonOut]


class WeekOut(Schema):
    student: StudentOut
    start: dt.date
    end: dt.date
    days: list[DayOut]


class WeekQuery(Schema):
    date: dt.date | None = None


@router.get(
    "/{school}/diary/{student_id}/week",
    response={200: WeekOut, 304: None},
    summary="A week of a student's diary (ETag: send If-None-Match to get 304 when unchanged)",
)
def week(request: HttpRequest, response: HttpResponse, school: str, student_id: int, q: Query[WeekQuery]) -> Any:
    """The ``ETag`` is computed from one query of the week's state (``diary.freshness``) before the week is
    built (8 queries): a client revalidating an unchanged week gets 304 for that query and the access check."""
    ctx, person = _person(request, school, student_id)
    day = q.date or timezone.localdate()
    if not (dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31)):
        raise DomainError(_("Choose a date between 2000 and 2100."), field="date")
    start = queries.week_start(day)
    state = freshness.week_state(
        school_id=ctx.school.pk,
        class_id=person.class_id,
        student_id=person.id,
        start=start,
        end=start + dt.timedelta(days=5),
    )
    tag = etag.make_etag(ctx, "week", state, tuple(person.__dict__.values()), start)
    if etag.matches(request, tag):
        return etag.not_modified(tag)
    etag.tagged(response, tag)  # ninja's response of this answer: its headers are sent with the body
    return _week_out(ctx, person, day)


def _week_out(ctx: SchoolContext, person: queries.DiaryStudent, day: dt.date) -> dict[str, Any]:
    data = queries.build_week(ctx, person, day)
    download = reverse("journal:download_file", args=[ctx.school.slug, 0]).removesuffix("0/")
    material = reverse("materials:download", args=[ctx.school.slug, 0]).removesuffix("0/file/")
    return {
        "student": person.__dict__,
        "start": data.start,
        "end": data.end,
        "days": [
            {
                "date": d.date,
                "is_day_off": d.is_day_off,
                "lessons": [
                    {
                        **{
                            k: getattr(lesson, k)
                            for k in LessonOut.model_fields
                            if k not in ("marks", "absence", "files", "materials")
                        },
                        "marks": [
                            {"value": m.value, "work_type": m.work_type, "comment": m.comment} for m in lesson.marks
                        ],
                        "absence": lesson.absence.__dict__ if lesson.absence else None,
                        "files": [
                            {"id": f.id, "name": f.name, "size": f.size, "url": f"{download}{f.id}/"}
                            for f in lesson.files
                        ],
                        "materials": [
                            {"id": m.id, "title": m.title, "kind": m.kind, "url": m.url or f"{material}{m.id}/file/"}
                            for m in lesson.materials
                        ],
                    }
                    for lesson in d.lessons
                ],
            }
            for d in data.days
        ],
    }


class PeriodQuery(Schema):
    period: int | None = None


class PeriodOut(Schema):
    id: int
    name: str
    start: dt.date
    end: dt.date


class GradeOut(Schema):
    kind: str
    kind_label: str
    title: str
    value: str
    period: str


class SubjectOut(Schema):
    subject_id: int
    subject: str
    teacher: str
    marks: list[MarkOut]
    average: Decimal | None
    grades: list[GradeOut]
    absent: int
    absent_excused: int
    late: int


class AttendanceOut(Schema):
    absent: int
    excused: int
    unexcused: int
    late: int


class MarksOut(Schema):
    student: StudentOut
    period: PeriodOut
    show_average: bool
    weighted_average: bool = Field(
        description="Whether the averages weight marks by work type: the school's one rule (the journal rules')"
    )
    subjects: list[SubjectOut]
    attendance: AttendanceOut


def _report(request: HttpRequest, school: str, student_id: int, period_id: int | None) -> tuple[Any, Any]:
    ctx, person = _person(request, school, student_id)
    period = _period(ctx, period_id)
    return queries.build_report(ctx, [person], period, queries.policy_or_default(ctx.school.pk))[0], period


def _period_out(period: Any) -> dict[str, Any]:
    return {"id": period.pk, "name": period.name, "start": period.start, "end": period.end}


@router.get("/{school}/diary/{student_id}/marks", response=MarksOut, summary="Marks by subject for a period")
def marks(request: HttpRequest, school: str, student_id: int, q: Query[PeriodQuery]) -> dict[str, Any]:
    report, period = _report(request, school, student_id, q.period)
    return {
        "student": report.student.__dict__,
        "period": _period_out(period),
        "show_average": report.show_average,
        "weighted_average": report.weighted,
        "subjects": [
            {
                **row.__dict__,
                "marks": [
                    {"value": m.value, "work_type": m.work_type, "comment": m.comment, "date": m.date}
                    for m in row.marks
                ],
                "grades": [g.__dict__ for g in row.grades],
                "average": row.average if report.show_average else None,
            }
            for row in report.subjects
        ],
        "attendance": report.attendance.__dict__,
    }


class SubjectGradesOut(Schema):
    subject_id: int
    subject: str
    grades: list[GradeOut]


class GradesOut(Schema):
    student: StudentOut
    period: PeriodOut
    subjects: list[SubjectGradesOut]


@router.get(
    "/{school}/diary/{student_id}/grades", response=GradesOut, summary="Period and final grades, as soon as set"
)
def grades(request: HttpRequest, school: str, student_id: int, q: Query[PeriodQuery]) -> dict[str, Any]:
    report, period = _report(request, school, student_id, q.period)
    return {
        "student": report.student.__dict__,
        "period": _period_out(period),
        "subjects": [
            {"subject_id": r.subject_id, "subject": r.subject, "grades": [g.__dict__ for g in r.grades]}
            for r in report.subjects
            if r.grades
        ],
    }


class AttendanceSubjectOut(Schema):
    subject_id: int
    subject: str
    absent: int
    absent_excused: int
    late: int


class AttendanceSummaryOut(Schema):
    student: StudentOut
    period: PeriodOut
    total: AttendanceOut
    subjects: list[AttendanceSubjectOut]


@router.get("/{school}/diary/{student_id}/attendance", response=AttendanceSummaryOut, summary="Absences of a period")
def attendance(request: HttpRequest, school: str, student_id: int, q: Query[PeriodQuery]) -> dict[str, Any]:
    report, period = _report(request, school, student_id, q.period)
    return {
        "student": report.student.__dict__,
        "period": _period_out(period),
        "total": report.attendance.__dict__,
        "subjects": [
            {
                "subject_id": r.subject_id,
                "subject": r.subject,
                "absent": r.absent,
                "absent_excused": r.absent_excused,
                "late": r.late,
            }
            for r in report.subjects
            if r.absent or r.late
        ],
    }
