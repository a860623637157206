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
  a missed lesson.

Every page, PDF, API answer and report that shows these figures reads them through ``absence_counts`` (one
aggregate query) or, row by row, through ``EXCUSED_FLAG`` (in SQL) or ``is_excused`` (on values read);
nothing else decides it. See docs/journal.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When

from classbook.journal.models import Attendance

MISSED = Q(code__counts_as_absent=True)
EXCUSED = MISSED & (Q(code__is_excused=True) | Q(reason_excused=True))
LATE = Q(code__is_late=True)

# The same rule for one row, as a column: ``.annotate(excused=EXCUSED_FLAG)``.
EXCUSED_FLAG = Case(When(EXCUSED, then=Value(True)), default=Value(False), output_field=BooleanField())


def is_excused(*, missed: bool, code_excused: bool, reason_excused: bool) -> bool:
    """The same rule for a row already read as values (the journal grid reads its code's flags once per
    school): missed, and excused by its code or by a recorded reason."""
    return missed and (code_excused or reason_excused)


@dataclass(frozen=True)
class Counts:
    """Missed lessons, of them excused and unexcused, late arrivals, missed lessons with a reason given."""

    missed: int = 0
    excused: int = 0
    late: int = 0
    with_reason: int = 0

    @property
    def unexcused(self) -> int:
        return self.missed - self.excused

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.missed + other.missed,
            self.excused + other.excused,
            self.late + other.late,
            self.with_reason + other.with_reason,
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
        )
    )
    result: dict[Any, Counts] = {}
    for row in grouped:
        key = row[by[0]] if len(by) == 1 else tuple(row[name] for name in by)
        result[key] = Counts(row["_missed"], row["_excused"], row["_late"], row["_with_reason"])
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
