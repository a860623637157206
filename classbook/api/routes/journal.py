"""The class journal over JSON (R2, R6.10): ``/api/v1/schools/{school}/journal/...``.

Thin: the school comes from ``resolve_school``, every row from ``classbook.access.journal`` scopes
(a journal the caller may not open answers 404), every write goes through ``classbook.journal.services``
(a journal the caller may open but not write answers 403). Stale writers get 409 with the current value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.responses import NinjaJSONEncoder

from classbook.access import journal as journal_access
from classbook.access.context import SchoolContext, resolve_school, school_for
from classbook.access.scopes import directory, get_or_404
from classbook.api import etag
from classbook.api.errors import error_body
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core import uploads
from classbook.core.errors import ConflictError, DomainError
from classbook.journal import attachments, freshness, services
from classbook.journal.grid import api_json, read_grid, study_periods
from classbook.journal.models import (
    Attendance,
    HomeworkAttachment,
    Lesson,
    LessonType,
    Mark,
    PeriodGrade,
    Remark,
    WorkType,
)
from classbook.journal.queries import assignment_data, changes_log_rows, offline_conflicts, readable_assignment
from classbook.journal.rules import feedback_data
from classbook.people.models import Student
from classbook.schools.models import StudyPeriod, TeachingAssignment

router = Router(tags=["journal"])


# --- Schemas ---------------------------------------------------------------------


class AssignmentOut(Schema):
    id: int
    subject: str
    school_class: str
    subgroup: str | None
    teacher: str
    hours_per_week: Decimal
    can_edit: bool


class LessonOut(Schema):
    id: int
    date: dt.date
    number: int | None
    topic: str
    lesson_type: str
    homework: str
    homework_due: dt.date | None
    version: int
    register_taken: bool
    conducted_by: int | None


class MarkOut(Schema):
    id: int
    lesson: int
    student: int
    work_type: str
    slot: int
    value: str
    comment: str
    version: int
    is_late: bool


class AttendanceOut(Schema):
    id: int | None
    lesson: int
    student: int
    value: str
    reason: str
    version: int
    is_late: bool


class PeriodGradeOut(Schema):
    id: int
    student: int
    kind: str
    ordinal: int
    title: str
    value: str
    version: int
    locked: bool


class WarningOut(Schema):
    code: str = Field(description="too_few_marks, annual_disagrees, annual_basis_incomplete, …")
    message: str


class BasisGradeOut(Schema):
    period: int
    period_name: str
    value: str
    corrected: bool = Field(description="A corrected grade, replacing the original period grade")
    original: str | None = Field(None, description="The original period grade a corrected grade replaced")


class AnnualBasisOut(Schema):
    basis: list[BasisGradeOut] = Field(description="The period grades the annual grade rests on, in order")
    missing_periods: list[str]
    mean: Decimal | None = Field(None, description="The arithmetic mean of the basis, before rounding")
    expected: str | None = Field(None, description="The value the school's rule gives (none: the teacher decides)")
    checked: bool = Field(description="Whether the school checks the annual grade against its rule")
    warnings: list[WarningOut]


class AnnualOut(AnnualBasisOut):
    student: int
    value: str | None = Field(None, description="The annual grade given, if any")


class PeriodGradeSavedOut(PeriodGradeOut):
    warnings: list[WarningOut] = Field(description="The school's rules the grade does not meet; it is saved anyway")
    basis: AnnualBasisOut | None = Field(None, description="For an annual grade: what it rests on")


class GridAttendanceOut(AttendanceOut):
    excused: bool = Field(description="Missed and excused, by its code or a recorded reason (journal.absences)")


class GridPeriodGradeOut(PeriodGradeOut):
    warnings: list[WarningOut] = Field(description="What the school's rules say about this grade (saved anyway)")
    basis: list[BasisGradeOut] = Field(description="The period grades an annual grade rests on")


class StudentOut(Schema):
    id: int
    name: str


class PeriodOut(Schema):
    id: int
    name: str
    start: dt.date
    end: dt.date


class AccumulationOut(Schema):
    student: int
    count: int
    required: int
    average: Decimal | None = Field(None, description="The average mark, rounded half-up by the school's rule")
    below_rule: bool = Field(False, description="Fewer marks than the school requires (when it checks the rule)")
    warnings: list[WarningOut] = Field(default_factory=list)


class WorkTypeOut(Schema):
    code: str
    name: str
    short_name: str
    weight: Decimal
    allows_several: bool


class GridOut(Schema):
    assignment: AssignmentOut
    period: PeriodOut
    students: list[StudentOut]
    lessons: list[LessonOut]
    marks: list[MarkOut]
    attendance: list[GridAttendanceOut]
    period_grades: list[GridPeriodGradeOut]
    accumulation: list[AccumulationOut]
    annual: list[AnnualOut]
    work_types: list[WorkTypeOut]


class LessonIn(Schema):
    date: dt.date
    number: int | None = Field(None, ge=1, le=20)
    topic: str = Field("", max_length=500)
    lesson_type: LessonType = LessonType.REGULAR


class LessonPatch(Schema):
    expected_version: int = Field(..., ge=1)
    topic: str | None = Field(None, max_length=500)
    homework: str | None = Field(None, max_length=4000)
    homework_due: dt.date | None = None
    lesson_type: LessonType | None = None
    number: int | None = Field(None, ge=1, le=20)
    reason: str = Field("", max_length=500)


class MarkIn(Schema):
    student: int
    text: str = Field(..., max_length=32)
    expected_version: int = Field(..., ge=0)
    work_type: str | None = None
    slot: int = Field(0, ge=0, le=services.MAX_SLOT)
    comment: str | None = Field(None, max_length=300)
    reason: str = Field("", max_length=500)
    replace: bool = Field(
        False, description="Replace what the cell holds of the other kind (an absence by a mark, or the reverse)"
    )


class AttendanceIn(Schema):
    student: int
    text: str = Field(..., max_length=10)
    expected_version: int = Field(..., ge=0)
    reason: str = Field("", max_length=500)
    replace: bool = Field(
        False, description="Replace what the cell holds of the other kind (an absence by a mark, or the reverse)"
    )


class BulkMarkIn(Schema):
    student: int
    text: str = Field(..., max_length=32)
    expected_version: int = Field(..., ge=0)
    work_type: str | None = None
    slot: int = Field(0, ge=0, le=services.MAX_SLOT)
    comment: str | None = Field(None, max_length=300)
    replace: bool = Field(
        False, description="Replace what the cell holds of the other kind (an absence by a mark, or the reverse)"
    )


class BulkAttendanceIn(Schema):
    student: int
    text: str = Field(..., max_length=10)
    expected_version: int = Field(..., ge=0)
    replace: bool = Field(
        False, description="Replace what the cell holds of the other kind (an absence by a mark, or the reverse)"
    )


class BulkIn(Schema):
    marks: list[BulkMarkIn] = Field(default_factory=list, max_length=services.MAX_BULK_ITEMS)
    attendance: list[BulkAttendanceIn] = Field(default_factory=list, max_length=services.MAX_BULK_ITEMS)


class BulkOut(Schema):
    marks: list[MarkOut]
    attendance: list[AttendanceOut]


class ReasonIn(Schema):
    reason: str = Field(..., max_length=300)
    expected_version: int = Field(..., ge=1)
    kind: str | None = Field(None, max_length=14)  # AbsenceReasonKind; unchanged when left out
    excused: bool | None = None  # a valid (excused) reason; unchanged when left out


class PeriodGradeIn(Schema):
    student: int
    period: int
    kind: Literal["thematic", "period", "annual", "exam"]
    text: str = Field(..., max_length=32)
    expected_version: int = Field(..., ge=0)
    ordinal: int = Field(0, ge=0, le=50)
    title: str = Field("", max_length=120)


class CorrectionIn(Schema):
    text: str = Field(..., max_length=32)
    reason: str = Field(..., max_length=500)
    order_ref: str = Field(..., max_length=120)


class RemarkIn(Schema):
    text: str = Field(..., max_length=1000)
    lesson: int | None = None
    student: int | None = None


class FixIn(Schema):
    note: str = Field("", max_length=500)


class RemarkOut(Schema):
    id: int
    assignment: int
    journal: str
    teacher: str
    lesson: int | None
    lesson_date: dt.date | None
    student: int | None
    text: str
    author: str
    created_at: dt.datetime
    fixed_at: dt.datetime | None
    fixed_by: str | None
    fixed_note: str


class ChangeOut(Schema):
    id: int
    at: dt.datetime
    actor: str
    kind: str
    lesson: int | None
    student: int | None
    period: int | None
    old_value: str = Field(description="The stored value (a code or key, as written)")
    new_value: str = Field(description="The stored value (a code or key, as written)")
    old_label: str = Field("", description="The old value as words in the caller's language")
    new_label: str = Field("", description="The new value as words in the caller's language")
    reason: str
    is_late: bool


class OfflineEntryIn(Schema):
    id: str = Field(..., max_length=64, description="The device's own id of the entry, echoed in its result")
    kind: Literal["cell", "mark", "attendance", "lesson"] = Field(
        description="cell: the grid's lesson cell as typed (a mark or an attendance code); mark: a mark with its "
        "comment; attendance: an attendance code; lesson: the lesson's topic and homework"
    )
    lesson: int = Field(..., ge=1, le=2**62)
    student: int | None = Field(None, ge=1, le=2**62)
    value: str = Field("", max_length=32)
    comment: str | None = Field(None, max_length=300)
    topic: str | None = Field(None, max_length=500)
    homework: str | None = Field(None, max_length=4000)
    version: str = Field(
        "0",
        max_length=19,
        pattern=r"^\d{1,9}(\.\d{1,9})?$",
        description="The version the device saw: the grid cell's token (mark.attendance), or the row's version",
    )
    replace: bool = Field(False, description="The teacher typed over what the cell showed (a mark or an absence)")
    device_at: dt.datetime = Field(description="When the entry was made, by the device's clock")


class OfflineSyncIn(Schema):
    entries: list[OfflineEntryIn] = Field(..., max_length=services.offline.MAX_ENTRIES)


class OfflineCurrentOut(Schema):
    value: str
    version: str
    homework: str | None = None
    by: str | None = Field(None, description="Who changed it last")
    at: dt.datetime | None = Field(None, description="When it was changed last (server time)")


class OfflineResultOut(Schema):
    id: str
    status: Literal["applied", "conflict", "refused"]
    value: str = Field(description="Applied: what the cell holds now")
    version: str = Field(description="Applied: the cell's new version")
    late: bool
    code: str = Field(description="Refused: why (offline_too_old, before_lesson, not_yours, not_in_class, …)")
    message: str
    current: OfflineCurrentOut | None = Field(None, description="Conflict: what the cell holds now, who, when")


class OfflineSyncOut(Schema):
    results: list[OfflineResultOut]
    server_time: dt.datetime


# --- Helpers --------------------------------------------------------------------------


def _ctx(request: HttpRequest, school: str) -> SchoolContext:
    """The caller's context; 403 for those who do not open journals (students, parents), as the pages do."""
    return school_for(request.user, school, journal_access.may_open_journals)


def _assignment(ctx: SchoolContext, assignment_id: int) -> TeachingAssignment:
    return get_or_404(journal_access.readable_assignments(ctx), pk=assignment_id)


def _lesson(ctx: SchoolContext, lesson_id: int) -> Lesson:
    return get_or_404(journal_access.lessons(ctx), pk=lesson_id)


def _cell_student(ctx: SchoolContext, student_id: int) -> Student:
    """The student a cell write names. Whether they are in the lesson's class (and subgroup) that day is
    the service's rule (``not_in_class``): the same answer as through the grid and the bulk write, and
    no row is read here (an unknown id is not in the class either)."""
    return Student(pk=student_id, school_id=ctx.school.pk)


def _work_type(ctx: SchoolContext, code: str | None) -> WorkType | None:
    if not code:
        return None
    work_type = journal_access.work_types(ctx).filter(code=code, is_active=True).first()
    if work_type is None:
        raise DomainError(_("Unknown work type."), code="invalid_work_type", field="work_type")
    return work_type


def _lesson_out(lesson: Lesson) -> dict[str, Any]:
    return {
        "id": lesson.pk,
        "date": lesson.date,
        "number": lesson.number,
        "topic": lesson.topic,
        "lesson_type": lesson.lesson_type,
        "homework": lesson.homework,
        "homework_due": lesson.homework_due,
        "version": lesson.version,
        "register_taken": lesson.register_taken_at is not None,
        "conducted_by": lesson.conducted_by_id,
    }


def _mark_out(mark: Mark) -> dict[str, Any]:
    return {
        "id": mark.pk,
        "lesson": mark.lesson_id,
        "student": mark.student_id,
        "work_type": mark.work_type.code,
        "slot": mark.slot,
        "value": mark.value.code if mark.value else "",
        "comment": mark.comment,
        "version": mark.version,
        "is_late": mark.is_late,
    }


def _attendance_out(row: Attendance | None, lesson: Lesson, student_id: int) -> dict[str, Any]:
    if row is None:  # present, and there never was an absence: the cell is empty at version 0
        return {
            "id": None,
            "lesson": lesson.pk,
            "student": student_id,
            "value": "",
            "reason": "",
            "version": 0,
            "is_late": False,
        }
    return {
        "id": row.pk,
        "lesson": row.lesson_id,
        "student": row.student_id,
        "value": row.code.code if row.code else "",
        "reason": row.reason,
        "version": row.version,
        "is_late": row.is_late,
    }


def _grade_out(grade: PeriodGrade) -> dict[str, Any]:
    return {
        "id": grade.pk,
        "student": grade.student_id,
        "kind": grade.kind,
        "ordinal": grade.ordinal,
        "title": grade.title,
        "value": grade.value.code,
        "version": grade.version,
        "locked": grade.locked_at is not None,
    }


def _remark_out(remark: Remark) -> dict[str, Any]:
    return {
        "id": remark.pk,
        "assignment": remark.assignment_id,
        "journal": str(remark.assignment),
        "teacher": remark.assignment.teacher.short_name,
        "lesson": remark.lesson_id,
        "lesson_date": remark.lesson.date if remark.lesson is not None else None,
        "student": remark.student_id,
        "text": remark.text,
        "author": remark.author.short_name,
        "created_at": remark.created_at,
        "fixed_at": remark.fixed_at,
        "fixed_by": remark.fixed_by.short_name if remark.fixed_by is not None else None,
        "fixed_note": remark.fixed_note,
    }


# --- Reading ------------------------------------------------------------------------------

ASSIGNMENT_SORTS = Sorts(
    "class,subject", **{"class": "school_class__name"}, subject="subject__name", teacher="teacher__last_name", id="id"
)
CHANGE_SORTS = Sorts("at", at="at", id="id")
REMARK_SORTS = Sorts("-created_at", created_at="created_at", id="id")
FILE_SORTS = Sorts("uploaded_at", uploaded_at="uploaded_at", name="original_name", size="size", id="id")


class AssignmentQuery(ListQuery):
    sort: str = ASSIGNMENT_SORTS.field()


class HistoryQuery(ListQuery):
    student: int | None = Field(None, ge=1, le=2**62, description="One cell's trail (this student); else the lesson's")
    sort: str = CHANGE_SORTS.field()


class RemarkQuery(ListQuery):
    status: Literal["open", "fixed", "all"] = "open"
    assignment: int | None = Field(None, ge=1, le=2**62)
    sort: str = REMARK_SORTS.field()


class FileQuery(ListQuery):
    sort: str = FILE_SORTS.field()


@router.get("/{school}/journal/assignments", response=Page[AssignmentOut], summary="Journals the caller may open")
def list_assignments(request: HttpRequest, school: str, q: Query[AssignmentQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    return paginate(
        request,
        journal_access.readable_assignments(ctx),
        q,
        ASSIGNMENT_SORTS,
        lambda a: assignment_data(a, can_edit=journal_access.may_edit_journal(ctx, a)),
    )


@router.get(
    "/{school}/journal/assignments/{assignment_id}/grid",
    response={200: GridOut, 304: None},
    summary="A journal's grid for one period (ETag: send If-None-Match to get 304 when unchanged)",
)
def grid(request: HttpRequest, school: str, assignment_id: int, period: int) -> HttpResponse:
    """The grid page's read model (``journal.grid.read_grid``) as lists: the same cells, versions and figures.

    Answered as JSON written directly (``GridOut`` documents it, ``tests/journal/test_grid_read_model.py``
    validates the answer against it): validating ~2,500 facts field by field through the schema took 4/5 of
    the request (about 60 ms at 40 students × 100 lessons), for data the read model already shaped; the
    marks and attendance are written as text directly (``grid.api_json``).

    The ``ETag`` is computed from one query of the grid's state (``journal.freshness``) before the grid is
    built: a client revalidating an unchanged grid gets 304 for that query and the access checks.
    """
    ctx = _ctx(request, school)
    assignment = readable_assignment(ctx, assignment_id)
    if assignment is None:
        raise Http404
    # The year's periods, read once (the grid's own raw query): the asked one or 404, its days for the ETag,
    # and the grid's period choice and columns (``read_grid`` does not read them again).
    periods = study_periods(assignment)
    study_period = next((p for p in periods if p.id == period), None)
    if study_period is None:
        raise Http404
    can_edit = journal_access.may_edit_journal(ctx, assignment)
    state = freshness.grid_state(assignment, study_period.start, study_period.end)
    tag = etag.make_etag(ctx, "grid", state, assignment.pk, study_period.id, can_edit)
    if etag.matches(request, tag):
        return etag.not_modified(tag)
    # The API lists the facts, not the page's cells: the rows' cells are left unbuilt.
    data = read_grid(ctx, assignment, period_id=study_period.id, periods=periods, cells=False)
    heading = assignment_data(assignment, can_edit=can_edit)
    response = HttpResponse(api_json(data, heading, NinjaJSONEncoder), content_type="application/json; charset=utf-8")
    return etag.tagged(response, tag)


@router.get(
    "/{school}/journal/lessons/{lesson_id}/history",
    response=Page[ChangeOut],
    summary="The audit trail of a lesson or of one cell",
)
def history(request: HttpRequest, school: str, lesson_id: int, q: Query[HistoryQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    changes = journal_access.journal_changes(ctx).filter(lesson=lesson)
    changes = changes.filter(student_id=q.student) if q.student is not None else changes.filter(student__isnull=True)
    return paginate(request, changes, q, CHANGE_SORTS, rows_out=lambda rows: _changes_out(rows, ctx.school.pk))


def _changes_out(changes: list[Any], school_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "at": c.at,
            "actor": c.actor.short_name,
            "kind": c.kind,
            "lesson": c.lesson_id,
            "student": c.student_id,
            "period": c.period_id,
            "old_value": c.old_value,
            "new_value": c.new_value,
            "old_label": row.old,
            "new_label": row.new,
            "reason": c.reason,
            "is_late": c.is_late,
        }
        for row in changes_log_rows(changes, school_id)
        for c in [row.change]
    ]


# --- Lessons -------------------------------------------------------------------------------


@router.post(
    "/{school}/journal/assignments/{assignment_id}/lessons",
    response={201: LessonOut},
    summary="Add a lesson (extra or before the timetable)",
)
def create_lesson(request: HttpRequest, school: str, assignment_id: int, payload: LessonIn) -> Status:
    ctx = _ctx(request, school)
    assignment = _assignment(ctx, assignment_id)
    lesson = services.create_lesson(
        acting_user=ctx.user,
        assignment=assignment,
        date=payload.date,
        number=payload.number,
        topic=payload.topic,
        lesson_type=payload.lesson_type,
    )
    return Status(201, _lesson_out(lesson))


@router.patch(
    "/{school}/journal/lessons/{lesson_id}", response=LessonOut, summary="Change topic, type or homework of a lesson"
)
def patch_lesson(request: HttpRequest, school: str, lesson_id: int, payload: LessonPatch) -> Any:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    changes = payload.dict(exclude_unset=True, exclude={"expected_version", "reason"})
    try:
        lesson = services.update_lesson(
            acting_user=ctx.user,
            lesson_id=lesson.pk,
            expected_version=payload.expected_version,
            reason=payload.reason,
            **changes,
        )
    except ConflictError as exc:
        current = _lesson_out(_lesson(ctx, lesson_id))
        return _respond(request, 409, error_body("conflict", str(exc.message), current=current))
    return _lesson_out(lesson)


@router.post(
    "/{school}/journal/lessons/{lesson_id}/register", response=LessonOut, summary="Record that the register was taken"
)
def take_register(request: HttpRequest, school: str, lesson_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    lesson = services.take_register(acting_user=ctx.user, lesson=_lesson(ctx, lesson_id))
    return _lesson_out(lesson)


# --- Cells ---------------------------------------------------------------------------------


@router.put("/{school}/journal/lessons/{lesson_id}/marks", response=MarkOut, summary="Set, change or clear one mark")
def put_mark(request: HttpRequest, school: str, lesson_id: int, payload: MarkIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    student = _cell_student(ctx, payload.student)
    mark = services.record_mark(
        acting_user=ctx.user,
        lesson=lesson,
        student=student,
        text=payload.text,
        expected_version=payload.expected_version,
        work_type=_work_type(ctx, payload.work_type),
        slot=payload.slot,
        comment=payload.comment,
        reason=payload.reason,
        replace=payload.replace,
    )
    return _mark_out(mark)


@router.put(
    "/{school}/journal/lessons/{lesson_id}/attendance",
    response=AttendanceOut,
    summary="Mark a student absent or present",
)
def put_attendance(request: HttpRequest, school: str, lesson_id: int, payload: AttendanceIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    student = _cell_student(ctx, payload.student)
    row = services.record_attendance(
        acting_user=ctx.user,
        lesson=lesson,
        student=student,
        text=payload.text,
        expected_version=payload.expected_version,
        reason=payload.reason,
        replace=payload.replace,
    )
    return _attendance_out(row, lesson, student.pk)


@router.post(
    "/{school}/journal/lessons/{lesson_id}/bulk",
    response=BulkOut,
    summary="Write marks and attendance of one lesson, all or nothing",
)
def bulk(request: HttpRequest, school: str, lesson_id: int, payload: BulkIn) -> Any:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    try:
        result = services.record_lesson_bulk(
            acting_user=ctx.user,
            lesson=lesson,
            marks=[item.dict() for item in payload.marks],
            attendance=[item.dict() for item in payload.attendance],
        )
    except services.BulkRejected as exc:
        status = 409 if exc.has_conflict else 422
        return _respond(request, status, error_body(exc.code, str(exc.message), items=exc.items))
    return {
        "marks": [_mark_out(m) for m in result.marks if m is not None],
        "attendance": [
            _attendance_out(row, lesson, item.student)
            for row, item in zip(result.attendance, payload.attendance, strict=True)
        ],
    }


@router.put(
    "/{school}/journal/attendance/{attendance_id}/reason", response=AttendanceOut, summary="Reason of an absence"
)
def put_reason(request: HttpRequest, school: str, attendance_id: int, payload: ReasonIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    row = get_or_404(journal_access.attendance(ctx), pk=attendance_id)
    row = services.record_absence_reason(
        acting_user=ctx.user,
        attendance=row,
        reason=payload.reason,
        expected_version=payload.expected_version,
        kind=payload.kind,
        excused=payload.excused,
    )
    return _attendance_out(row, row.lesson, row.student_id)


# --- Period grades ----------------------------------------------------------------------------


@router.put(
    "/{school}/journal/assignments/{assignment_id}/period-grades",
    response=PeriodGradeSavedOut,
    summary="Set a thematic, period, annual or exam grade (locked once set)",
)
def put_period_grade(request: HttpRequest, school: str, assignment_id: int, payload: PeriodGradeIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    assignment = _assignment(ctx, assignment_id)
    student = get_or_404(journal_access.journal_students(ctx, assignment), pk=payload.student)
    period = get_or_404(directory(ctx, StudyPeriod), pk=payload.period)
    grade = services.record_period_grade(
        acting_user=ctx.user,
        assignment=assignment,
        student=student,
        period=period,
        kind=payload.kind,
        text=payload.text,
        expected_version=payload.expected_version,
        ordinal=payload.ordinal,
        title=payload.title,
    )
    return {**_grade_out(grade), **feedback_data(grade)}


@router.post(
    "/{school}/journal/period-grades/{grade_id}/correction",
    response={201: PeriodGradeOut},
    summary="Give a corrected semester grade by order of a commission",
)
def correct_grade(request: HttpRequest, school: str, grade_id: int, payload: CorrectionIn) -> Status:
    ctx = _ctx(request, school)
    grade = get_or_404(journal_access.period_grades(ctx), pk=grade_id)
    corrected = services.correct_period_grade(
        acting_user=ctx.user, grade=grade, text=payload.text, reason=payload.reason, order_ref=payload.order_ref
    )
    return Status(201, _grade_out(corrected))


# --- Remarks (R6.10) -----------------------------------------------------------------------------


@router.get(
    "/{school}/journal/remarks", response=Page[RemarkOut], summary="Control remarks on the journals the caller may open"
)
def list_remarks(request: HttpRequest, school: str, q: Query[RemarkQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    remarks = journal_access.remarks(ctx)
    if q.status != "all":
        remarks = remarks.filter(fixed_at__isnull=q.status == "open")
    if q.assignment is not None:
        remarks = remarks.filter(assignment_id=q.assignment)
    return paginate(request, remarks, q, REMARK_SORTS, _remark_out)


@router.post(
    "/{school}/journal/assignments/{assignment_id}/remarks", response={201: RemarkOut}, summary="Leave a control remark"
)
def add_remark(request: HttpRequest, school: str, assignment_id: int, payload: RemarkIn) -> Status:
    ctx = _ctx(request, school)
    assignment = _assignment(ctx, assignment_id)
    lesson = get_or_404(journal_access.lessons(ctx), pk=payload.lesson) if payload.lesson else None
    student = (
        get_or_404(journal_access.journal_students(ctx, assignment), pk=payload.student) if payload.student else None
    )
    remark = services.add_remark(
        acting_user=ctx.user, assignment=assignment, text=payload.text, lesson=lesson, student=student
    )
    return Status(201, _remark_out(get_or_404(journal_access.remarks(ctx), pk=remark.pk)))


@router.post(
    "/{school}/journal/remarks/{remark_id}/fix",
    response=RemarkOut,
    summary="Mark a remark fixed (the journal's teacher)",
)
def fix_remark(request: HttpRequest, school: str, remark_id: int, payload: FixIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    remark = get_or_404(journal_access.remarks(ctx), pk=remark_id)
    services.fix_remark(acting_user=ctx.user, remark=remark, note=payload.note)
    return _remark_out(get_or_404(journal_access.remarks(ctx), pk=remark_id))


# --- Homework files (R2.3, R5.7) ------------------------------------------------------------


class HomeworkFileOut(Schema):
    id: int
    lesson: int
    name: str
    size: int
    mime_type: str  # verified from the file's content at upload
    url: str


def _file_out(school: str, attachment: HomeworkAttachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "lesson": attachment.lesson_id,
        "name": attachment.original_name,
        "size": attachment.size,
        "mime_type": attachment.mime_type,
        "url": f"/api/v1/schools/{school}/journal/files/{attachment.pk}",
    }


@router.get(
    "/{school}/journal/lessons/{lesson_id}/files", response=Page[HomeworkFileOut], summary="Homework files of a lesson"
)
def list_files(request: HttpRequest, school: str, lesson_id: int, q: Query[FileQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    files = journal_access.homework_files(ctx).filter(lesson=lesson)
    return paginate(request, files, q, FILE_SORTS, lambda f: _file_out(school, f))


@router.post(
    "/{school}/journal/lessons/{lesson_id}/files",
    response={201: HomeworkFileOut},
    summary="Attach a homework file (multipart: file); the kind is checked by the content (docs/journal.md)",
)
def attach_file(request: HttpRequest, school: str, lesson_id: int, file: File[UploadedFile]) -> Status:
    ctx = _ctx(request, school)
    lesson = _lesson(ctx, lesson_id)
    attachment = attachments.attach_homework_file(acting_user=ctx.user, lesson=lesson, upload=file)
    return Status(201, _file_out(school, attachment))


@router.get("/{school}/journal/files/{file_id}", response={200: None}, summary="Download a homework file")
def download_file(request: HttpRequest, school: str, file_id: int) -> FileResponse:
    """Journal readers, and the students of the class and their parents (as the page); others get 404.

    Not behind ``_ctx``: students and parents download the files their diary links to; the scope decides.
    """
    ctx = resolve_school(request.user, school)
    attachment = get_or_404(journal_access.homework_files(ctx), pk=file_id)
    return uploads.file_response(attachment.file, name=attachment.original_name, mime=attachment.mime_type)


@router.delete("/{school}/journal/files/{file_id}", response={204: None}, summary="Hide a homework file (kept)")
def remove_file(request: HttpRequest, school: str, file_id: int) -> Status:
    ctx = _ctx(request, school)
    attachment = get_or_404(journal_access.homework_files(ctx), pk=file_id)
    attachments.remove_homework_file(acting_user=ctx.user, attachment=attachment)
    return Status(204, None)


def _respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    from classbook.api.api import api

    return api.create_response(request, body, status=status)


# --- Offline entries (issue 17) -----------------------------------------------------------------


def _offline_entry(item: OfflineEntryIn) -> services.OfflineEntry:
    device_at = item.device_at if timezone.is_aware(item.device_at) else timezone.make_aware(item.device_at)
    changes = {k: v for k, v in (("topic", item.topic), ("homework", item.homework)) if v is not None}
    return services.OfflineEntry(
        kind=item.kind,
        lesson_id=item.lesson,
        device_at=device_at,
        version=item.version,
        student_id=item.student,
        value=item.value,
        comment=item.comment,
        replace=item.replace,
        lesson_changes=changes,
    )


@router.post(
    "/{school}/journal/offline-sync",
    response=OfflineSyncOut,
    summary="Send entries made offline, in order; each is applied, a conflict or refused",
)
def offline_sync(request: HttpRequest, school: str, payload: OfflineSyncIn) -> dict[str, Any]:
    """The grid's offline queue (docs/offline.md): each entry through the journal's write services with the version
    the device saw. Only the caller's own journals (``offline_lessons``); an ended session gets 401 and the device
    keeps its queue. A conflict comes back with the cell's current value, who changed it and when."""
    ctx = _ctx(request, school)
    lesson_ids = {item.lesson for item in payload.entries}
    lessons = {lesson.pk: lesson for lesson in journal_access.offline_lessons(ctx).filter(pk__in=lesson_ids)}
    outcomes = services.sync_offline_entries(
        acting_user=ctx.user, school=ctx.school, lessons=lessons, entries=[_offline_entry(i) for i in payload.entries]
    )
    conflicted = [
        (item.lesson, None if item.kind == "lesson" else item.student)
        for item, outcome in zip(payload.entries, outcomes, strict=True)
        if outcome.status == "conflict"
    ]
    current = offline_conflicts(ctx.school.pk, conflicted)
    results = []
    for item, outcome in zip(payload.entries, outcomes, strict=True):
        now = current.get((item.lesson, None if item.kind == "lesson" else item.student))
        if now is not None and item.kind in ("mark", "attendance"):
            now = {**now, "value": outcome.value, "version": outcome.version}  # the sub-cell the entry wrote
        results.append(
            {
                "id": item.id,
                "status": outcome.status,
                "value": outcome.value if outcome.status == "applied" else "",
                "version": outcome.version if outcome.status == "applied" else "",
                "late": outcome.late,
                "code": outcome.code,
                "message": outcome.message,
                "current": now if outcome.status == "conflict" else None,
            }
        )
    return {"results": results, "server_time": timezone.now()}
