"""Absence reasons and flagged marks over JSON (R2.8, R2.11): ``/api/v1/schools/{school}/appeals/...``.

Thin: the school comes from ``resolve_school``, every row from ``classbook.access.appeals`` scopes (a row
the caller may not see answers 404), every write goes through ``classbook.appeals.services`` (a row the
caller sees but may not decide answers 403). Bad input answers 422 with the structured error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from classbook.access import appeals as scopes
from classbook.access import journal as journal_access
from classbook.access.context import SchoolContext, resolve_school
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.appeals import queries, services
from classbook.appeals.models import AbsenceReport, FlagStatus, MarkFlag, ReportStatus
from classbook.core import uploads
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.absences import EXCUSED_FLAG
from classbook.journal.models import Attendance

router = Router(tags=["appeals"])

MAX_RANGE_DAYS = 400

ABSENCE_SORTS = Sorts(
    "student,date",
    student=("student__user__last_name", "student__user__first_name", "student_id"),
    date=("lesson__date", "lesson__number"),
    id="id",
)
SUMMARY_SORTS = Sorts("student_name", student_name="student_name", total="total", unexcused="unexcused")
REPORT_SORTS = Sorts("-reported_at", reported_at="reported_at", start="start", id="id")
FLAG_SORTS = Sorts("-flagged_at", flagged_at="flagged_at", id="id")


class RangeQuery(ListQuery):
    start: dt.date = Field(description="First day (inclusive)")
    end: dt.date = Field(description=f"Last day (inclusive); at most {MAX_RANGE_DAYS} days after start")


class AbsenceQuery(RangeQuery):
    sort: str = ABSENCE_SORTS.field()


class SummaryQuery(RangeQuery):
    sort: str = SUMMARY_SORTS.field()


class ReportQuery(ListQuery):
    status: ReportStatus | None = None
    sort: str = REPORT_SORTS.field()


class FlagQuery(ListQuery):
    status: FlagStatus | None = None
    sort: str = FLAG_SORTS.field()


# --- Schemas ---------------------------------------------------------------------


class AbsenceOut(Schema):
    id: int
    student: int
    student_name: str
    date: dt.date
    lesson: int
    lesson_number: int | None
    subject: str
    code: str
    reason: str
    reason_kind: str
    excused: bool
    version: int


class SummaryOut(Schema):
    student: int
    student_name: str
    total: int
    excused: int
    unexcused: int
    with_reason: int


class AbsenceItemIn(Schema):
    attendance: int
    expected_version: int = Field(..., ge=1)


class ReasonsIn(Schema):
    absences: list[AbsenceItemIn] = Field(..., min_length=1, max_length=services.MAX_BULK_REASONS)
    kind: str = Field("", max_length=14)
    reason: str = Field("", max_length=300)
    excused: bool = False


class ReportIn(Schema):
    student: int
    start: dt.date
    end: dt.date
    kind: str = Field(..., max_length=14)
    text: str = Field(..., max_length=300)


class ReportOut(Schema):
    id: int
    student: int
    student_name: str
    start: dt.date
    end: dt.date
    kind: str
    text: str
    document: str | None
    reported_by: str
    reported_at: dt.datetime
    status: str
    excused: bool
    decided_by: str | None
    decided_at: dt.datetime | None
    comment: str
    applied: int


class DecisionIn(Schema):
    decision: Literal["accept", "reject"]
    excused: bool = True
    comment: str = Field("", max_length=500)


class FlagIn(Schema):
    mark: int
    comment: str = Field(..., max_length=500)


class AnswerIn(Schema):
    outcome: Literal["confirm", "correct"]
    answer: str = Field(..., max_length=500)
    text: str = Field("", max_length=32)


class FlagOut(Schema):
    id: int
    mark: int
    student: int
    student_name: str
    subject: str
    lesson_date: dt.date
    value_when_flagged: str
    comment: str
    flagged_by: str
    flagged_at: dt.datetime
    status: str
    answer: str
    new_value: str
    answered_by: str | None
    answered_at: dt.datetime | None


# --- Helpers --------------------------------------------------------------------


def _ctx(request: HttpRequest, school: str, rule: Callable[[SchoolContext], bool] | None = None) -> SchoolContext:
    """The caller's context; 403 when ``rule`` (the page's own rule in ``access.appeals``) says no."""
    ctx = resolve_school(request.user, school)
    if rule is not None and not rule(ctx):
        raise PermissionDeniedError(_("You may not do this."))
    return ctx


def _range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise DomainError(_("The last day is before the first day."), code="invalid_range", field="end")
    if (end - start).days > MAX_RANGE_DAYS:
        raise DomainError(_("Choose at most a school year."), code="range_too_long", field="end")


def _absence_out(row: Attendance) -> dict[str, Any]:
    return {
        "id": row.pk,
        "student": row.student_id,
        "student_name": row.student.user.full_name,
        "date": row.lesson.date,
        "lesson": row.lesson_id,
        "lesson_number": row.lesson.number,
        "subject": row.lesson.assignment.subject.name,
        "code": row.code.code if row.code else "",
        "reason": row.reason,
        "reason_kind": row.reason_kind,
        "excused": row.excused,  # type: ignore[attr-defined]  # journal.absences.EXCUSED_FLAG, annotated by the caller
        "version": row.version,
    }


def _report_out(request: HttpRequest, school: str, r: AbsenceReport) -> dict[str, Any]:
    return {
        "id": r.pk,
        "student": r.student_id,
        "student_name": r.student.user.full_name,
        "start": r.start,
        "end": r.end,
        "kind": r.kind,
        "text": r.text,
        "document": f"/api/v1/schools/{school}/appeals/absence-reports/{r.pk}/document" if r.document_name else None,
        "reported_by": r.reported_by.short_name,
        "reported_at": r.reported_at,
        "status": r.status,
        "excused": r.excused,
        "decided_by": r.decided_by.short_name if r.decided_by else None,
        "decided_at": r.decided_at,
        "comment": r.decision_comment,
        "applied": r.applied_count,
    }


def _flag_out(fl: MarkFlag) -> dict[str, Any]:
    return {
        "id": fl.pk,
        "mark": fl.mark_id,
        "student": fl.student_id,
        "student_name": fl.student.user.full_name,
        "subject": fl.assignment.subject.name,
        "lesson_date": fl.mark.lesson.date,
        "value_when_flagged": fl.value_when_flagged,
        "comment": fl.comment,
        "flagged_by": fl.flagged_by.short_name,
        "flagged_at": fl.flagged_at,
        "status": fl.status,
        "answer": fl.answer,
        "new_value": fl.new_value,
        "answered_by": fl.answered_by.short_name if fl.answered_by else None,
        "answered_at": fl.answered_at,
    }


def _writer(ctx: SchoolContext) -> None:
    if not scopes.may_write_appeals(ctx):
        raise PermissionDeniedError(_("You may not do this."))


# --- Absences of a class (R2.8) -----------------------------------------------------


@router.get(
    "/{school}/appeals/classes/{class_id}/absences",
    response=Page[AbsenceOut],
    summary="Missed lessons of a class between two days",
)
def list_absences(request: HttpRequest, school: str, class_id: int, q: Query[AbsenceQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    school_class = get_or_404(scopes.absence_classes(ctx), pk=class_id)
    _range(q.start, q.end)
    rows = scopes.class_absences(ctx, school_class, q.start, q.end).annotate(excused=EXCUSED_FLAG)
    return paginate(request, rows, q, ABSENCE_SORTS, _absence_out)


@router.get(
    "/{school}/appeals/classes/{class_id}/absence-summary",
    response=Page[SummaryOut],
    summary="Per student: missed lessons, excused, not excused",
)
def absence_summary(request: HttpRequest, school: str, class_id: int, q: Query[SummaryQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    school_class = get_or_404(scopes.absence_classes(ctx), pk=class_id)
    start, end = q.start, q.end
    _range(start, end)
    rows = queries.class_summary(school_class, scopes.class_absences(ctx, school_class, start, end), start, end)
    items = [
        {
            "student": s.student.pk,
            "student_name": s.student.user.full_name,
            "total": s.total,
            "excused": s.excused,
            "unexcused": s.unexcused,
            "with_reason": s.with_reason,
        }
        for s in rows
    ]
    return paginate(request, items, q, SUMMARY_SORTS)


@router.post(
    "/{school}/appeals/classes/{class_id}/absence-reasons",
    response=list[AbsenceOut],
    summary="The class teacher records one reason for several absences (all or nothing)",
)
def record_reasons(request: HttpRequest, school: str, class_id: int, payload: ReasonsIn) -> list[Any]:
    ctx = _ctx(request, school)
    _writer(ctx)
    school_class = get_or_404(scopes.absence_classes(ctx), pk=class_id)
    ids = [item.attendance for item in payload.absences]
    rows = {
        r.pk: r
        for r in journal_access.attendance(ctx).filter(pk__in=ids, lesson__assignment__school_class=school_class)
    }
    if len(rows) != len(set(ids)):
        raise Http404
    done = services.record_absence_reasons(
        acting_user=ctx.user,
        absences=[(rows[item.attendance], item.expected_version) for item in payload.absences],
        kind=payload.kind,
        text=payload.reason,
        excused=payload.excused,
    )
    fresh = {
        r.pk: r
        for r in journal_access.attendance(ctx)
        .filter(pk__in=[r.pk for r in done])
        .select_related("lesson__assignment__subject", "student__user")
        .annotate(excused=EXCUSED_FLAG)
    }
    return [_absence_out(fresh[r.pk]) for r in done]


# --- Reports of parents (R2.11) -------------------------------------------------------


@router.get("/{school}/appeals/absence-reports", response=Page[ReportOut], summary="Reports the caller may read")
def list_reports(request: HttpRequest, school: str, q: Query[ReportQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school, scopes.may_open_reports)
    qs = scopes.absence_reports(ctx)
    if q.status:
        qs = qs.filter(status=q.status)
    return paginate(request, qs, q, REPORT_SORTS, lambda r: _report_out(request, school, r))


@router.post(
    "/{school}/appeals/absence-reports",
    response={201: ReportOut},
    summary="A parent reports the reason of an absence (multipart: fields and an optional `document`)",
)
def create_report(
    request: HttpRequest,
    school: str,
    payload: Form[ReportIn],
    document: UploadedFile | None = File(None),  # noqa: B008 - django-ninja's way to declare a file part
) -> Status:
    ctx = _ctx(request, school)
    _writer(ctx)
    student = get_or_404(scopes.reportable_students(ctx), pk=payload.student)
    report = services.submit_absence_report(
        acting_user=ctx.user,
        student=student,
        start=payload.start,
        end=payload.end,
        kind=payload.kind,
        text=payload.text,
        document=document,
    )
    return Status(201, _report_out(request, school, get_or_404(scopes.absence_reports(ctx), pk=report.pk)))


@router.post(
    "/{school}/appeals/absence-reports/{report_id}/decision",
    response=ReportOut,
    summary="The class teacher accepts (the reason goes onto the absences) or rejects a report",
)
def decide_report(request: HttpRequest, school: str, report_id: int, payload: DecisionIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _writer(ctx)
    report = get_or_404(scopes.absence_reports(ctx), pk=report_id)
    services.decide_absence_report(
        acting_user=ctx.user,
        report=report,
        accept=payload.decision == "accept",
        comment=payload.comment,
        excused=payload.excused,
    )
    return _report_out(request, school, get_or_404(scopes.absence_reports(ctx), pk=report_id))


@router.post(
    "/{school}/appeals/absence-reports/{report_id}/apply",
    response=ReportOut,
    summary="Put an accepted report's reason onto absences recorded since",
)
def apply_report(request: HttpRequest, school: str, report_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _writer(ctx)
    report = get_or_404(scopes.absence_reports(ctx), pk=report_id)
    services.apply_accepted_report(acting_user=ctx.user, report=report)
    return _report_out(request, school, get_or_404(scopes.absence_reports(ctx), pk=report_id))


@router.get("/{school}/appeals/absence-reports/{report_id}/document", summary="The document of a report")
def report_document(request: HttpRequest, school: str, report_id: int) -> FileResponse:
    ctx = _ctx(request, school)
    report = get_or_404(scopes.absence_reports(ctx).exclude(document=""), pk=report_id)
    return uploads.file_response(report.document, name=report.document_name, mime=report.document_type)


# --- Flagged marks (R2.11) -------------------------------------------------------------


@router.get("/{school}/appeals/mark-flags", response=Page[FlagOut], summary="Flagged marks the caller may read")
def list_flags(request: HttpRequest, school: str, q: Query[FlagQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school, scopes.may_open_flags)
    qs = scopes.mark_flags(ctx)
    if q.status:
        qs = qs.filter(status=q.status)
    return paginate(request, qs, q, FLAG_SORTS, _flag_out)


@router.post("/{school}/appeals/mark-flags", response={201: FlagOut}, summary="Flag a mark as wrong")
def create_flag(request: HttpRequest, school: str, payload: FlagIn) -> Status:
    ctx = _ctx(request, school)
    _writer(ctx)
    mark = get_or_404(scopes.flaggable_marks(ctx), pk=payload.mark)
    flag = services.flag_mark(acting_user=ctx.user, mark=mark, comment=payload.comment)
    return Status(201, _flag_out(get_or_404(scopes.mark_flags(ctx), pk=flag.pk)))


@router.post(
    "/{school}/appeals/mark-flags/{flag_id}/answer",
    response=FlagOut,
    summary="The teacher confirms the mark or corrects it",
)
def answer_flag(request: HttpRequest, school: str, flag_id: int, payload: AnswerIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _writer(ctx)
    flag = get_or_404(scopes.mark_flags(ctx), pk=flag_id)
    services.answer_mark_flag(
        acting_user=ctx.user,
        flag=flag,
        correct=payload.outcome == "correct",
        answer=payload.answer,
        text=payload.text,
    )
    return _flag_out(get_or_404(scopes.mark_flags(ctx), pk=flag_id))
