"""What counts as a missed lesson, an excused one and a late arrival: one definition for every door (R2.8).

A row of ``Attendance`` is

- **missed** when its code counts as a missed lesson (``AttendanceCode.counts_as_absent``; a cleared row,
  code ``NULL``, is not);
- **excused** when it is missed and either its code means excused (``AttendanceCode.is_excused``, e.g. "б",
  "у") or a valid reason was recorded on it (``Attendance.reason_excused``): by the class teacher
  (``appeals.services.record_absence_reasons``) or by accepting a parent's report of absence with "excused"
  (``appeals.services.decide_absence_report``, which writes the same flag on each matching absence);
- **unexcused** when it is missed and not excused;
- **late** when its code means late (``AttendanceCode.is_late``), whether or not that code also counts as
  a missed lesson;
- **for illness** when it is missed and its kind of reason is illness, excused or not: the kind recorded on
  the row (``Attendance.reason_kind``, set by the class teacher or by an accepted parent's report) or, when
  none is recorded, the kind its code means (``AttendanceCode.reason_kind``, e.g. the Russian-style "б");
- a **whole day missed** by a student is a day on which they missed every lesson they had: the held lessons
  (not cancelled by the timetable) of the classes they were enrolled in that day, of the whole class or of
  a subgroup they belong to (``day_absences``).

Every page, PDF, API answer and report that shows these figures reads them through ``absence_counts`` (one
aggregate query) or, row by row, through ``EXCUSED_FLAG`` (in SQL) or ``is_excused`` (on values read);
nothing else decides it. See docs/journal.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Q,
    QuerySet,
    Value,
    When,
)

from classbook.journal.models import AbsenceReasonKind, Attendance, Lesson
from classbook.people.models import Enrolment
from classbook.schools.models import Subgroup
from classbook.timetable.models import ChangeKind as TimetableChangeKind

MISSED = Q(code__counts_as_absent=True)
EXCUSED = MISSED & (Q(code__is_excused=True) | Q(reason_excused=True))
LATE = Q(code__is_late=True)
# The kind of a missed lesson: the one the class teacher recorded on it, else the one its code means ("б").
ILLNESS = MISSED & (
    Q(reason_kind=AbsenceReasonKind.ILLNESS) | (Q(reason_kind="") & Q(code__reason_kind=AbsenceReasonKind.ILLNESS))
)

# The same rule for one row, as a column: ``.annotate(excused=EXCUSED_FLAG)``.
EXCUSED_FLAG = Case(When(EXCUSED, then=Value(True)), default=Value(False), output_field=BooleanField())


def is_excused(*, missed: bool, code_excused: bool, reason_excused: bool) -> bool:
    """The same rule for a row already read as values (the journal grid reads its code's flags once per
    school): missed, and excused by its code or by a recorded reason."""
    return missed and (code_excused or reason_excused)


@dataclass(frozen=True)
class Counts:
    """Missed lessons, of them excused and unexcused, late arrivals, missed lessons with a reason given, and
    missed lessons for illness (excused or not)."""

    missed: int = 0
    excused: int = 0
    late: int = 0
    with_reason: int = 0
    illness: int = 0

    @property
    def unexcused(self) -> int:
        return self.missed - self.excused

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.missed + other.missed,
            self.excused + other.excused,
            self.late + other.late,
            self.with_reason + other.with_reason,
            self.illness + other.illness,
        )


NONE = Counts()


def absence_counts(rows: QuerySet[Attendance], by: Sequence[str] = ("student_id",)) -> dict[Any, Counts]:
    """The counts of ``rows`` grouped by the fields ``by`` — one aggregate query.

    The key is the field's value when ``by`` has one field, else the tuple of values in that order. Groups
    without a single missed lesson or late arrival are left out: read with ``.get(key, NONE)``.
    """
    grouped = (
        rows.order_by()
        .filter(MISSED | LATE)
        .values(*by)
        .annotate(
            _missed=Count("pk", filter=MISSED),
            _excused=Count("pk", filter=EXCUSED),
            _late=Count("pk", filter=LATE),
            _with_reason=Count("pk", filter=MISSED & ~Q(reason="")),
            _illness=Count("pk", filter=ILLNESS),
        )
    )
    result: dict[Any, Counts] = {}
    for row in grouped:
        key = row[by[0]] if len(by) == 1 else tuple(row[name] for name in by)
        result[key] = Counts(row["_missed"], row["_excused"], row["_late"], row["_with_reason"], row["_illness"])
    return result


def student_absence_counts(
    school_id: int, student_ids: Iterable[int], date_from: dt.date, date_to: dt.date
) -> dict[int, Counts]:
    """Per student: the counts over all their lessons of the school between two days (inclusive) — 1 query."""
    return absence_counts(
        Attendance.objects.filter(
            school_id=school_id, student_id__in=list(student_ids), lesson__date__range=(date_from, date_to)
        )
    )


# --- Whole days ------------------------------------------------------------------------------------


def held_lessons() -> QuerySet[Lesson]:
    """Lessons that took place: every lesson but those the timetable cancelled (R4.2)."""
    return Lesson.objects.exclude(timetable_change__kind=TimetableChangeKind.CANCELLED)


def lessons_had(pairs: Iterable[tuple[int, dt.date]]) -> dict[tuple[int, dt.date], int]:
    """How many held lessons each student had on each day of ``pairs`` (student id, day) — three queries.

    A student had a lesson when it was held that day in a class they were enrolled in that day, for the whole
    class or for a subgroup they belong to. Read: their enrolments, the held lessons counted per class,
    subgroup and day, and their subgroup memberships; the sum per student and day is taken in Python over
    those aggregated rows (never over lessons or attendance rows). Days without a lesson are left out.
    """
    wanted = set(pairs)
    if not wanted:
        return {}
    ids = list({student_id for student_id, _day in wanted})
    first, last = min(day for _s, day in wanted), max(day for _s, day in wanted)
    enrolments = list(
        Enrolment.objects.filter(student_id__in=ids, start__lte=last)
        .filter(Q(end__isnull=True) | Q(end__gte=first))
        .values_list("student_id", "school_class_id", "start", "end")
    )
    if not enrolments:
        return {}
    class_ids = {class_id for _s, class_id, _a, _b in enrolments}
    per_day: dict[tuple[int, int | None], dict[dt.date, int]] = {}
    for class_id, subgroup_id, day, n in (
        held_lessons()
        .filter(assignment__school_class_id__in=class_ids, date__range=(first, last))
        .order_by()
        .values_list("assignment__school_class_id", "assignment__subgroup_id", "date")
        .annotate(n=Count("pk"))
    ):
        per_day.setdefault((class_id, subgroup_id), {})[day] = n
    groups: dict[tuple[int, int], list[int]] = {}
    for student_id, class_id, subgroup_id in Subgroup.students.through.objects.filter(
        student_id__in=ids, subgroup__school_class_id__in=class_ids
    ).values_list("student_id", "subgroup__school_class_id", "subgroup_id"):
        groups.setdefault((student_id, class_id), []).append(subgroup_id)
    spans: dict[int, list[tuple[int, dt.date, dt.date | None]]] = {}
    for student_id, class_id, start, end in enrolments:
        spans.setdefault(student_id, []).append((class_id, start, end))
    had: dict[tuple[int, dt.date], int] = {}
    for student_id, day in wanted:
        n = 0
        for class_id, start, end in spans.get(student_id, []):
            if start <= day and (end is None or day <= end):
                for key in [(class_id, None), *((class_id, g) for g in groups.get((student_id, class_id), []))]:
                    n += per_day.get(key, {}).get(day, 0)
        if n:
            had[(student_id, day)] = n
    return had


class Day(NamedTuple):
    """One student's day with at least one missed lesson: missed (of them excused) against lessons had."""

    student_id: int
    date: dt.date
    missed: int
    excused: int
    had: int

    @property
    def whole(self) -> bool:
        return self.had > 0 and self.missed >= self.had

    @property
    def whole_excused(self) -> bool:
        return self.whole and self.excused >= self.had


def day_absences(rows: QuerySet[Attendance], by: Sequence[str] = ()) -> dict[Any, list[Day]]:
    """The student-days of ``rows`` with a missed lesson, each with the number of lessons the student had that
    day (``lessons_had``) — four aggregate queries whatever the number of rows.

    Grouped by the extra fields ``by`` (e.g. the lesson's class): the key is the field's value, the tuple of
    values, or ``None`` without ``by``. ``Day.whole`` says whether the day counts as a whole day missed.
    """
    grouped = list(
        rows.order_by()
        .filter(MISSED)
        .values("student_id", "lesson__date", *by)
        .annotate(_missed=Count("lesson_id", distinct=True), _excused=Count("lesson_id", distinct=True, filter=EXCUSED))
    )
    if not grouped:
        return {}
    had = lessons_had((row["student_id"], row["lesson__date"]) for row in grouped)
    result: dict[Any, list[Day]] = {}
    for row in grouped:
        key = None if not by else row[by[0]] if len(by) == 1 else tuple(row[name] for name in by)
        sid, day = row["student_id"], row["lesson__date"]
        result.setdefault(key, []).append(Day(sid, day, row["_missed"], row["_excused"], had.get((sid, day), 0)))
    return result
