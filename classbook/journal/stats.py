"""A student's mark count and average: the one definition (R2.6, issue 10).

Every figure of "how many marks" and "what average" — the grid page and its cell answer, the JSON API,
the accumulation rule (warnings on period grades, the deputy's control page, the services), the diary,
the information letters, the class teacher's notices to parents (:func:`class_tallies`) and the coming
reports — is a :class:`MarkTally` made by :func:`tally_marks`
here, from the marks as each reader already has them (``grid.read_grid`` reads every mark of the period
anyway; the diary reads the marks it lists), or read by :func:`journal_tallies` for those that have not
read them (one grouped query: the database sums per journal and student).

The definition:

- **the count** is every stored mark with a value (a cleared mark keeps its row without a value and does
  not count); several marks at one lesson (several work types, several slots) count each; marks without
  a number (pass/fail, verbal levels) count too; the student's marks count wherever they are, a student
  who left the class in the period keeps the marks given while enrolled;
- **the average** is over the marks with a number: ``sum(number × weight) / sum(weight)``, the weight
  being the mark's work type's weight when the school weights averages by work type, else 1 (one switch
  per school, the journal rules' ``weighted_averages``, read by :func:`weighted_averages`);
- the average is **rounded once**, by the school's rule (``schools.averages.mean``: half-up to the
  school's decimals); ``None`` without a mark with a number.

Sums are kept as floats (marks and weights have at most two decimals, the sums are exact well below the
``schools.averages`` noise threshold), which is what the grid's 2,000 marks need to stay cheap.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.db import connection

from classbook.core.replicas import read_connection
from classbook.journal.models import Lesson, Mark, WorkType
from classbook.schools.averages import format_average, mean
from classbook.schools.models import ScaleValue, School, TeachingAssignment

K = TypeVar("K", bound=Hashable)

__all__ = ["MarkTally", "class_tallies", "grade_for_mean", "journal_tallies", "tally_marks", "weighted_averages"]


class MarkTally:
    """One student's marks in one journal (or subject) and period: count, weighted sum, sum of weights."""

    __slots__ = ("count", "total", "weight")

    def __init__(self, count: int = 0, total: float = 0.0, weight: float = 0.0) -> None:
        self.count = count
        self.total = total
        self.weight = weight

    def mean(self, school: School | int | None) -> Decimal | None:
        """The average rounded by the school's rule (``None`` without a mark with a number)."""
        return mean(self.total, self.weight, school) if self.weight else None

    def average_text(self, school: School | int | None) -> str:
        """The rounded average in the reader's language ("" without a mark with a number)."""
        value = self.mean(school)
        return format_average(value, school) if value is not None else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MarkTally) and (self.count, self.total, self.weight) == (
            other.count,
            other.total,
            other.weight,
        )

    def __repr__(self) -> str:
        return f"MarkTally(count={self.count}, total={self.total}, weight={self.weight})"


EMPTY = MarkTally()


def tally_marks(
    rows: Iterable[tuple[K, Any, Any, Any]], *, weighted: bool, weights: Mapping[Any, Any] | None = None
) -> dict[K, MarkTally]:
    """``{key: MarkTally}`` from marks given as ``(key, value, numeric, weight)``: the one definition.

    ``key`` is whatever the caller groups by (a student id; a (journal, student) or (student, subject)
    pair); ``value`` the mark's value (its code or id: falsy for a cleared mark, which does not count);
    ``numeric`` its number (``None`` for pass/fail and verbal values: counted, not averaged); ``weight``
    its work type's weight (used when ``weighted``; ``None`` counts as 1). With ``weights`` the fourth
    element is a key of it (the work type's id) and the weight is ``weights.get(key)`` (the grid passes its
    marks as they are, no tuple per mark).
    """
    # Equal marks counted first (``Counter`` counts in C: a journal's thousands of marks are a few hundred distinct
    # (key, value, number, weight) rows), then each distinct row once, times its count. The sums are the same up to
    # the float noise ``schools.averages.mean`` quantizes away before it rounds.
    # Sums in lists [count, total, weight] (an item update is cheaper than a slot attribute's), one MarkTally per
    # key at the end.
    sums: dict[K, list[Any]] = {}
    get = sums.get
    weight_of = weights.get if weights is not None and weighted else None
    for (key, value, numeric, weight), n in Counter(rows).items():
        if not value:
            continue
        found = get(key)
        if found is None:
            found = sums[key] = [0, 0.0, 0.0]
        found[0] += n
        if numeric is not None:
            if weighted:
                if weight_of is not None:
                    weight = weight_of(weight)
                w = 1.0 if weight is None else float(weight)
            else:
                w = 1.0
            found[1] += float(numeric) * w * n
            found[2] += w * n
    return {key: MarkTally(count, total, weight) for key, (count, total, weight) in sums.items()}


def weighted_averages(school_id: int) -> bool:
    """The school's one weighting rule (issue 10): whether an average weights each mark by its work type's
    weight (``JournalPolicy.weighted_averages``, on by default). The grid, its cell answer and the journal
    API read it from the journal rules they already read; the diary, the letters and the class teacher's
    notices read it here. There is no other switch (the diary's own was merged into it: diary 0002)."""
    from classbook.journal.rules import policy_or_default  # rules imports this module

    return policy_or_default(school_id).weighted_averages


@functools.lru_cache(maxsize=64)
def _marks_sql(journals: int, one_student: bool, by_class: bool = False) -> str:
    """The marks of ``journals`` journals (or, ``by_class``, of every journal of one class) in a period with
    their number and weight (text built once per shape)."""
    models = (Mark, Lesson, ScaleValue, WorkType, TeachingAssignment)
    t = {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in models}
    q = connection.ops.quote_name
    student = "AND m.student_id = %(student)s" if one_student else ""
    if by_class:
        journals_of_class = f"SELECT j.id FROM {t['TeachingAssignment']} j WHERE j.school_class_id = %(class)s"  # noqa: S608
        scope = f"l.assignment_id IN ({journals_of_class})"
    else:
        scope = f"l.assignment_id IN ({', '.join(f'%(a{i})s' for i in range(journals))})"
    # Only table and column names from model metadata go into the text; every value is a parameter.
    return f"""SELECT l.assignment_id, m.student_id, m.value_id, CAST(v.{q("numeric")} AS DOUBLE PRECISION),
  CAST(w.weight AS DOUBLE PRECISION)
FROM {t["Mark"]} m JOIN {t["Lesson"]} l ON l.id = m.lesson_id
LEFT JOIN {t["ScaleValue"]} v ON v.id = m.value_id LEFT JOIN {t["WorkType"]} w ON w.id = m.work_type_id
WHERE {scope} AND l.{q("date")} >= %(start)s AND l.{q("date")} <= %(end)s
  AND m.value_id IS NOT NULL {student}"""  # noqa: S608


def class_tallies(
    class_id: int, start: dt.date, end: dt.date, *, weighted: bool, student_ids: Collection[int]
) -> dict[int, MarkTally]:
    """``{student id: MarkTally}`` over every journal of one class (every subject, subgroups' journals too) at
    lessons dated ``start``-``end``, for the students ``student_ids``: one count and one average across the
    subjects (the class teacher's notice to parents, R2.10). One query; the same definition as a journal's."""
    with read_connection().cursor() as cursor:  # a replica's on read-only pages (core/replicas.py)
        cursor.execute(_marks_sql(0, False, True), {"class": class_id, "start": start, "end": end})
        rows = cursor.fetchall()
    wanted = set(student_ids)
    return tally_marks(
        ((student, value, numeric, weight) for _a, student, value, numeric, weight in rows if student in wanted),
        weighted=weighted,
    )


@functools.lru_cache(maxsize=64)
def _sums_sql(journals: int, one_student: bool, weighted: bool) -> str:
    """Per journal and student, the figures of :class:`MarkTally` summed by the database (text built once per
    shape): the count of marks with a value, ``Σ weight × number`` and ``Σ weight`` over the marks with a
    number — :func:`tally_marks`'s definition, the weight being the work type's (none: 1) when ``weighted``,
    else 1."""
    models = (Mark, Lesson, ScaleValue, WorkType)
    t = {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in models}
    q = connection.ops.quote_name
    student = "AND m.student_id = %(student)s" if one_student else ""
    weight = "COALESCE(CAST(w.weight AS DOUBLE PRECISION), 1.0)" if weighted else "1.0"
    number = f"CAST(v.{q('numeric')} AS DOUBLE PRECISION)"
    scope = f"l.assignment_id IN ({', '.join(f'%(a{i})s' for i in range(journals))})"
    # Only table and column names from model metadata go into the text; every value is a parameter.
    return f"""SELECT l.assignment_id, m.student_id, COUNT(*), COALESCE(SUM({number} * {weight}), 0),
  COALESCE(SUM(CASE WHEN v.{q("numeric")} IS NOT NULL THEN {weight} END), 0)
FROM {t["Mark"]} m JOIN {t["Lesson"]} l ON l.id = m.lesson_id
LEFT JOIN {t["ScaleValue"]} v ON v.id = m.value_id LEFT JOIN {t["WorkType"]} w ON w.id = m.work_type_id
WHERE {scope} AND l.{q("date")} >= %(start)s AND l.{q("date")} <= %(end)s
  AND m.value_id IS NOT NULL {student}
GROUP BY l.assignment_id, m.student_id"""  # noqa: S608


def journal_tallies(
    assignment_ids: Collection[int],
    start: dt.date,
    end: dt.date,
    *,
    weighted: bool,
    student_ids: Collection[int] | None = None,
) -> dict[tuple[int, int], MarkTally]:
    """``{(assignment id, student id): MarkTally}`` of the journals' marks at lessons dated ``start``-``end``
    (one grouped query: the database sums, one row per journal and student — :func:`tally_marks`'s count,
    weighted sum and sum of weights, the same definition; ``tests/journal/test_stats.py`` checks both give the
    same tallies and averages). ``student_ids`` narrows it (one student: the grid's cell answer, a service's
    check)."""
    if not assignment_ids:
        return {}
    journals = sorted(set(assignment_ids))
    params: dict[str, Any] = {"start": start, "end": end, **{f"a{i}": pk for i, pk in enumerate(journals)}}
    ids = list(student_ids) if student_ids is not None else None
    one = ids is not None and len(ids) == 1
    if one and ids is not None:
        params["student"] = ids[0]
    with read_connection().cursor() as cursor:  # a replica's on read-only pages (core/replicas.py)
        cursor.execute(_sums_sql(len(journals), one, weighted), params)
        rows = cursor.fetchall()
    wanted = set(ids) if ids is not None and not one else None
    return {
        (assignment, student): MarkTally(int(count), float(total), float(weight))
        for assignment, student, count, total, weight in rows
        if wanted is None or student in wanted
    }


def grade_for_mean(average: Decimal | float | None, numbers: Iterable[tuple[K, Any]]) -> K | None:
    """The grade an average gives on a scale: the value whose number is the average rounded half up to a whole
    mark (8.5 → 9, as the annual rule rounds), or the nearest value of the scale when none has that number.

    ``numbers`` are the scale's values with a number as ``(key, number)`` (the value's id, code ...); ``None``
    without an average or without such values. The demo's period grades and the forecast (``reports.forecast``)
    both turn an average (``MarkTally.mean``) into a grade here: one rule.
    """
    if average is None:
        return None
    target = (average if isinstance(average, Decimal) else Decimal(str(average))).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    best: tuple[Decimal, Decimal, K] | None = None
    for key, number in numbers:
        if number is None:
            continue
        n = number if isinstance(number, Decimal) else Decimal(str(number))
        distance = abs(n - target)
        if best is None or (distance, -n) < (best[0], best[1]):
            best = (distance, -n, key)
            if not distance:
                break
    return best[2] if best is not None else None
