"""Demo step: period (semester) grades of every closed study period and annual grades of an ended year.

``step_grades(build)`` runs after the journal step. For every study period (not the whole-year period) that
has ended by the demo's "today" (``journal_until``), every student in the journal's class (and subgroup) on
the period's last day gets a period grade in every journal, derived from that period's marks as a teacher
would derive it:

- the student's average of the period's marks is the journal's one average (``journal.stats.journal_tallies``:
  weighted by the work types when the school weights averages, rounded by the school's rule), and the grade
  is the scale's value that average gives (``journal.stats.grade_for_mean``: half up to a whole mark);
- on a scale without numbers (pass/fail, verbal levels) the grade is the student's most frequent mark of the
  period (a tie goes to the better value);
- a student with fewer marks than the school's accumulation rule asks (``journal.rules.journals_accumulation``,
  R2.6) is "н/а" (not attested) about a third of the time — the teacher gives the grade the marks give
  otherwise, as the default "warn" policy allows — and always when they have no mark at all;
- a few students (one in 150, at least one) are exempt ("звільн.") from physical education for the whole year.

When the academic year has ended as well, every student who stayed to the end gets an annual grade in each
journal: what the school's annual rule gives from the period grades (``journal.rules.annual_expectation_of``:
the mean rounded half up; all "н/а" gives "н/а", all exempt gives "звільн."), "н/а" where the rule gives no
value ("н/а" mixed with grades). Annual grades are stored in the year's last semester, as the journal keeps them.

With today's demo date inside the first semester nothing is closed yet and the step writes nothing: the
grades appear as the calendar passes the semester's end (and in ``bench/forecast_accuracy.py``, which builds
the demo "after" the year).

Bulk writer (``classbook.demo.bulk.insert_rows``) instead of ``journal.services.record_period_grade`` (several
queries per grade; ~30,000 grades per semester in a 1,000-student school). What the service guarantees, kept
here the same way:

- **one grade per cell** (journal, student, period, kind, ordinal 0), a value of the journal's effective
  scale (its numbers or its period-only "н/а" / "звільн."), only for students of the journal on the period's
  last day;
- **locked at once** (R2.7): ``locked_at`` = ``set_at``, version 1, set by the journal's teacher;
- **the same audit rows**: a ``JournalChange`` of kind ``period_grade`` per grade (the teacher, the journal,
  the student, the period, the grade's id, the new value);
- **no future times and no grade before its marks**: a grade is set on the period's last day after the
  lessons (16:30), never later than the moment the demo runs.

Deterministic: the randomness comes from ``build.rng("grades")``; the figures only from the journal's rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from classbook.demo.build import SchoolBuild, journal_until
from classbook.demo.bulk import insert_rows
from classbook.journal.models import ChangeKind, GradeKind, JournalChange, Lesson, Mark, PeriodGrade
from classbook.journal.rules import GradeValue, annual_expectation_of, journals_accumulation, policy_for
from classbook.journal.stats import grade_for_mean, journal_tallies
from classbook.schools.models import PeriodKind, ScaleLevel, ScaleValue, StudyPeriod, TeachingAssignment

NOT_ATTESTED_RATE = 0.35  # of students below the accumulation rule (with some marks)
EXEMPT_RATE = 1 / 150  # students exempt from physical education
EXEMPT_SUBJECT = "Фізична культура"
NOT_ATTESTED, EXEMPT = "н/а", "звільн."
SET_AT = (16, 30)


class ScaleInfo:
    """One scale's values as the step needs them."""

    def __init__(self) -> None:
        self.numbers: list[tuple[int, Decimal]] = []  # (value id, number)
        self.ranked: list[tuple[bool, int, int]] = []  # (passing, ordinal, value id) of the marks, worse first
        self.ordinal: dict[int, int] = {}
        self.by_code: dict[str, int] = {}
        self.info: dict[int, GradeValue] = {}
        self.grades: dict[Decimal | None, int | None] = {}

    def grade(self, average: Decimal | None) -> int | None:
        """``journal.stats.grade_for_mean`` on this scale, asked once per distinct average."""
        if average not in self.grades:
            self.grades[average] = grade_for_mean(average, self.numbers)
        return self.grades[average]


def scales_of(school_id: int) -> dict[int, ScaleInfo]:
    scales: dict[int, ScaleInfo] = defaultdict(ScaleInfo)
    for pk, scale_id, code, numeric, ordinal, passing, period_only, level in ScaleValue.objects.filter(
        school_id=school_id
    ).values_list("pk", "scale_id", "code", "numeric", "ordinal", "is_passing", "period_only", "level"):
        scale = scales[scale_id]
        scale.by_code[code] = pk
        scale.ordinal[pk] = ordinal
        scale.info[pk] = GradeValue(code, numeric, period_only, passing)
        if level != ScaleLevel.SPECIAL and not period_only:
            scale.ranked.append((passing, ordinal, pk))
            if numeric is not None:
                scale.numbers.append((pk, numeric))
    for scale in scales.values():
        scale.ranked.sort()
    return scales


def step_grades(b: SchoolBuild) -> None:
    school, year = b.school, b.year
    if school is None or year is None or not b.assignments:
        return
    until = journal_until(year.start, year.end)
    periods = sorted(
        (p for p in b.periods if p.kind != PeriodKind.YEAR and p.end <= until), key=lambda p: (p.start, p.pk)
    )
    if not periods:
        return
    rng = b.rng("grades")
    policy = policy_for(school.pk)
    scales = scales_of(school.pk)
    tz = timezone.get_current_timezone()
    now = timezone.now()
    adapt_dt = connection.ops.adapt_datetimefield_value
    assignments = list(
        TeachingAssignment.objects.filter(school=school)
        .select_related("subject", "school_class__year_level", "school")
        .order_by("pk")
    )
    scale_of = {
        a.pk: a.scale_id or a.subject.scale_id or a.school_class.year_level.scale_id or school.default_scale_id
        for a in assignments
    }
    all_students = sorted({s.pk for s in b.students})
    exempt = set(rng.sample(all_students, max(1, round(len(all_students) * EXEMPT_RATE))))
    numeric_journals = [a.pk for a in assignments if scales[scale_of[a.pk] or 0].numbers]
    other_journals = [a.pk for a in assignments if a.pk not in set(numeric_journals)]

    grades: list[tuple[Any, ...]] = []
    meta: dict[tuple[int, int, int, str], tuple[int, str, Any]] = {}  # cell -> (teacher, code, set_at)
    given: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)  # (journal, student) -> rows
    stayed: dict[int, set[int]] = {}

    def add(a: TeachingAssignment, student: int, period: StudyPeriod, kind: str, value_id: int, at: Any) -> None:
        grades.append((school.pk, a.pk, student, period.pk, kind, 0, "", value_id, 1, a.teacher_id, at, at))
        meta[(a.pk, student, period.pk, kind)] = (a.teacher_id, scales[scale_of[a.pk] or 0].info[value_id].code, at)

    for period in periods:
        moment = dt.datetime(period.end.year, period.end.month, period.end.day, *SET_AT, tzinfo=tz)
        at = adapt_dt(min(moment, now))
        acc = journals_accumulation(assignments, period, policy=policy)
        tallies = journal_tallies(numeric_journals, period.start, period.end, weighted=policy.weighted_averages)
        modes = _modes(other_journals, period, scales, scale_of)
        for a in assignments:
            scale = scales[scale_of[a.pk] or 0]
            stayed[a.pk] = {sid for sid, x in acc[a.pk].items() if x.stays}
            for student in sorted(stayed[a.pk]):
                counted = acc[a.pk][student]
                if student in exempt and a.subject.name.startswith(EXEMPT_SUBJECT):
                    value_id = scale.by_code.get(EXEMPT)
                else:
                    tally = tallies.get((a.pk, student))
                    if scale.numbers:
                        derived = scale.grade(tally.mean(school) if tally else None)
                    else:
                        derived = modes.get((a.pk, student))
                    if derived is None or (counted.below and rng.random() < NOT_ATTESTED_RATE):
                        value_id = scale.by_code.get(NOT_ATTESTED)
                    else:
                        value_id = derived
                if value_id is None:
                    continue
                add(a, student, period, GradeKind.PERIOD, value_id, at)
                given[(a.pk, student)].append(
                    {"kind": GradeKind.PERIOD, "period_id": period.pk, "ordinal": 0, "value": scale.info[value_id]}
                )

    whole = next((p for p in b.periods if p.kind == PeriodKind.YEAR), None)
    if whole is not None and whole.end <= until:
        last = periods[-1]
        moment = dt.datetime(whole.end.year, whole.end.month, whole.end.day, *SET_AT, tzinfo=tz)
        at = adapt_dt(min(moment, now))
        period_rows = {
            p.pk: {"name": p.name, "kind": p.kind, "parent_id": p.parent_id, "start": p.start} for p in b.periods
        }
        for a in assignments:
            scale = scales[scale_of[a.pk] or 0]
            for student in sorted(stayed.get(a.pk, ())):
                rows = given.get((a.pk, student))
                if not rows:
                    continue
                expected = annual_expectation_of(rows, period_rows, policy).expected
                value_id = scale.by_code.get(expected) if expected else None
                if value_id is None and expected and scale.numbers:
                    value_id = grade_for_mean(Decimal(expected), scale.numbers)
                value_id = value_id or scale.by_code.get(NOT_ATTESTED)
                if value_id is not None:
                    add(a, student, last, GradeKind.ANNUAL, value_id, at)

    write_grades(b, grades, meta)


GRADE_FIELDS = [
    "school",
    "assignment",
    "student",
    "period",
    "kind",
    "ordinal",
    "title",
    "value",
    "version",
    "set_by",
    "set_at",
    "locked_at",
]


def write_grades(
    b: SchoolBuild, grades: list[tuple[Any, ...]], meta: dict[tuple[int, int, int, str], tuple[int, str, Any]]
) -> None:
    """Insert period and annual grades (rows in ``GRADE_FIELDS`` order) and their ``period_grade`` audit rows.

    ``meta`` maps each cell (assignment, student, period, kind) to (teacher, value code, set at); the grades' ids
    are read back in one query (the school's grades of the cells in ``meta``).
    """
    if not grades:
        return
    school = b.school
    assert school is not None
    insert_rows(b, PeriodGrade, GRADE_FIELDS, grades)
    changes = []
    for grade_id, assignment_id, student_id, period_id, kind in (
        PeriodGrade.objects.filter(school=school, period_id__in={key[2] for key in meta})
        .order_by("pk")
        .values_list("pk", "assignment_id", "student_id", "period_id", "kind")
    ):
        found = meta.get((assignment_id, student_id, period_id, kind))
        if found is not None:
            teacher, code, at = found
            changes.append(
                (school.pk, at, teacher, ChangeKind.PERIOD_GRADE, assignment_id, student_id, period_id, grade_id, code)
            )
    insert_rows(
        b,
        JournalChange,
        [
            "school",
            "at",
            "actor",
            "kind",
            "assignment",
            "student",
            "period",
            "object_id",
            "new_value",
            "old_value",
            "is_late",
            "reason",
        ],
        [(*change, "", False, "") for change in changes],
    )


def _modes(
    journals: list[int], period: StudyPeriod, scales: dict[int, ScaleInfo], scale_of: dict[int, int | None]
) -> dict[tuple[int, int], int]:
    """The most frequent mark of each student in journals whose scale has no numbers (a tie: the better value)."""
    if not journals:
        return {}
    counts: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    lessons = Lesson.objects.filter(assignment_id__in=journals, date__gte=period.start, date__lte=period.end)
    for assignment_id, student_id, value_id in Mark.objects.filter(lesson__in=lessons, value__isnull=False).values_list(
        "lesson__assignment_id", "student_id", "value_id"
    ):
        counts[(assignment_id, student_id)][value_id] += 1
    out = {}
    for key, counter in counts.items():
        ordinal = scales[scale_of[key[0]] or 0].ordinal
        out[key] = max(counter.items(), key=lambda item: (item[1], ordinal.get(item[0], 0), item[0]))[0]
    return out
