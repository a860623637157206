"""What every journal write shares: versions and conflicts, lateness, membership checks, the audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_lesson,
    can_edit_lesson_of,
    may_import_journal,
)
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.events import send_on_commit
from classbook.journal.events import journal_changed
from classbook.journal.models import (
    GradeKind,
    JournalChange,
    Lesson,
    PeriodGrade,
    WorkType,
)
from classbook.journal.rules import policy_for
from classbook.journal.services import _sql
from classbook.people.models import Student, User
from classbook.schools.models import (
    TeachingAssignment,
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


# The time the teacher's device says an offline entry was made (issue 17), while the batch sync writes it:
# the late flag is decided on it and the audit row records it beside the server's time (``entered_at``).
_DEVICE_TIME: ContextVar[dt.datetime | None] = ContextVar("journal_device_time", default=None)


@contextmanager
def entered_at(device_time: dt.datetime) -> Iterator[None]:
    """Writes inside are entries made offline at ``device_time`` (already checked against the school's bounds)."""
    token = _DEVICE_TIME.set(device_time)
    try:
        yield
    finally:
        _DEVICE_TIME.reset(token)


# The import of another system's gradebook running now (issue 13): (the importing user's id, the school's id).
_IMPORT: ContextVar[tuple[int, int] | None] = ContextVar("journal_import", default=None)


@contextmanager
def imported_by(acting_user: User, school_id: int) -> Iterator[None]:
    """Writes inside are an import of marks by ``acting_user`` (the director or an administrator, access
    ``may_import_journal``) into the journals of the school: the services let them write every journal of
    that school, with every other rule of the cell as for the teacher, and the audit rows name them."""
    if not may_import_journal(acting_user, school_id):
        raise PermissionDeniedError(_("Only the director or an administrator imports marks."))
    token = _IMPORT.set((acting_user.pk, school_id))
    try:
        yield
    finally:
        _IMPORT.reset(token)


def may_write_journal(acting_user: User, teacher_id: int, conducted_by_id: int | None, school_id: int) -> bool:
    """The journal's teacher, the substitute of the lesson, or the importer inside ``imported_by``."""
    return can_edit_lesson_of(acting_user, teacher_id, conducted_by_id) or _IMPORT.get() == (acting_user.pk, school_id)


def is_late_entry(lesson: Lesson, now: dt.datetime | None = None) -> bool:
    """An entry is late after the school's deadline on the lesson day, or on any later day (R2.2).

    An entry made offline is judged at the time it was made on the device (issue 17), not when it arrived."""
    now = now or _DEVICE_TIME.get() or timezone.now()
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


def period_closed(assignment_id: int, student_id: int, day: dt.date) -> bool:
    """Whether the student's period or annual grade of a period containing ``day`` is set in the journal:
    then everything of the student in that period is closed (R2.7; the cell's query asks the same in SQL)."""
    return PeriodGrade.objects.filter(
        assignment_id=assignment_id,
        student_id=student_id,
        kind__in=[GradeKind.PERIOD, GradeKind.ANNUAL],
        period__start__lte=day,
        period__end__gte=day,
    ).exists()


def _raise_period_closed() -> None:
    raise DomainError(
        _(
            "The period grade of this student is already set, so the marks, comments and attendance of the period "
            "are closed. A change is possible only as a recorded correction of the period grade."
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
    change = _change(
        acting_user=acting_user,
        kind=kind,
        lesson=lesson,
        student=student,
        object_id=object_id,
        old=old,
        new=new,
        reason=reason,
        is_late=is_late,
    )
    _sql.insert(change)
    _logged(change, student)


def _change(
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
) -> JournalChange:
    """The audit row of a change of ``lesson`` (not saved: ``_log``, or a cell write inserts it with the cell's)."""
    return _sql.instance(  # type: ignore[no-any-return]
        JournalChange,
        {"actor": acting_user, "lesson": lesson, "student": student},
        adding=True,
        school_id=lesson.school_id,
        actor_id=acting_user.pk,
        kind=kind,
        assignment_id=lesson.assignment_id,
        lesson_id=lesson.pk,
        student_id=student.pk if student is not None else None,
        object_id=object_id,
        old_value=old,
        new_value=new,
        reason=reason,
        is_late=is_late,
        device_at=_DEVICE_TIME.get(),
    )


def _logged(change: JournalChange, student: Student | None) -> None:
    """Announce a saved audit row's change (``_announce``)."""
    _announce(
        change.kind,
        change.school_id,
        change.assignment_id,
        change.lesson_id,
        None,
        student,
        change.object_id,
        change.old_value,
        change.new_value,
    )


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
