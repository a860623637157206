"""The forecast of a student's period grade from the marks so far (R6.5; docs/reports.md, "Forecast").

For each student of a journal (teaching assignment) and the current study period, from the marks given at
the journal's lessons from the period's first day up to ``as_of`` (today on the pages):

- **likely grade**: the journal's one average (``journal.stats.tally_marks``: the marks with a number,
  weighted by their work type when the school weights averages, rounded by the school's rule) turned into
  the scale's grade by ``journal.stats.grade_for_mean`` (half up to a whole mark) — the same rule the demo's
  period grades follow;
- **range**: the grades of ``mean ± Z·s/√n``, where ``n`` is the effective number of marks
  ``(Σw)² / Σw²`` (= the number of marks when all weigh the same) and ``s`` the spread of the student's marks
  (weighted standard deviation) pooled with a prior spread ``σ₀`` worth ``K`` marks:
  ``s² = (n·sd² + K·σ₀²) / (n + K)``, ``σ₀`` = the scale's span ÷ 8 (1.4 points on the 12-point scale,
  0.4 on the 5-point one), ``K`` = 2, ``Z`` = 1.5. Two equal marks still give a range of about ±1.5 points;
  ten marks of a steady student about ±0.5. ``bench/forecast_accuracy.py`` measures how often the final
  grade falls inside the range;
- **drivers**: the marks that move the average most — for each mark, how far the average would move without
  it, ``wᵢ·(xᵢ − m) / (Σw − wᵢ)``; the three largest, with their weight and work type (a lone mark is its own
  driver);
- **at risk**: the likely grade is of the lowest level (not passing: 1-3 "початковий" on the 12-point scale,
  "2" on the 5-point one), or the student is behind the school's accumulation rule (R2.6): fewer marks so far
  (``journal.rules.journals_accumulation``, the one count) than the rule's share of the period gone by —
  ``required × days gone ÷ days of the period``, rounded up; the full number on the period's last day — as
  ``journal.rules.accumulation_warning`` judges it (no warning when the school does not check the rule).

Scales without numbers (pass/fail, verbal levels) have no average: no likely grade, the accumulation rule still
applies. Queries for any number of journals of one school: the counts and averages summed by the database
(``journal.stats.journal_tallies``, the journal's one definition, one grouped row per journal and student: 1), the
students (``journals_accumulation`` given those tallies, 1-2), the scales' values (1), the students' names (1),
then the marks with a number of the forecasts whose range and drivers are worked out (1; none when there are
none): every student's on the journal and class pages, on the school's list (``at_risk``) only the students at
risk — whether a forecast is at risk needs the count and the average alone, so a large school's list reads a few
thousand marks, not the period's every mark. The counts and averages are the same the grid shows.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from classbook.journal.models import JournalPolicy, Lesson, Mark, WorkType
from classbook.journal.rules import accumulation_warning, journals_accumulation, policy_or_default
from classbook.journal.stats import grade_for_mean, journal_tallies
from classbook.people.models import Enrolment, Student
from classbook.schools.models import PeriodKind, ScaleLevel, ScaleValue, School, StudyPeriod, TeachingAssignment

Z = 1.5
PRIOR_MARKS = 2.0
PRIOR_SPAN_SHARE = 1 / 8
DRIVERS = 3
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Span:
    """The part of a period the forecast reads: its first day up to ``as_of`` (``journal.rules.PeriodSpan``)."""

    id: int | None
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Driver:
    """A mark that moves the average: ``shift`` is how far the average would move without it (None: the only one)."""

    mark_id: int
    date: dt.date
    value: str
    weight: Decimal
    work_type: str
    shift: Decimal | None


@dataclass(frozen=True)
class Forecast:
    assignment_id: int
    student_id: int
    student: str
    count: int  # marks so far (the accumulation count)
    required: int  # marks the school's rule asks for in the period
    required_so_far: int  # the rule's share of the period gone by: required × days gone ÷ days, rounded up
    below: bool  # fewer marks than ``required_so_far`` (and the school checks the rule)
    mean: Decimal | None  # the journal's average so far (school's rounding)
    grade: str  # the likely period grade ("" without an average)
    low: str
    high: str
    passing: bool | None  # whether the likely grade passes (None without one)
    drivers: tuple[Driver, ...] = field(default=())

    @property
    def at_risk(self) -> bool:
        return self.passing is False or self.below

    @property
    def range_text(self) -> str:
        if not self.grade:
            return ""
        return self.low if self.low == self.high else f"{self.low}–{self.high}"


def current_period(school: School, day: dt.date) -> StudyPeriod | None:
    """The shortest study period (not the whole year) containing ``day``: the one whose grade is forecast."""
    return (
        StudyPeriod.objects.filter(school=school, start__lte=day, end__gte=day)
        .exclude(kind=PeriodKind.YEAR)
        .order_by("end", "-start", "pk")
        .first()
    )


@dataclass
class _ScaleInfo:
    numbers: list[tuple[str, Decimal]] = field(default_factory=list)  # (code, number) of ordinary values
    passing: dict[str, bool] = field(default_factory=dict)
    grades: dict[Decimal, str] = field(default_factory=dict)  # grade_for_mean's answers, remembered

    @functools.cached_property
    def sigma0(self) -> float:
        values = [float(n) for _c, n in self.numbers]
        return (max(values) - min(values)) * PRIOR_SPAN_SHARE if len(values) > 1 else 1.0

    def grade(self, average: Decimal) -> str:
        """``journal.stats.grade_for_mean`` on this scale (asked once per distinct average)."""
        found = self.grades.get(average)
        if found is None:
            found = self.grades[average] = grade_for_mean(average, self.numbers) or ""
        return found


def _scales(scale_ids: Iterable[int]) -> dict[int, _ScaleInfo]:
    out: dict[int, _ScaleInfo] = defaultdict(_ScaleInfo)
    rows = ScaleValue.objects.filter(scale_id__in=set(scale_ids), period_only=False).exclude(level=ScaleLevel.SPECIAL)
    for scale_id, code, numeric, passing in rows.order_by("ordinal", "pk").values_list(
        "scale_id", "code", "numeric", "is_passing"
    ):
        info = out[scale_id]
        info.passing[code] = passing
        if numeric is not None:
            info.numbers.append((code, numeric))
    return out


def effective_scale_id(a: TeachingAssignment) -> int | None:
    """The journal's scale id (``TeachingAssignment.effective_scale`` without reading the scale)."""
    return a.scale_id or a.subject.scale_id or a.school_class.year_level.scale_id or a.school.default_scale_id


def forecasts(
    assignments: Sequence[TeachingAssignment],
    period: StudyPeriod,
    as_of: dt.date,
    *,
    school: School,
    policy: JournalPolicy | None = None,
    with_drivers: bool = True,
    only_at_risk: bool = False,
) -> dict[int, list[Forecast]]:
    """``{assignment id: [Forecast per student, by name]}`` from the marks of ``period`` up to ``as_of``.

    ``assignments`` come with ``subject``, ``school_class__year_level`` and ``school`` selected. Students: those in
    the journal's class (and subgroup) on ``as_of`` (or the period's end, if earlier). ``with_drivers=False``
    (the school's list) works out the range and the driving marks of the forecasts at risk only; the others
    keep their likely grade alone; ``only_at_risk`` (the school's list) leaves the others out.
    """
    if not assignments:
        return {}
    policy = policy or policy_or_default(school.pk)
    span = Span(period.pk, period.start, min(as_of, period.end))
    gone = ((span.end - period.start).days + 1) / ((period.end - period.start).days + 1)
    ids = [a.pk for a in assignments]
    tallies = journal_tallies(ids, span.start, span.end, weighted=policy.weighted_averages)
    accumulation = journals_accumulation(assignments, span, policy=policy, tallies=tallies)
    scale_of = {a.pk: effective_scale_id(a) for a in assignments}
    scales = _scales(s for s in scale_of.values() if s is not None)
    student_ids = {sid for students in accumulation.values() for sid, acc in students.items() if acc.stays}
    names = {
        pk: f"{last} {first}".strip()
        for pk, last, first in Student.objects.filter(pk__in=student_ids).values_list(
            "pk", "user__last_name", "user__first_name"
        )
    }
    # First from the sums alone: the count, the average, the likely grade, whether it passes, the rule.
    found: list[tuple[TeachingAssignment, list[Forecast]]] = []
    ranged: set[tuple[int, int]] = set()  # the forecasts whose range and drivers are worked out
    means: dict[tuple[float, float], Decimal | None] = {}
    for a in assignments:
        scale = scales.get(scale_of[a.pk] or 0, _ScaleInfo())
        items = []
        for sid, acc in accumulation[a.pk].items():
            if not acc.stays:
                continue
            tally = tallies.get((a.pk, sid))
            mean = None
            if tally:  # MarkTally.mean, asked once per distinct sums (thousands of students share a few hundred)
                sums = (tally.total, tally.weight)
                mean = means[sums] if sums in means else means.setdefault(sums, tally.mean(school))
            so_far = math.ceil(acc.required * gone - 1e-9)
            below = accumulation_warning(replace(acc, required=so_far), None, policy) is not None
            grade = ""
            passing: bool | None = None
            if mean is not None and scale.numbers:
                grade = scale.grade(mean)
                passing = scale.passing.get(grade)
                if with_drivers or passing is False or below:
                    ranged.add((a.pk, sid))
            if only_at_risk and passing is not False and not below:
                continue
            items.append(
                Forecast(
                    a.pk, sid, names.get(sid, ""), acc.count, acc.required, so_far, below, mean, grade, "", "", passing
                )
            )
        found.append((a, items))
    # Then the marks of those that need each mark (the range's spread, the drivers): every forecast on the
    # journal and class pages, the ones at risk alone on the school's list.
    marks = _numeric_marks(ranged, span, every_student=with_drivers)
    out: dict[int, list[Forecast]] = {}
    for a, items in found:
        scale = scales.get(scale_of[a.pk] or 0, _ScaleInfo())
        for i, f in enumerate(items):
            own = marks.get((a.pk, f.student_id))
            if (a.pk, f.student_id) not in ranged or not own:
                continue
            weights = [float(w) if policy.weighted_averages and w is not None else 1.0 for *_x, w, _n in own]
            values = [float(r[5]) for r in own]
            half = half_width(values, weights, scale.sigma0)
            centre = sum(w * x for w, x in zip(weights, values, strict=True)) / sum(weights)
            low = scale.grade(Decimal(centre - half).quantize(CENT)) or f.grade
            high = scale.grade(Decimal(centre + half).quantize(CENT)) or f.grade
            items[i] = replace(f, low=low, high=high, drivers=_drivers(own, values, weights, centre))
        items.sort(key=lambda f: (f.student, f.student_id))
        out[a.pk] = items
    return out


MARK_FIELDS = (
    "lesson__assignment_id",
    "student_id",
    "pk",
    "lesson__date",
    "value__code",
    "value__numeric",
    "work_type__weight",
    "work_type__name",
)


def _pairs_sql(pairs: int) -> str:
    """``MARK_FIELDS`` of the marks with a number of ``pairs`` (journal, student) pairs in a span, by date."""
    t = {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in (Mark, Lesson, ScaleValue, WorkType)}
    q = connection.ops.quote_name
    values = ", ".join(["(%s, %s)"] * pairs)
    # Only table and column names from model metadata go into the text; every value is a parameter.
    return f"""SELECT l.assignment_id, m.student_id, m.id, l.{q("date")}, v.code, v.{q("numeric")}, w.weight, w.name
FROM {t["Mark"]} m JOIN {t["Lesson"]} l ON l.id = m.lesson_id JOIN {t["ScaleValue"]} v ON v.id = m.value_id
LEFT JOIN {t["WorkType"]} w ON w.id = m.work_type_id
WHERE l.{q("date")} >= %s AND l.{q("date")} <= %s AND v.{q("numeric")} IS NOT NULL
  AND (l.assignment_id, m.student_id) IN (VALUES {values})
ORDER BY l.{q("date")}, m.id"""  # noqa: S608


def _numeric_marks(
    pairs: set[tuple[int, int]], span: Span, *, every_student: bool
) -> dict[tuple[int, int], list[tuple[Any, ...]]]:
    """The marks with a number of the (journal, student) ``pairs`` in ``span``, by date (one query, none without
    pairs): ``(journal, student, id, date, code, number, weight, work type)``. ``every_student``: the pairs
    are most of the journals' students, read the journals whole."""
    if not pairs:
        return {}
    rows: Iterable[tuple[Any, ...]]
    if every_student:
        rows = (
            Mark.objects.filter(
                lesson__assignment_id__in={a for a, _s in pairs},
                lesson__date__gte=span.start,
                lesson__date__lte=span.end,
                value__isnull=False,
                value__numeric__isnull=False,
            )
            .order_by("lesson__date", "pk")
            .values_list(*MARK_FIELDS)
        )
    else:  # the pairs themselves (a few students of each journal): a semi-join on a VALUES list
        ordered = sorted(pairs)
        params: list[Any] = [span.start, span.end, *(x for pair in ordered for x in pair)]
        with connection.cursor() as cursor:
            cursor.execute(_pairs_sql(len(ordered)), params)
            # The date as the ORM gives it (SQLite's cursor gives text); the numbers are read as floats below.
            rows = [
                r if isinstance(r[3], dt.date) else (*r[:3], dt.date.fromisoformat(r[3]), *r[4:])
                for r in cursor.fetchall()
            ]
    marks: dict[tuple[int, int], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        if (row[0], row[1]) in pairs:
            marks[(row[0], row[1])].append(row)
    return marks


def half_width(values: Sequence[float], weights: Sequence[float], sigma0: float) -> float:
    """``Z·s/√n``: ``n`` the effective number of marks, ``s`` their weighted spread pooled with the prior."""
    total = sum(weights)
    if not total:
        return 0.0
    centre = sum(w * x for w, x in zip(weights, values, strict=True)) / total
    variance = sum(w * (x - centre) ** 2 for w, x in zip(weights, values, strict=True)) / total
    n = total**2 / sum(w * w for w in weights)
    pooled = (n * variance + PRIOR_MARKS * sigma0**2) / (n + PRIOR_MARKS)
    return Z * math.sqrt(pooled) / math.sqrt(n)


def _drivers(
    own: list[tuple[Any, ...]], values: list[float], weights: list[float], centre: float
) -> tuple[Driver, ...]:
    total = sum(weights)
    scored = []
    for row, x, w in zip(own, values, weights, strict=True):
        rest = total - w
        shift = None if rest <= 0 else w * (x - centre) / rest
        scored.append((abs(shift) if shift is not None else math.inf, row, w, shift))
    scored.sort(key=lambda item: (-item[0], item[1][3], item[1][2]))
    return tuple(
        Driver(
            row[2],
            row[3],
            row[4],
            Decimal(w).quantize(CENT),
            row[7] or "",
            Decimal(shift).quantize(CENT) if shift is not None else None,
        )
        for _score, row, w, shift in scored[:DRIVERS]
        if shift is None or abs(shift) > 0
    )


def student_journals(school: School, student_id: int, day: dt.date) -> QuerySet[TeachingAssignment]:
    """The journals of the classes a student is in on ``day`` (a subgroup's journal only lists its members)."""
    classes = Enrolment.objects.filter(school=school, student_id=student_id, start__lte=day).exclude(end__lt=day)
    return TeachingAssignment.objects.filter(school=school, school_class_id__in=classes.values("school_class_id"))


def journal_assignments(qs: QuerySet[TeachingAssignment]) -> list[TeachingAssignment]:
    """The journals as the forecast reads them (one query): subject, class, year level and school selected."""
    return list(
        qs.select_related("subject", "school_class__year_level", "school", "subgroup", "teacher").order_by(
            "school_class__year_level__number", "school_class__name", "subject__name", "pk"
        )
    )


@dataclass(frozen=True)
class RiskLine:
    forecast: Forecast
    assignment: TeachingAssignment


def at_risk(
    assignments: Sequence[TeachingAssignment],
    period: StudyPeriod,
    as_of: dt.date,
    *,
    school: School,
    policy: JournalPolicy | None = None,
) -> list[RiskLine]:
    """Every forecast at risk (lowest level or below the accumulation rule), by class, student and subject: decided
    from the database's sums, the marks read for the forecasts at risk alone (their range and drivers)."""
    found = forecasts(assignments, period, as_of, school=school, policy=policy, with_drivers=False, only_at_risk=True)
    lines = [RiskLine(f, a) for a in assignments for f in found.get(a.pk, []) if f.at_risk]
    return sorted(
        lines,
        key=lambda r: (
            r.assignment.school_class.year_level.number,
            r.assignment.school_class.name,
            r.forecast.student,
            r.forecast.student_id,
            r.assignment.subject.name,
        ),
    )
