"""Lessons: register, topic and homework, lessons added by hand, reasons of absence, one lesson in one request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_lesson,
    is_class_teacher_of,
)
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.journal.models import (
    AbsenceReasonKind,
    Attendance,
    ChangeKind,
    Lesson,
    LessonType,
    Mark,
    WorkType,
)
from classbook.journal.services._common import (
    MAX_BULK_ITEMS,
    CellConflict,
    CellValue,
    _ensure_editable,
    _log,
    _raise_period_closed,
    is_late_entry,
    may_write_journal,
    period_closed,
)
from classbook.journal.services.cells import CellOccupied, _mark_register_taken, record_attendance, record_mark
from classbook.people.models import Student, User
from classbook.schools.models import (
    TeachingAssignment,
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
    if changes.get("homework") and not changes.get("homework_due") and not lesson.homework_due:
        # Homework without a due date is due at the next lesson of the subject (issue 14): every door.
        changes["homework_due"] = next_lesson_date(lesson)
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


def next_lesson_date(lesson: Lesson) -> dt.date | None:
    """The day of the next lesson of the same assignment (class or subgroup, subject) after ``lesson``'s day:
    homework's default due date. The journal's lessons are generated from the timetable, so this is the
    timetable's next lesson; None when none is planned yet (the end of the year)."""
    return (
        Lesson.objects.filter(assignment_id=lesson.assignment_id, date__gt=lesson.date)
        .order_by("date", "number")
        .values_list("date", flat=True)
        .first()
    )


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
    """Add a lesson by hand (extra lessons, or before the timetable exists) (R2.1); an import of marks
    (``imported_by``) adds the lessons its marks need."""
    if not may_write_journal(acting_user, assignment.teacher_id, None, assignment.school_id):
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
    the subject teacher's next write sees the new version. Refused (``period_closed``) once the student's
    period or annual grade of the lesson's period is set (R2.7), as the attendance itself.
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
    # R2.7 and issue 10: the period grade closes everything of the student in the period, the reasons of
    # absences (by the class teacher, or from an accepted parent report) as the attendance itself.
    if period_closed(row.lesson.assignment_id, row.student_id, row.lesson.date):
        _raise_period_closed()
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
    if isinstance(exc, CellOccupied):
        error["holds"] = exc.holds
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

    ``marks`` items: ``{"student": id, "text", "expected_version", "work_type": code|None, "slot", "comment",
    "replace"}``; ``attendance`` items: ``{"student": id, "text", "expected_version", "replace"}``. Each item
    goes through ``record_mark``/``record_attendance`` (the same rules, versions and audit as every door;
    marks first, then attendance); if any item is refused, ``BulkRejected`` lists every refused item and
    the whole request is rolled back.
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
                    replace=bool(item.get("replace", False)),
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
                    replace=bool(item.get("replace", False)),
                )
            )
        except PermissionDeniedError:
            raise
        except DomainError as exc:
            errors.append(_item_error("attendance", index, exc))
    if errors:
        raise BulkRejected(errors)
    return result
