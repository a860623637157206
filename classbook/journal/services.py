"""Journal operations (R2): every change is checked, versioned against lost updates and audited.

Each function takes ``acting_user`` keyword-only, runs in one transaction, locks the row it changes
(``select_for_update``; the cell saves instead write with ``UPDATE … WHERE version = expected``),
compares the version the writer saw, and writes a ``JournalChange``.
A stale writer gets ``ConflictError`` carrying the current value (HTTP 409 in the API).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_assignment,
    can_edit_lesson,
    can_edit_lesson_of,
    is_class_teacher_of,
    may_correct_grades,
    may_remark,
)
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.events import send_on_commit
from classbook.journal.events import journal_changed
from classbook.journal.models import (
    AbsenceReasonKind,
    Attendance,
    AttendanceCode,
    ChangeKind,
    GradeCorrection,
    GradeKind,
    JournalChange,
    JournalPolicy,
    Lesson,
    LessonType,
    Mark,
    PeriodGrade,
    Remark,
    WorkType,
)
from classbook.journal.rules import accumulation as accumulation  # re-exported: the rules callers look for here
from classbook.journal.rules import annual_grade_basis as annual_grade_basis
from classbook.journal.rules import correction_last_day, policy_for
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

# Several marks per lesson (work types that allow it) use slots 0..MAX_SLOT.
MAX_SLOT = 9
# One bulk request covers one lesson: a class or subgroup, a few work types.
MAX_BULK_ITEMS = 300


@dataclass(frozen=True)
class CellValue:
    """What a cell holds now: the printed value and its version (0 = never written)."""

    value: str
    version: int


class CellConflict(ConflictError):
    """Somebody else changed the cell since the writer read it."""

    def __init__(self, current: CellValue) -> None:
        super().__init__(
            _("Somebody changed this cell in the meantime. It now holds “%(value)s”. Check it and enter yours again.")
            % {"value": current.value or "—"}
        )
        self.current = current
        self.extra = {"current": {"value": current.value, "version": current.version}}


def is_late_entry(lesson: Lesson, now: dt.datetime | None = None) -> bool:
    """An entry is late after the school's deadline on the lesson day, or on any later day (R2.2)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    if local.date() > lesson.date:
        return True
    return local.date() == lesson.date and local.time() > lesson.school.entry_deadline


def _ensure_editable(acting_user: User, lesson: Lesson) -> None:
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this lesson may change it."))
    # The policy is read only for future lessons, so the everyday write costs no extra query.
    if lesson.date > timezone.localdate() and not policy_for(lesson.school_id).allow_future_marks:
        raise DomainError(_("A lesson in the future cannot have marks or attendance yet."), code="future_lesson")


def _raise_period_closed() -> None:
    raise DomainError(
        _(
            "The period grade of this student is already set, so the marks of the period are closed. "
            "A change is possible only as a recorded correction of the period grade."
        ),
        code="period_closed",
    )


def _ensure_student_in_lesson(lesson: Lesson, student: Student) -> None:
    _ensure_student_in_assignment(lesson.assignment, student, lesson.date, lesson.date)


def _ensure_student_in_assignment(
    assignment: TeachingAssignment, student: Student, start: dt.date, end: dt.date
) -> None:
    """The student was in the class (and subgroup) of the assignment at some day between ``start`` and ``end``."""
    if student.school_id != assignment.school_id:
        raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    enrolled = student.enrolments.filter(school_class_id=assignment.school_class_id, start__lte=end).exclude(
        end__lt=start
    )
    if not enrolled.exists():
        raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    if assignment.subgroup is not None and not assignment.subgroup.students.filter(pk=student.pk).exists():
        raise DomainError(_("This student is not in the subgroup of the lesson."), code="not_in_subgroup")


def _log(
    *,
    acting_user: User,
    kind: str,
    lesson: Lesson,
    student: Student | None,
    object_id: int | None,
    old: str,
    new: str,
    reason: str = "",
    is_late: bool = False,
) -> None:
    JournalChange.objects.create(
        school_id=lesson.school_id,
        actor=acting_user,
        kind=kind,
        assignment_id=lesson.assignment_id,
        lesson=lesson,
        student=student,
        object_id=object_id,
        old_value=old,
        new_value=new,
        reason=reason,
        is_late=is_late,
    )
    _announce(kind, lesson.school_id, lesson.assignment_id, lesson.pk, None, student, object_id, old, new)


def _announce(
    kind: str,
    school_id: int,
    assignment_id: int,
    lesson_id: int | None,
    period_id: int | None,
    student: Any,
    object_id: int | None,
    old: str,
    new: str,
) -> None:
    """Tell listeners (notifications) about the change once the transaction commits; no query here."""
    item = {"kind": kind, "school_id": school_id, "assignment_id": assignment_id, "lesson_id": lesson_id}
    item |= {"period_id": period_id, "student_id": getattr(student, "pk", student), "object_id": object_id}
    send_on_commit(journal_changed, Lesson, item | {"old": old[:200], "new": new[:200]})


def default_work_type(school_id: int) -> WorkType:
    work_type = WorkType.objects.filter(school_id=school_id, is_active=True).order_by("ordinal", "id").first()
    if work_type is None:
        raise DomainError(_("The school has no work types configured."), code="no_work_types")
    return work_type


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


def _current_mark(lesson: Lesson, student: Student, work_type_id: int, slot: int) -> Mark | None:
    return (
        Mark.objects.select_related("value")
        .filter(lesson_id=lesson.pk, student_id=student.pk, work_type_id=work_type_id, slot=slot)
        .first()
    )


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
    ``create`` (None: nothing to insert, the caller decides) inside a savepoint: a unique violation
    means somebody inserted first. An existing row is written by ``UPDATE … WHERE version = expected``
    with ``changes``: no row lock is taken before it; zero rows means somebody wrote first. Both
    conflicts raise ``CellConflict`` with what the cell holds now (``reread``), and nothing changes.
    Nothing is written or logged when the text and ``unchanged`` (the other fields) say so.
    Statements: INSERT or UPDATE (1) and the audit row (1).
    """
    if current is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        if create is None:
            return None
        try:
            with transaction.atomic():
                row = model.objects.create(**create)
        except IntegrityError:
            now_there = reread()
            if now_there is None:  # pragma: no cover - inserted and deleted again in the meantime
                raise CellConflict(CellValue("", 0)) from None
            raise CellConflict(CellValue(shown(now_there), now_there.version)) from None
        _log(**audit, object_id=row.pk, old="", new=new_text, reason=reason, is_late=late)
        return row
    old_text = shown(current)
    if current.version != expected_version:
        raise CellConflict(CellValue(old_text, current.version))
    if new_text == old_text and unchanged:
        return current
    changes = {**changes, "is_late": current.is_late or late, "updated_at": timezone.now()}
    updated = model.objects.filter(pk=current.pk, version=expected_version).update(
        **changes, version=expected_version + 1
    )
    if not updated:
        # Somebody wrote between our read and our write; the UPDATE waited for them and matched nothing.
        now_there = reread()
        if now_there is None:  # pragma: no cover - cleared rows stay; only a deleted lesson removes them
            raise CellConflict(CellValue("", 0))
        raise CellConflict(CellValue(shown(now_there), now_there.version))
    for name, new in changes.items():
        setattr(current, name, new)
    current.version = expected_version + 1
    _log(**audit, object_id=current.pk, old=old_text, new=new_text, reason=reason, is_late=late)
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
    return Attendance.objects.select_related("code").filter(lesson_id=lesson.pk, student_id=student.pk).first()


def _mark_register_taken(acting_user: User, lesson: Lesson) -> None:
    if lesson.register_taken_at is None:
        lesson.register_taken_at = timezone.now()
        lesson.register_taken_by = acting_user
        Lesson.objects.filter(pk=lesson.pk, register_taken_at__isnull=True).update(
            register_taken_at=lesson.register_taken_at, register_taken_by=acting_user
        )


@transaction.atomic
def take_register(*, acting_user: User, lesson: Lesson) -> Lesson:
    """Record that attendance was taken, so "nobody absent" differs from "not taken" (R2.8)."""
    _ensure_editable(acting_user, lesson)
    if lesson.register_taken_at is None:
        _mark_register_taken(acting_user, lesson)
        _log(
            acting_user=acting_user,
            kind=ChangeKind.REGISTER,
            lesson=lesson,
            student=None,
            object_id=lesson.pk,
            old="",
            new="taken",
            is_late=is_late_entry(lesson),
        )
    return lesson


LESSON_FIELDS = {
    "topic": ChangeKind.TOPIC,
    "homework": ChangeKind.HOMEWORK,
    "homework_due": ChangeKind.HOMEWORK,
    "lesson_type": ChangeKind.LESSON,
    "number": ChangeKind.LESSON,
}


@transaction.atomic
def update_lesson(
    *, acting_user: User, lesson_id: int, expected_version: int, reason: str = "", **changes: Any
) -> Lesson:
    """Change a lesson's topic, type, homework (text and due date) or number (R2.1, R2.3), audited per field."""
    unknown = set(changes) - set(LESSON_FIELDS)
    if unknown:
        raise DomainError(
            _("These lesson fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    lesson = Lesson.objects.select_for_update(of=("self",)).select_related("assignment", "school").get(pk=lesson_id)
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this lesson may change it."))
    if lesson.version != expected_version:
        raise ConflictError(_("Somebody changed this lesson in the meantime. Reload it and enter yours again."))
    old = {name: getattr(lesson, name) for name in changes}
    for name, value in changes.items():
        setattr(lesson, name, value)
    if "lesson_type" in changes and changes["lesson_type"] not in LessonType.values:
        raise DomainError(_("Unknown lesson type."), field="lesson_type")
    if lesson.homework_due and lesson.homework_due < lesson.date:
        raise DomainError(_("Homework cannot be due before the lesson."), field="homework_due")
    try:
        lesson.full_clean(exclude=["assignment", "school", "created_by", "conducted_by", "register_taken_by"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from None
    changed = [name for name in changes if old[name] != getattr(lesson, name)]
    if not changed:
        return lesson
    lesson.version += 1
    lesson.save(update_fields=[*changed, "version", "updated_at"])
    late = is_late_entry(lesson)
    for name in changed:
        _log(
            acting_user=acting_user,
            kind=LESSON_FIELDS[name],
            lesson=lesson,
            student=None,
            object_id=lesson.pk,
            old=_text(old[name]),
            new=_text(getattr(lesson, name)),
            reason=reason,
            is_late=late,
        )
    return lesson


def _text(value: Any) -> str:
    return "" if value is None else str(value)[:4000]


@transaction.atomic
def create_lesson(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    date: dt.date,
    number: int | None = None,
    topic: str = "",
    lesson_type: str = LessonType.REGULAR,
) -> Lesson:
    """Add a lesson by hand (extra lessons, or before the timetable exists) (R2.1)."""
    if not can_edit_assignment(acting_user, assignment):
        raise PermissionDeniedError(_("Only the teacher of this class and subject may add lessons."))
    year = assignment.year
    if not (year.start <= date <= year.end):
        raise DomainError(
            _("The date is outside the academic year (%(start)s - %(end)s).") % {"start": year.start, "end": year.end},
            field="date",
        )
    lesson = Lesson(
        school_id=assignment.school_id,
        assignment=assignment,
        date=date,
        number=number,
        topic=topic,
        lesson_type=lesson_type,
        created_by=acting_user,
    )
    try:
        lesson.full_clean(exclude=["assignment", "school", "created_by"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from None
    lesson.save()
    _log(
        acting_user=acting_user,
        kind=ChangeKind.LESSON,
        lesson=lesson,
        student=None,
        object_id=lesson.pk,
        old="",
        new=f"{date.isoformat()} {topic}".strip(),
    )
    return lesson


# --- Reasons of absence (R2.8) -------------------------------------------------


def describe_reason(kind: str, excused: bool, text: str) -> str:
    """The reason of an absence as one line for the audit trail: ``[illness, excused] certificate No 5``."""
    if not kind and not excused:
        return text
    labels = [str(AbsenceReasonKind(kind).label)] if kind else []
    labels.append(str(_("excused")) if excused else str(_("not excused")))
    return f"[{', '.join(labels)}] {text}".strip()


@transaction.atomic
def record_absence_reason(
    *,
    acting_user: User,
    attendance: Attendance,
    reason: str,
    expected_version: int,
    kind: str | None = None,
    excused: bool | None = None,
    note: str = "",
) -> Attendance:
    """The class teacher attaches (or changes) the reason of an absence, later than the lesson (R2.8).

    ``kind`` (one of ``AbsenceReasonKind``) and ``excused`` stay as they are when not given. ``note``
    goes to the audit row's reason (e.g. "accepted report No 12"). Versioned like the cell itself:
    the subject teacher's next write sees the new version.
    """
    row = (
        Attendance.objects.select_for_update(of=("self",))
        .select_related("lesson__assignment__school_class", "lesson__school", "student", "code")
        .get(pk=attendance.pk)
    )
    if not is_class_teacher_of(acting_user, row.lesson.assignment.school_class):
        raise PermissionDeniedError(_("Only the class teacher records reasons of absence."))
    if row.code is None:
        raise DomainError(_("The student was not absent at this lesson."), code="not_absent")
    if row.version != expected_version:
        raise CellConflict(CellValue(row.code.code, row.version))
    reason = reason.strip()
    if len(reason) > 300:
        raise DomainError(_("The reason is too long (300 characters at most)."), field="reason")
    new_kind = row.reason_kind if kind is None else kind
    if new_kind and new_kind not in AbsenceReasonKind.values:
        raise DomainError(_("Unknown kind of reason."), code="invalid_kind", field="kind")
    new_excused = row.reason_excused if excused is None else bool(excused)
    if (reason, new_kind, new_excused) == (row.reason, row.reason_kind, row.reason_excused):
        return row
    old = describe_reason(row.reason_kind, row.reason_excused, row.reason)
    row.reason = reason
    row.reason_kind = new_kind
    row.reason_excused = new_excused
    row.reason_recorded_by = acting_user
    row.version += 1
    row.save(update_fields=["reason", "reason_kind", "reason_excused", "reason_recorded_by", "version", "updated_at"])
    _log(
        acting_user=acting_user,
        kind=ChangeKind.ABSENCE_REASON,
        lesson=row.lesson,
        student=row.student,
        object_id=row.pk,
        old=old,
        new=describe_reason(new_kind, new_excused, reason),
        reason=note[:500],
    )
    return row


# --- One lesson in one request --------------------------------------------------


class BulkRejected(DomainError):
    """Some items of a bulk write were refused; nothing of the request was saved.

    ``items`` lists each refused item: ``{"section", "index", "code", "message"[, "current"]}``.
    """

    code = "bulk_rejected"

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(_("Nothing was saved: %(count)s entries need attention.") % {"count": len(items)})
        self.items = items

    @property
    def has_conflict(self) -> bool:
        return any(item["code"] == "conflict" for item in self.items)


@dataclass
class BulkResult:
    marks: list[Mark | None]
    attendance: list[Attendance | None]


def _item_error(section: str, index: int, exc: DomainError) -> dict[str, Any]:
    error: dict[str, Any] = {"section": section, "index": index, "code": exc.code, "message": str(exc.message)}
    if isinstance(exc, CellConflict):
        error["current"] = {"value": exc.current.value, "version": exc.current.version}
    return error


@transaction.atomic
def record_lesson_bulk(
    *,
    acting_user: User,
    lesson: Lesson,
    marks: list[dict[str, Any]] | tuple[()] = (),
    attendance: list[dict[str, Any]] | tuple[()] = (),
) -> BulkResult:
    """Write marks and attendance of one lesson at once, all or nothing (R2.1, R2.8).

    ``marks`` items: ``{"student": id, "text", "expected_version", "work_type": code|None, "slot", "comment"}``;
    ``attendance`` items: ``{"student": id, "text", "expected_version"}``. Each item goes through
    ``record_mark``/``record_attendance`` (same checks, versions and audit); if any item is refused,
    ``BulkRejected`` lists every refused item and the whole request is rolled back.
    """
    _ensure_editable(acting_user, lesson)
    if len(marks) + len(attendance) > MAX_BULK_ITEMS:
        raise DomainError(
            _("At most %(count)s entries per request.") % {"count": MAX_BULK_ITEMS}, code="too_many_items"
        )
    student_ids = {item.get("student") for item in [*marks, *attendance]}
    students = {
        s.pk: s
        for s in Student.objects.filter(
            school_id=lesson.school_id, pk__in=[i for i in student_ids if isinstance(i, int)]
        )
    }
    work_types = {
        w.code: w for w in WorkType.objects.filter(school_id=lesson.school_id, is_active=True).order_by("ordinal", "id")
    }
    default = next(iter(work_types.values()), None)
    errors: list[dict[str, Any]] = []
    result = BulkResult(marks=[], attendance=[])
    for index, item in enumerate(marks):
        try:
            student = students.get(item.get("student"))  # type: ignore[arg-type]
            if student is None:
                raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
            code = item.get("work_type")
            if code and code not in work_types:
                raise DomainError(_("Unknown work type."), code="invalid_work_type")
            result.marks.append(
                record_mark(
                    acting_user=acting_user,
                    lesson=lesson,
                    student=student,
                    text=str(item.get("text", "")),
                    expected_version=int(item.get("expected_version", 0)),
                    work_type=work_types[code] if code else default,
                    slot=int(item.get("slot", 0)),
                    comment=item.get("comment"),
                )
            )
        except PermissionDeniedError:
            raise
        except DomainError as exc:
            errors.append(_item_error("marks", index, exc))
    for index, item in enumerate(attendance):
        try:
            student = students.get(item.get("student"))  # type: ignore[arg-type]
            if student is None:
                raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
            result.attendance.append(
                record_attendance(
                    acting_user=acting_user,
                    lesson=lesson,
                    student=student,
                    text=str(item.get("text", "")),
                    expected_version=int(item.get("expected_version", 0)),
                )
            )
        except PermissionDeniedError:
            raise
        except DomainError as exc:
            errors.append(_item_error("attendance", index, exc))
    if errors:
        raise BulkRejected(errors)
    return result


# --- Period grades and their corrections (R2.5, R2.7) ----------------------------------


def _log_grade(*, acting_user: User, kind: str, grade: PeriodGrade, old: str, new: str, reason: str = "") -> None:
    JournalChange.objects.create(
        school_id=grade.school_id,
        actor=acting_user,
        kind=kind,
        assignment_id=grade.assignment_id,
        lesson=None,
        student_id=grade.student_id,
        period_id=grade.period_id,
        object_id=grade.pk,
        old_value=old,
        new_value=new,
        reason=reason[:500],
    )
    _announce(kind, grade.school_id, grade.assignment_id, None, grade.period_id, grade.student_id, grade.pk, old, new)


def parse_period_grade(assignment: TeachingAssignment, text: str) -> ScaleValue:
    """A grade for a period column: the scale's values plus "н/а" and "звільн."; attendance marks refused."""
    scale = assignment.effective_scale()
    if scale is None:
        raise DomainError(_("No marking scale is set for this subject."), code="no_scale")
    try:
        return scale.parse(text, period_column=True)
    except ValidationError as exc:
        typed = text.strip().lower()
        if typed and AttendanceCode.objects.filter(school_id=assignment.school_id, code__iexact=typed[:4]).exists():
            raise DomainError(
                _("“%(code)s” is an attendance mark; it cannot be a period grade. For “not attested” enter “н/а”.")
                % {"code": text.strip()[:10]},
                code="attendance_in_period_column",
                field="value",
            ) from None
        raise DomainError(exc.messages[0], code=exc.code or "invalid_mark", field="value") from None


@transaction.atomic
def record_period_grade(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    student: Student,
    period: StudyPeriod,
    kind: str,
    text: str,
    expected_version: int,
    ordinal: int = 0,
    title: str = "",
) -> PeriodGrade:
    """Set a thematic, period (semester/quarter), annual or exam grade (R2.5); it is locked at once (R2.7).

    A set grade cannot be changed here: a semester or quarter grade is changed only by
    ``correct_period_grade`` (a recorded correction by an allowed role); thematic and annual grades not at all.
    Setting the same value again is a no-op. Versions protect against two teachers' tabs racing.
    """
    if not can_edit_assignment(acting_user, assignment):
        raise PermissionDeniedError(_("Only the teacher of this class and subject may set its grades."))
    if kind == GradeKind.CORRECTED:
        raise DomainError(_("A corrected grade is given only as a recorded correction."), code="use_correction")
    if kind not in GradeKind.values:
        raise DomainError(_("Unknown kind of grade."), code="invalid_kind", field="kind")
    if period.school_id != assignment.school_id or period.year_id != assignment.year_id:
        raise DomainError(_("The period belongs to another academic year."), code="invalid_period", field="period")
    if not 0 <= ordinal <= 50:
        raise DomainError(_("Unknown theme number."), field="ordinal")
    if len(title) > 120:
        raise DomainError(_("The title is too long (120 characters at most)."), field="title")
    _ensure_student_in_assignment(assignment, student, period.start, period.end)
    if not text.strip():
        raise DomainError(_("Enter a grade. A period grade cannot be cleared."), code="empty", field="value")
    value = parse_period_grade(assignment, text)
    cell = {"assignment": assignment, "student": student, "period": period, "kind": kind, "ordinal": ordinal}
    # No select_related on the locked row: after waiting for a concurrent writer, PostgreSQL re-reads
    # the locked row but not the joined one, so a joined value could be stale or NULL.
    grade = PeriodGrade.objects.select_for_update(of=("self",)).filter(**cell).first()
    if grade is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        now = timezone.now()
        try:
            with transaction.atomic():
                grade = PeriodGrade.objects.create(
                    school_id=assignment.school_id, **cell, title=title, value=value, set_by=acting_user, locked_at=now
                )
        except IntegrityError:
            current = PeriodGrade.objects.select_related("value").get(**cell)
            raise CellConflict(CellValue(current.value.code, current.version)) from None
        _log_grade(acting_user=acting_user, kind=ChangeKind.PERIOD_GRADE, grade=grade, old="", new=value.code)
        return grade
    if grade.version != expected_version:
        raise CellConflict(CellValue(grade.value.code, grade.version))
    if grade.value_id == value.pk:
        return grade
    if kind == GradeKind.PERIOD:
        message = _(
            "This grade was set on %(date)s and is locked. It can be changed only as a recorded correction "
            "by the school's administration."
        )
    else:
        message = _("This grade was set on %(date)s and is locked; this kind of grade cannot be corrected.")
    raise DomainError(
        message % {"date": timezone.localdate(grade.locked_at or grade.set_at).strftime("%d.%m.%Y")},
        code="grade_locked",
    )


@transaction.atomic
def correct_period_grade(
    *, acting_user: User, grade: PeriodGrade, text: str, reason: str, order_ref: str
) -> PeriodGrade:
    """Give a corrected semester (quarter) grade by order of a commission (R2.5, R2.7).

    Only the roles the school allows (default: director, deputy); only for period grades (thematic
    and annual grades cannot be corrected); only within ``correction_window_days`` calendar days
    after the grade was set (default 3: set on the 24th, the 27th is the last day). Both values are
    kept: the period grade stays, a ``corrected`` grade is added (or changed by a later correction in
    the window), each correction is a ``GradeCorrection`` and a journal change. The annual grade
    uses the corrected grade (``rules.annual_grade_basis``).
    """
    grade = PeriodGrade.objects.select_for_update(of=("self",)).select_related("assignment", "school").get(pk=grade.pk)
    policy = policy_for(grade.school_id)
    if not may_correct_grades(acting_user, grade.school_id, policy.correction_roles()):
        raise PermissionDeniedError(_("Your role may not correct period grades."))
    if grade.kind != GradeKind.PERIOD:
        raise DomainError(
            _("Only semester or quarter grades can be corrected; thematic and annual grades cannot."),
            code="not_correctable",
        )
    last_day = correction_last_day(grade, policy)
    if timezone.localdate() > last_day:
        raise DomainError(
            _("A corrected grade could be given until %(date)s (%(days)s days after the semester grade).")
            % {"date": last_day.strftime("%d.%m.%Y"), "days": policy.correction_window_days},
            code="correction_too_late",
        )
    reason, order_ref = reason.strip(), order_ref.strip()
    if not reason:
        raise DomainError(_("Give the reason of the correction."), code="reason_required", field="reason")
    if not order_ref:
        raise DomainError(
            _("Give the order or commission decision the correction is based on."),
            code="order_required",
            field="order_ref",
        )
    if len(reason) > 500 or len(order_ref) > 120:
        raise DomainError(_("The reason or the order reference is too long."), field="reason")
    value = parse_period_grade(grade.assignment, text)
    cell = {
        "assignment_id": grade.assignment_id,
        "student_id": grade.student_id,
        "period_id": grade.period_id,
        "kind": GradeKind.CORRECTED,
        "ordinal": grade.ordinal,
    }
    corrected = PeriodGrade.objects.select_for_update(of=("self",)).filter(**cell).first()
    old_value = corrected.value if corrected else grade.value
    if old_value.pk == value.pk:
        raise DomainError(_("The corrected grade is the same as the current one."), code="no_change", field="value")
    now = timezone.now()
    if corrected is None:
        corrected = PeriodGrade.objects.create(
            school_id=grade.school_id, **cell, title=grade.title, value=value, set_by=acting_user, locked_at=now
        )
    else:
        corrected.value = value
        corrected.version += 1
        corrected.set_by = acting_user
        corrected.locked_at = now
        corrected.save(update_fields=["value", "version", "set_by", "locked_at"])
    correction = GradeCorrection.objects.create(
        school_id=grade.school_id,
        grade=grade,
        old_value=old_value,
        new_value=value,
        reason=reason,
        order_ref=order_ref,
        corrected_by=acting_user,
    )
    _log_grade(
        acting_user=acting_user,
        kind=ChangeKind.CORRECTION,
        grade=corrected,
        old=old_value.code,
        new=value.code,
        reason=f"{reason} ({order_ref})",
    )
    log_action(
        "journal.period_grade.corrected",
        actor=acting_user,
        school=grade.school,
        obj=correction,
        data={"grade": grade.pk, "old": old_value.code, "new": value.code, "order": order_ref},
    )
    return corrected


# --- Control remarks (R6.10) ---------------------------------------------------------


@transaction.atomic
def add_remark(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    text: str,
    lesson: Lesson | None = None,
    student: Student | None = None,
) -> Remark:
    """A deputy, the director or an administrator leaves a remark on a journal or one of its cells (R6.10)."""
    if not may_remark(acting_user, assignment.school_id):
        raise PermissionDeniedError(_("Only the school's administration leaves control remarks."))
    text = text.strip()
    if not text:
        raise DomainError(_("Write the remark."), code="empty", field="text")
    if len(text) > 1000:
        raise DomainError(_("The remark is too long (1000 characters at most)."), field="text")
    if lesson is not None and lesson.assignment_id != assignment.pk:
        raise DomainError(_("The lesson belongs to another journal."), field="lesson")
    if student is not None:
        if lesson is not None:
            _ensure_student_in_lesson(lesson, student)
        elif (
            student.school_id != assignment.school_id
            or not student.enrolments.filter(school_class_id=assignment.school_class_id).exists()
        ):
            raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    remark = Remark.objects.create(
        school_id=assignment.school_id,
        assignment=assignment,
        lesson=lesson,
        student=student,
        text=text,
        author=acting_user,
    )
    log_action(
        "journal.remark.added",
        actor=acting_user,
        school=assignment.school,
        obj=remark,
        data={"assignment": assignment.pk, "lesson": lesson.pk if lesson else None, "text": text},
    )
    return remark


@transaction.atomic
def fix_remark(*, acting_user: User, remark: Remark, note: str = "") -> Remark:
    """The teacher of the journal marks a remark fixed, optionally with a note (R6.10)."""
    remark = Remark.objects.select_for_update(of=("self",)).select_related("assignment", "school").get(pk=remark.pk)
    if not can_edit_assignment(acting_user, remark.assignment):
        raise PermissionDeniedError(_("Only the teacher of this journal marks its remarks fixed."))
    if remark.fixed_at is not None:
        raise DomainError(_("This remark is already marked fixed."), code="already_fixed")
    note = note.strip()
    if len(note) > 500:
        raise DomainError(_("The note is too long (500 characters at most)."), field="note")
    remark.fixed_at = timezone.now()
    remark.fixed_by = acting_user
    remark.fixed_note = note
    remark.save(update_fields=["fixed_at", "fixed_by", "fixed_note"])
    log_action("journal.remark.fixed", actor=acting_user, school=remark.school, obj=remark, data={"note": note})
    return remark


# --- The school's journal rules, work types and attendance codes (R2.2, R2.5-R2.8) ------------------


def _config_audit(action: str, *, acting_user: User, obj: Any, data: dict[str, Any]) -> None:
    log_action(f"journal.{obj._meta.model_name}.{action}", actor=acting_user, school=obj.school, obj=obj, data=data)


def _config_snapshot(obj: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: str(getattr(obj, name)) for name in fields}


def _save_config(*, acting_user: User, obj: Any, fields: dict[str, Any]) -> Any:
    old = _config_snapshot(obj, fields) if obj.pk else {}
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    new = _config_snapshot(obj, fields)
    changed = sorted(k for k in new if old.get(k) != new[k])
    _config_audit(
        "updated" if old else "created",
        acting_user=acting_user,
        obj=obj,
        data={"old": {k: old.get(k) for k in changed}, "new": {k: new[k] for k in changed}},
    )
    return obj


@transaction.atomic
def update_journal_policy(*, acting_user: User, school: Any, fields: dict[str, Any]) -> JournalPolicy:
    """Change the school's journal rules: correction window and roles, accumulation, averages (R2.6, R2.7)."""
    policy = JournalPolicy.objects.select_for_update().get(pk=policy_for(school.pk).pk)
    return _save_config(acting_user=acting_user, obj=policy, fields=fields)


@transaction.atomic
def save_work_type(*, acting_user: User, school: Any, work_type: WorkType | None, fields: dict[str, Any]) -> WorkType:
    """Create or change a work type of the school (R2.5); weights feed the weighted average (R2.6)."""
    obj = WorkType(school=school) if work_type is None else WorkType.objects.select_for_update().get(pk=work_type.pk)
    return _save_config(acting_user=acting_user, obj=obj, fields=fields)


@transaction.atomic
def save_attendance_code(
    *, acting_user: User, school: Any, code: AttendanceCode | None, fields: dict[str, Any]
) -> AttendanceCode:
    """Create or change an attendance code of the school and its meaning (R2.8)."""
    obj = AttendanceCode(school=school) if code is None else AttendanceCode.objects.select_for_update().get(pk=code.pk)
    return _save_config(acting_user=acting_user, obj=obj, fields=fields)


@transaction.atomic
def delete_work_type(*, acting_user: User, work_type: WorkType) -> None:
    """Delete a work type no mark uses; one in use is refused: marks keep their meaning (legal record)."""
    if Mark.objects.filter(work_type=work_type).exists():
        raise DomainError(
            _("“%(name)s” is used by marks and cannot be deleted. Switch off “in use” instead.")
            % {"name": work_type.name},
            code="in_use",
        )
    _config_audit("deleted", acting_user=acting_user, obj=work_type, data={"code": work_type.code})
    work_type.delete()


@transaction.atomic
def delete_attendance_code(*, acting_user: User, code: AttendanceCode) -> None:
    """Delete an attendance code nobody was ever marked with; one in use is refused (legal record)."""
    if Attendance.objects.filter(code=code).exists():
        raise DomainError(
            _("“%(code)s” is used in the journal and cannot be deleted. Switch off “in use” instead.")
            % {"code": code.code},
            code="in_use",
        )
    _config_audit("deleted", acting_user=acting_user, obj=code, data={"code": code.code})
    code.delete()
