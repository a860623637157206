"""Entries a teacher made without a connection, sent in one batch when it returns (issue 17).

Each entry goes, in the order the teacher made them, through the **same** write service as the online save
(``write_lesson_cell`` for the grid's cell, ``record_mark`` for a mark with its comment, ``record_attendance``,
``update_lesson`` for the topic and homework), with the version the device saw: nothing is written over a
change the teacher did not see. Each entry is its own transaction: one refused entry does not undo the others.

The time the device says the entry was made is bounded by the server: not before the lesson's day, not older
than the school's offline window (``School.offline_window_hours``), not ahead of the server's clock (beyond a
small skew). Inside those bounds the late flag is decided on it and the audit row records it
(``JournalChange.device_at``) beside the server's time (``entered_at``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.journal.models import Lesson
from classbook.journal.services._common import CellConflict, entered_at
from classbook.journal.services.cells import record_attendance, record_mark, write_lesson_cell
from classbook.journal.services.lessons import update_lesson
from classbook.people.models import Student, User
from classbook.schools.models import School

# The kinds of entry the grid queues offline.
CELL, MARK, ATTENDANCE, LESSON = "cell", "mark", "attendance", "lesson"
KINDS = (CELL, MARK, ATTENDANCE, LESSON)
# At most this many entries per request: a device that queued more sends them in several requests.
MAX_ENTRIES = 500
# A device clock this far ahead of the server's is still believed (clocks drift); further is refused.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class OfflineEntry:
    """One queued entry: what was typed, the version the device saw, and when the device says it was typed."""

    kind: str
    lesson_id: int
    device_at: dt.datetime
    version: str = "0"
    student_id: int | None = None
    value: str = ""
    comment: str | None = None
    replace: bool = False
    lesson_changes: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Outcome:
    """What became of one entry: ``applied`` (its new value and version), ``conflict`` (somebody changed the cell
    since the device saw it; ``value``/``version`` are the sub-cell's current ones) or ``refused`` (``code``,
    a translated ``message``)."""

    status: str
    value: str = ""
    version: str = ""
    late: bool = False
    code: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _refused(code: str, message: Any) -> Outcome:
    return Outcome("refused", code=code, message=str(message))


def check_device_time(school: School, lesson: Lesson, device_at: dt.datetime, now: dt.datetime) -> Outcome | None:
    """The server's bounds on the time an offline entry claims (issue 17); None when it is within them."""
    if device_at > now + CLOCK_SKEW:
        return _refused("device_clock_ahead", _("The device's clock is ahead of the server's. Check its time."))
    if device_at < now - dt.timedelta(hours=school.offline_window_hours):
        return _refused(
            "offline_too_old",
            _("Entered offline more than %(hours)s hours ago: the school accepts offline entries for that long only.")
            % {"hours": school.offline_window_hours},
        )
    if timezone.localtime(device_at).date() < lesson.date:
        return _refused("before_lesson", _("The entry is dated before the lesson took place."))
    return None


def sync_offline_entries(
    *,
    acting_user: User,
    school: School,
    lessons: Mapping[int, Lesson],
    entries: Iterable[OfflineEntry],
    now: dt.datetime | None = None,
) -> list[Outcome]:
    """Apply queued offline entries in order, each through the journal's own write service (R2.1, R2.2, R2.8).

    ``lessons`` are the lessons the caller may write offline (``access.journal.offline_lessons``), by id; an
    entry of any other lesson is refused. Returns one outcome per entry, in order.
    """
    now = now or timezone.now()
    outcomes = []
    for entry in entries:
        lesson = lessons.get(entry.lesson_id)
        if lesson is None:
            outcomes.append(_refused("not_yours", _("This lesson is not in your journals.")))
            continue
        lesson.school = school  # the lesson's school is the caller's (``offline_lessons`` scopes by it)
        outcome = check_device_time(school, lesson, entry.device_at, now) or _apply(acting_user, lesson, entry)
        outcomes.append(outcome)
    return outcomes


def _apply(acting_user: User, lesson: Lesson, entry: OfflineEntry) -> Outcome:
    try:
        # Each writer is one transaction of its own (the services are atomic): no savepoint of ours around it.
        with entered_at(entry.device_at):
            return _WRITERS[entry.kind](acting_user, lesson, entry)
    except CellConflict as exc:
        return Outcome("conflict", value=exc.current.value, version=str(exc.current.version), message=str(exc.message))
    except ConflictError as exc:
        return Outcome("conflict", message=str(exc.message))
    except PermissionDeniedError as exc:
        return _refused("forbidden", exc.message)
    except DomainError as exc:
        return Outcome("refused", code=exc.code, message=str(exc.message), extra=dict(getattr(exc, "extra", {})))
    except (KeyError, ValueError):
        return _refused("invalid", _("The entry is not valid."))


def _student(lesson: Lesson, entry: OfflineEntry) -> Student:
    if entry.student_id is None:
        raise ValueError("no student")
    # Whether they are in the lesson's class is the cell service's rule (``not_in_class``).
    return Student(pk=entry.student_id, school_id=lesson.school_id)


def _cell(acting_user: User, lesson: Lesson, entry: OfflineEntry) -> Outcome:
    mark_version, _sep, att_version = entry.version.partition(".")
    cell = write_lesson_cell(
        acting_user=acting_user,
        lesson=lesson,
        student=_student(lesson, entry),
        text=entry.value,
        mark_version=int(mark_version or 0),
        attendance_version=int(att_version or 0),
        replace=entry.replace,
    )
    return Outcome("applied", value=cell.value, version=cell.version, late=cell.late)


def _mark(acting_user: User, lesson: Lesson, entry: OfflineEntry) -> Outcome:
    mark = record_mark(
        acting_user=acting_user,
        lesson=lesson,
        student=_student(lesson, entry),
        text=entry.value,
        expected_version=int(entry.version),
        comment=entry.comment,
        replace=entry.replace,
    )
    value = mark.value.code if mark.value else ""
    return Outcome("applied", value=value, version=str(mark.version), late=mark.is_late)


def _attendance(acting_user: User, lesson: Lesson, entry: OfflineEntry) -> Outcome:
    row = record_attendance(
        acting_user=acting_user,
        lesson=lesson,
        student=_student(lesson, entry),
        text=entry.value,
        expected_version=int(entry.version),
        replace=entry.replace,
    )
    if row is None:
        return Outcome("applied", value="", version="0")
    return Outcome("applied", value=row.code.code if row.code else "", version=str(row.version), late=row.is_late)


def _lesson(acting_user: User, lesson: Lesson, entry: OfflineEntry) -> Outcome:
    changes = {k: v for k, v in entry.lesson_changes.items() if k in ("topic", "homework")}
    if not changes:
        raise ValueError("nothing to change")
    updated = update_lesson(
        acting_user=acting_user, lesson_id=lesson.pk, expected_version=int(entry.version), **changes
    )
    return Outcome("applied", value=updated.topic, version=str(updated.version), extra={"homework": updated.homework})


_WRITERS = {CELL: _cell, MARK: _mark, ATTENDANCE: _attendance, LESSON: _lesson}
