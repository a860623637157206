"""One lesson cell of the journal: a mark, an attendance entry (R2.1, R2.2, R2.5, R2.8)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_lesson_of,
)
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    GradeKind,
    Lesson,
    Mark,
    PeriodGrade,
    WorkType,
)
from classbook.journal.rules import policy_for
from classbook.journal.services import _sql
from classbook.journal.services._common import (
    MAX_SLOT,
    CellConflict,
    CellValue,
    _change,
    _logged,
    _raise_period_closed,
    default_work_type,
    is_late_entry,
)
from classbook.people.models import Enrolment, Student, User
from classbook.schools.models import (
    MarkingScale,
    ScaleValue,
    School,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)


@dataclass(frozen=True)
class _Cell:
    """What one cell save needs to know about its lesson's journal and the student (one row)."""

    teacher_id: int
    school_id: int
    subgroup_id: int | None
    scale_id: int | None
    enrolled: bool
    in_subgroup: bool
    closed: bool
    default_work_type_id: int | None


@functools.cache
def _cell_sql() -> str:
    """The cell query as text, built once: the ORM spends milliseconds compiling a query this shape."""
    t = {m.__name__: m._meta.db_table for m in (TeachingAssignment, Enrolment, PeriodGrade, StudyPeriod, WorkType)}
    t.update(
        subject=Subject._meta.db_table,
        school_class=SchoolClass._meta.db_table,
        year_level=YearLevel._meta.db_table,
        school=School._meta.db_table,
        members=Subgroup.students.through._meta.db_table,
    )
    q = connection.ops.quote_name
    # Only table names from model metadata go into the text; every value is a query parameter.
    return f"""
SELECT a.teacher_id, a.school_id, a.subgroup_id,
  COALESCE(a.scale_id, su.scale_id, yl.scale_id, sc.default_scale_id),
  EXISTS (SELECT 1 FROM {q(t["Enrolment"])} e WHERE e.student_id = %(student)s
          AND e.school_class_id = a.school_class_id AND e.start <= %(day)s
          AND (e.{q("end")} IS NULL OR e.{q("end")} >= %(day)s)),
  EXISTS (SELECT 1 FROM {q(t["members"])} m WHERE m.subgroup_id = a.subgroup_id AND m.student_id = %(student)s),
  EXISTS (SELECT 1 FROM {q(t["PeriodGrade"])} g JOIN {q(t["StudyPeriod"])} p ON p.id = g.period_id
          WHERE g.assignment_id = a.id AND g.student_id = %(student)s AND g.kind IN (%(period)s, %(annual)s)
          AND p.start <= %(day)s AND p.{q("end")} >= %(day)s),
  (SELECT w.id FROM {q(t["WorkType"])} w WHERE w.school_id = a.school_id AND w.is_active
   ORDER BY w.ordinal, w.id LIMIT 1)
FROM {q(t["TeachingAssignment"])} a
JOIN {q(t["subject"])} su ON su.id = a.subject_id
JOIN {q(t["school_class"])} c ON c.id = a.school_class_id
LEFT JOIN {q(t["year_level"])} yl ON yl.id = c.year_level_id
JOIN {q(t["school"])} sc ON sc.id = a.school_id
WHERE a.id = %(assignment)s"""  # noqa: S608


def _cell_context(acting_user: User, lesson: Lesson, student: Student, *, period_check: bool) -> _Cell:
    """Everything a cell save checks, in one query (issue 3: a save is a handful of round trips).

    Who teaches the lesson's journal, its effective scale (assignment, subject, year level, school
    default: ``TeachingAssignment.effective_scale`` in SQL), the school's default work type, and as
    ``EXISTS`` flags the student's enrolment in the class on the lesson day, their membership of the
    subgroup and a period/annual grade closing the period (R2.7). The checks then run in the original
    order, so the same error wins.
    """
    params: dict[str, Any] = {
        "student": student.pk,
        "day": lesson.date,
        "period": GradeKind.PERIOD.value,
        "annual": GradeKind.ANNUAL.value,
        "assignment": lesson.assignment_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_cell_sql(), params)
        row = cursor.fetchone()
    cell = _Cell(row[0], row[1], row[2], row[3], bool(row[4]), bool(row[5]), bool(row[6]), row[7])
    if not can_edit_lesson_of(acting_user, cell.teacher_id, lesson.conducted_by_id):
        raise PermissionDeniedError(_("Only the teacher of this lesson may change it."))
    # The policy is read only for future lessons, so the everyday write costs no extra query.
    if lesson.date > timezone.localdate() and not policy_for(lesson.school_id).allow_future_marks:
        raise DomainError(_("A lesson in the future cannot have marks or attendance yet."), code="future_lesson")
    if student.school_id != cell.school_id or not cell.enrolled:
        raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    if cell.subgroup_id and not cell.in_subgroup:
        raise DomainError(_("This student is not in the subgroup of the lesson."), code="not_in_subgroup")
    if period_check and cell.closed:
        _raise_period_closed()
    return cell


def _parse_cell_mark(lesson: Lesson, scale_id: int | None, text: str) -> ScaleValue:
    """``parse_mark`` for a scale known by id: its values (with the scale) in one query, once per lesson instance."""
    if scale_id is None:
        raise DomainError(_("No marking scale is set for this subject."), code="no_scale")
    values = getattr(lesson, "_scale_values", None)
    if values is None or values[0] != scale_id:
        values = (scale_id, list(ScaleValue.objects.filter(scale_id=scale_id).select_related("scale")))
        lesson._scale_values = values  # type: ignore[attr-defined]
    scale = values[1][0].scale if values[1] else MarkingScale.objects.get(pk=scale_id)
    try:
        return scale.parse(text, values=values[1])
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code=exc.code or "invalid_mark", field="value") from None


# The cell's row with its value (or code), compiled once per process (services._sql); the slot is a
# constant of the text (one text per slot used: a small integer column does not take the binder's sentinels).
@functools.cache
def _mark_query(slot: int) -> _sql.PreparedCell:
    return _sql.PreparedCell(
        Mark,
        "value",
        lambda lesson, student, work_type: Mark.objects.select_related("value").filter(
            lesson_id=lesson, student_id=student, work_type_id=work_type, slot=slot
        ),
    )


_ATTENDANCE = _sql.PreparedCell(
    Attendance,
    "code",
    lambda lesson, student: Attendance.objects.select_related("code").filter(lesson_id=lesson, student_id=student),
)


def _current_mark(lesson: Lesson, student: Student, work_type_id: int, slot: int) -> Mark | None:
    return _mark_query(slot).get(lesson=lesson.pk, student=student.pk, work_type=work_type_id)  # type: ignore[no-any-return]


@transaction.atomic
def record_mark(
    *,
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    work_type: WorkType | None = None,
    slot: int = 0,
    comment: str | None = None,
    reason: str = "",
) -> Mark:
    """Set, change or clear (``text=""``) a student's mark for a lesson (R2.1, R2.5).

    ``expected_version`` is the version the writer saw (0 for an empty cell); if the cell moved on,
    ``CellConflict`` is raised and nothing changes. Entries after the deadline are flagged late (R2.2).
    Once the student's period (or annual) grade is set, the marks of that period are closed (R2.7).
    Work types that allow several marks per lesson use ``slot`` 0..MAX_SLOT.

    Round trips (issue 3): the checks (1), the scale's values (1), the cell (1), the write (1) and
    the audit row (1). The write of an existing cell is ``UPDATE … WHERE version = expected``: no row
    lock is taken before it; zero rows updated means somebody else wrote first (a conflict), and the
    value read before is then the old value of the audit row, because every change bumps the version.
    """
    cell = _cell_context(acting_user, lesson, student, period_check=True)
    if work_type is None:
        if cell.default_work_type_id is None:
            raise DomainError(_("The school has no work types configured."), code="no_work_types")
        work_type_id = cell.default_work_type_id
        # The work type's row is read only when a slot asks whether it allows several marks.
        several = default_work_type(lesson.school_id).allows_several if slot else False
    else:
        if work_type.school_id != lesson.school_id:
            raise DomainError(_("Unknown work type."), code="invalid_work_type")
        work_type_id = work_type.pk
        several = work_type.allows_several
    if slot and not several:
        raise DomainError(_("This work type allows one mark per lesson."), code="one_mark_only")
    if not 0 <= slot <= MAX_SLOT:
        raise DomainError(
            _("At most %(count)s marks of one work type per lesson.") % {"count": MAX_SLOT + 1}, code="too_many_marks"
        )
    if comment is not None and len(comment) > 300:
        raise DomainError(_("The comment is too long (300 characters at most)."), code="invalid", field="comment")
    value = _parse_cell_mark(lesson, cell.scale_id, text) if text.strip() else None
    late = is_late_entry(lesson)
    current = _current_mark(lesson, student, work_type_id, slot)
    new_comment = (current.comment if current else "") if comment is None else comment
    mark = _write_cell(
        model=Mark,
        current=current,
        reread=lambda: _current_mark(lesson, student, work_type_id, slot),
        shown=_mark_code,
        expected_version=expected_version,
        new_text=value.code if value else "",
        create=None
        if value is None
        else {
            "school_id": lesson.school_id,
            "lesson": lesson,
            "student": student,
            "work_type_id": work_type_id,
            "slot": slot,
            "value": value,
            "comment": new_comment,
            "is_late": late,
            "created_by": acting_user,
            "updated_by": acting_user,
        },
        changes={"value": value, "comment": new_comment, "updated_by": acting_user},
        unchanged=current is not None and current.comment == new_comment,
        audit={"acting_user": acting_user, "kind": ChangeKind.MARK, "lesson": lesson, "student": student},
        reason=reason,
        late=late,
    )
    if mark is None:
        raise DomainError(_("There is no mark to clear."), code="nothing_to_clear")
    if work_type is not None:
        mark.work_type = work_type
    return mark


def _mark_code(mark: Mark) -> str:
    return mark.value.code if mark.value else ""


def _attendance_code(row: Attendance) -> str:
    return row.code.code if row.code else ""


def _write_cell(
    *,
    model: Any,
    current: Any,
    reread: Callable[[], Any],
    shown: Callable[[Any], str],
    expected_version: int,
    new_text: str,
    create: dict[str, Any] | None,
    changes: dict[str, Any],
    unchanged: bool,
    audit: dict[str, Any],
    reason: str,
    late: bool,
) -> Any:
    """The versioned write of one cell (a mark or an attendance entry) and its audit row (R2.1, R2.2).

    ``current`` is the row read before (None for an empty cell). An empty cell is inserted from
    ``create`` (None: nothing to insert, the caller decides) with ``ON CONFLICT DO NOTHING``: no row
    inserted means somebody inserted first. An existing row is written by ``UPDATE … WHERE version =
    expected`` with ``changes``: no row lock is taken before it; zero rows means somebody wrote first.
    Both conflicts raise ``CellConflict`` with what the cell holds now (``reread``), and nothing changes
    (the audit row is written only with the cell's write). Nothing is written or logged when the text
    and ``unchanged`` (the other fields) say so.
    Statements: the write and the audit row, one statement on PostgreSQL, two on SQLite (services._sql).
    """
    if current is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        if create is None:
            return None
        row = model(**create)
        change = _change(**audit, object_id=None, old="", new=new_text, reason=reason, is_late=late)
        if not _sql.insert_with_audit(row, change, "object_id"):
            now_there = reread()
            if now_there is None:  # pragma: no cover - inserted and deleted again in the meantime
                raise CellConflict(CellValue("", 0))
            raise CellConflict(CellValue(shown(now_there), now_there.version))
        _logged(change, audit["student"])
        return row
    old_text = shown(current)
    if current.version != expected_version:
        raise CellConflict(CellValue(old_text, current.version))
    if new_text == old_text and unchanged:
        return current
    changes = {**changes, "is_late": current.is_late or late, "updated_at": timezone.now()}
    change = _change(**audit, object_id=current.pk, old=old_text, new=new_text, reason=reason, is_late=late)
    if not _sql.update_with_audit(model, current.pk, expected_version, changes, change, "object_id"):
        # Somebody wrote between our read and our write; the UPDATE waited for them and matched nothing.
        now_there = reread()
        if now_there is None:  # pragma: no cover - cleared rows stay; only a deleted lesson removes them
            raise CellConflict(CellValue("", 0))
        raise CellConflict(CellValue(shown(now_there), now_there.version))
    for name, new in changes.items():
        setattr(current, name, new)
    current.version = expected_version + 1
    _logged(change, audit["student"])
    return current


def parse_attendance(lesson: Lesson, text: str) -> AttendanceCode:
    """The school's attendance code typed as ``text``; a retired code (not in use) is refused (R2.8)."""
    code = AttendanceCode.objects.filter(school_id=lesson.school_id, code__iexact=text.strip()[:4]).first()
    if code is not None and not code.is_active:
        raise DomainError(
            _("“%(code)s” is no longer in use at this school. Records that have it keep it.") % {"code": code.code},
            code="retired_attendance",
            field="value",
        )
    if code is None:
        allowed = ", ".join(
            AttendanceCode.objects.filter(school_id=lesson.school_id, is_active=True).values_list("code", flat=True)
        )
        raise DomainError(
            _("“%(code)s” is not an attendance mark. Allowed: %(allowed)s.")
            % {"code": text.strip()[:10], "allowed": allowed},
            code="invalid_attendance",
            field="value",
        )
    return code


@transaction.atomic
def record_attendance(
    *,
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    reason: str = "",
) -> Attendance | None:
    """Mark a student absent/late at a lesson (``text`` is an attendance code) or present (``text=""``) (R2.8).

    Recording attendance also records that the register was taken for the lesson.
    As ``record_mark``: the checks in one query, an existing cell written by ``UPDATE … WHERE version``.
    """
    _cell_context(acting_user, lesson, student, period_check=False)
    code = parse_attendance(lesson, text) if text.strip() else None
    late = is_late_entry(lesson)
    current = _current_attendance(lesson, student)
    row = _write_cell(
        model=Attendance,
        current=current,
        reread=lambda: _current_attendance(lesson, student),
        shown=_attendance_code,
        expected_version=expected_version,
        new_text=code.code if code else "",
        create=None
        if code is None
        else {
            "school_id": lesson.school_id,
            "lesson": lesson,
            "student": student,
            "code": code,
            "is_late": late,
            "recorded_by": acting_user,
        },
        changes={"code": code, "recorded_by": acting_user},
        unchanged=True,
        audit={"acting_user": acting_user, "kind": ChangeKind.ATTENDANCE, "lesson": lesson, "student": student},
        reason=reason,
        late=late,
    )
    _mark_register_taken(acting_user, lesson)
    return row


def _current_attendance(lesson: Lesson, student: Student) -> Attendance | None:
    return _ATTENDANCE.get(lesson=lesson.pk, student=student.pk)  # type: ignore[no-any-return]


def _mark_register_taken(acting_user: User, lesson: Lesson) -> None:
    if lesson.register_taken_at is None:
        lesson.register_taken_at = timezone.now()
        lesson.register_taken_by = acting_user
        Lesson.objects.filter(pk=lesson.pk, register_taken_at__isnull=True).update(
            register_taken_at=lesson.register_taken_at, register_taken_by=acting_user
        )
