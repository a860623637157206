"""Journal operations (R2): every change is checked, versioned against lost updates and audited.

Each function takes ``acting_user`` keyword-only, runs in one transaction, locks the row it changes
(``select_for_update``), compares the version the writer saw, and writes a ``JournalChange``.
A stale writer gets ``ConflictError`` carrying the current value (HTTP 409 in the API).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import can_edit_assignment, can_edit_lesson
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    JournalChange,
    Lesson,
    LessonType,
    Mark,
    WorkType,
)
from classbook.people.models import Student
from classbook.schools.models import ScaleValue, TeachingAssignment


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


def _ensure_editable(acting_user: Any, lesson: Lesson) -> None:
    if not can_edit_lesson(acting_user, lesson):
        raise PermissionDeniedError(_("Only the teacher of this lesson may change it."))
    if lesson.date > timezone.localdate():
        raise DomainError(_("A lesson in the future cannot have marks or attendance yet."), code="future_lesson")


def _ensure_student_in_lesson(lesson: Lesson, student: Student) -> None:
    assignment = lesson.assignment
    if student.school_id != lesson.school_id:
        raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    enrolled = student.enrolments.filter(school_class_id=assignment.school_class_id, start__lte=lesson.date).exclude(
        end__lt=lesson.date
    )
    if not enrolled.exists():
        raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    if assignment.subgroup_id and not assignment.subgroup.students.filter(pk=student.pk).exists():
        raise DomainError(_("This student is not in the subgroup of the lesson."), code="not_in_subgroup")


def _log(
    *,
    acting_user: Any,
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


def default_work_type(school_id: int) -> WorkType:
    work_type = WorkType.objects.filter(school_id=school_id, is_active=True).order_by("ordinal", "id").first()
    if work_type is None:
        raise DomainError(_("The school has no work types configured."), code="no_work_types")
    return work_type


def parse_mark(lesson: Lesson, text: str) -> ScaleValue:
    scale = lesson.assignment.effective_scale()
    if scale is None:
        raise DomainError(_("No marking scale is set for this subject."), code="no_scale")
    try:
        return scale.parse(text)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code=exc.code or "invalid_mark", field="value") from None


@transaction.atomic
def record_mark(
    *,
    acting_user: Any,
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
    """
    _ensure_editable(acting_user, lesson)
    _ensure_student_in_lesson(lesson, student)
    work_type = work_type or default_work_type(lesson.school_id)
    if work_type.school_id != lesson.school_id:
        raise DomainError(_("Unknown work type."), code="invalid_work_type")
    if slot and not work_type.allows_several:
        raise DomainError(_("This work type allows one mark per lesson."), code="one_mark_only")
    value = parse_mark(lesson, text) if text.strip() else None
    late = is_late_entry(lesson)
    mark = (
        Mark.objects.select_for_update(of=("self",))
        .select_related("value")
        .filter(lesson=lesson, student=student, work_type=work_type, slot=slot)
        .first()
    )
    if mark is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        if value is None:
            raise DomainError(_("There is no mark to clear."), code="nothing_to_clear")
        try:
            with transaction.atomic():
                mark = Mark.objects.create(
                    school_id=lesson.school_id,
                    lesson=lesson,
                    student=student,
                    work_type=work_type,
                    slot=slot,
                    value=value,
                    comment=comment or "",
                    is_late=late,
                    created_by=acting_user,
                    updated_by=acting_user,
                )
        except IntegrityError:
            current = Mark.objects.select_related("value").get(
                lesson=lesson, student=student, work_type=work_type, slot=slot
            )
            raise CellConflict(CellValue(current.value.code if current.value else "", current.version)) from None
        _log(
            acting_user=acting_user,
            kind=ChangeKind.MARK,
            lesson=lesson,
            student=student,
            object_id=mark.pk,
            old="",
            new=value.code,
            reason=reason,
            is_late=late,
        )
        return mark
    old_code = mark.value.code if mark.value else ""
    if mark.version != expected_version:
        raise CellConflict(CellValue(old_code, mark.version))
    new_code = value.code if value else ""
    new_comment = mark.comment if comment is None else comment
    if new_code == old_code and new_comment == mark.comment:
        return mark
    mark.value = value
    mark.comment = new_comment
    mark.version += 1
    mark.updated_by = acting_user
    mark.is_late = mark.is_late or late
    mark.save(update_fields=["value", "comment", "version", "updated_by", "is_late", "updated_at"])
    _log(
        acting_user=acting_user,
        kind=ChangeKind.MARK,
        lesson=lesson,
        student=student,
        object_id=mark.pk,
        old=old_code,
        new=new_code,
        reason=reason,
        is_late=late,
    )
    return mark


def parse_attendance(lesson: Lesson, text: str) -> AttendanceCode:
    code = AttendanceCode.objects.filter(school_id=lesson.school_id, code__iexact=text.strip()[:4]).first()
    if code is None:
        allowed = ", ".join(AttendanceCode.objects.filter(school_id=lesson.school_id).values_list("code", flat=True))
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
    acting_user: Any,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    reason: str = "",
) -> Attendance | None:
    """Mark a student absent/late at a lesson (``text`` is an attendance code) or present (``text=""``) (R2.8).

    Recording attendance also records that the register was taken for the lesson.
    """
    _ensure_editable(acting_user, lesson)
    _ensure_student_in_lesson(lesson, student)
    code = parse_attendance(lesson, text) if text.strip() else None
    late = is_late_entry(lesson)
    row = Attendance.objects.select_for_update(of=("self",)).select_related("code").filter(lesson=lesson, student=student).first()
    if row is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        if code is None:
            _mark_register_taken(acting_user, lesson)
            return None
        try:
            with transaction.atomic():
                row = Attendance.objects.create(
                    school_id=lesson.school_id,
                    lesson=lesson,
                    student=student,
                    code=code,
                    is_late=late,
                    recorded_by=acting_user,
                )
        except IntegrityError:
            current = Attendance.objects.select_related("code").get(lesson=lesson, student=student)
            raise CellConflict(CellValue(current.code.code if current.code else "", current.version)) from None
        _log(
            acting_user=acting_user,
            kind=ChangeKind.ATTENDANCE,
            lesson=lesson,
            student=student,
            object_id=row.pk,
            old="",
            new=code.code,
            reason=reason,
            is_late=late,
        )
        _mark_register_taken(acting_user, lesson)
        return row
    old_code = row.code.code if row.code else ""
    if row.version != expected_version:
        raise CellConflict(CellValue(old_code, row.version))
    new_code = code.code if code else ""
    if new_code != old_code:
        row.code = code
        row.version += 1
        row.recorded_by = acting_user
        row.is_late = row.is_late or late
        row.save(update_fields=["code", "version", "recorded_by", "is_late", "updated_at"])
        _log(
            acting_user=acting_user,
            kind=ChangeKind.ATTENDANCE,
            lesson=lesson,
            student=student,
            object_id=row.pk,
            old=old_code,
            new=new_code,
            reason=reason,
            is_late=late,
        )
    _mark_register_taken(acting_user, lesson)
    return row


def _mark_register_taken(acting_user: Any, lesson: Lesson) -> None:
    if lesson.register_taken_at is None:
        lesson.register_taken_at = timezone.now()
        lesson.register_taken_by = acting_user
        Lesson.objects.filter(pk=lesson.pk, register_taken_at__isnull=True).update(
            register_taken_at=lesson.register_taken_at, register_taken_by=acting_user
        )


@transaction.atomic
def take_register(*, acting_user: Any, lesson: Lesson) -> Lesson:
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
    *, acting_user: Any, lesson_id: int, expected_version: int, reason: str = "", **changes: Any
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
    acting_user: Any,
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
