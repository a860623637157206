"""The demo's period and annual grades (``classbook.demo.steps.grades``): closed periods only, derived from the
period's marks by the journal's one average, a few "н/а" and exempt, the service's rules kept, deterministic."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import Count

from classbook.demo.generator import DemoOptions, generate
from classbook.journal.models import ChangeKind, GradeKind, JournalChange, JournalPolicy, Mark, PeriodGrade
from classbook.people.models import Enrolment
from classbook.schools.models import PeriodKind, StudyPeriod

pytestmark = pytest.mark.django_db

AFTER_THE_YEAR = dt.datetime(2027, 7, 10, 12, 0, tzinfo=dt.UTC)


def _grades() -> list[tuple]:
    return sorted(
        PeriodGrade.objects.values_list(
            "assignment__school_class__name",
            "assignment__subject__name",
            "student__user__username",
            "period__name",
            "kind",
            "value__code",
        )
    )


def test_no_grade_while_no_period_has_ended() -> None:
    with time_machine.travel(dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC), tick=False):
        generate(DemoOptions(seed=1, students=30))
    assert Mark.objects.exists()
    assert not PeriodGrade.objects.exists()


def test_after_the_year_every_student_has_semester_and_annual_grades_from_the_marks() -> None:
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        generate(DemoOptions(seed=1, students=60))
    semesters = list(StudyPeriod.objects.exclude(kind=PeriodKind.YEAR).order_by("start"))
    assert len(semesters) == 2
    grades = PeriodGrade.objects.select_related("value", "assignment", "period")
    by_kind = defaultdict(int)
    for row in grades.values("kind").annotate(n=Count("pk")):
        by_kind[row["kind"]] = row["n"]
    assert by_kind[GradeKind.PERIOD] > 1000
    assert by_kind[GradeKind.ANNUAL] > 500
    # Every grade: one per cell, locked, version 1, by the journal's teacher, set on the period's last day,
    # annual grades in the last semester, with its audit row.
    policy = JournalPolicy.objects.first()
    weighted = policy.weighted_averages if policy else True
    codes = defaultdict(int)
    for g in grades:
        codes[g.value.code] += 1
        assert g.locked_at == g.set_at and g.version == 1 and g.set_by_id == g.assignment.teacher_id
        assert g.ordinal == 0
        if g.kind == GradeKind.ANNUAL:
            assert g.period_id == semesters[-1].pk
        assert g.set_at.date() == g.period.end or g.kind == GradeKind.ANNUAL
        assert (
            Enrolment.objects.filter(
                student_id=g.student_id, school_class_id=g.assignment.school_class_id, start__lte=g.period.end
            )
            .exclude(end__lt=g.period.end)
            .exists()
        )
    assert 0 < codes["н/а"] < by_kind[GradeKind.PERIOD] * 0.1
    assert 0 < codes["звільн."] < by_kind[GradeKind.PERIOD] * 0.02
    audit = JournalChange.objects.filter(kind=ChangeKind.PERIOD_GRADE)
    assert audit.count() == grades.count()
    assert set(audit.values_list("object_id", flat=True)) == set(grades.values_list("pk", flat=True))
    # Independently: the weighted mean of the period's marks, half up to a whole mark, is the grade
    # (numeric grades of the 12-point scale); checked on every such grade.
    marks = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for a, s, d, num, w in Mark.objects.filter(value__numeric__isnull=False).values_list(
        "lesson__assignment_id", "student_id", "lesson__date", "value__numeric", "work_type__weight"
    ):
        for p in semesters:
            if p.start <= d <= p.end:
                weight = w if weighted else Decimal(1)
                marks[(a, s, p.pk)][0] += num * weight
                marks[(a, s, p.pk)][1] += weight
    checked = 0
    for g in grades.filter(kind=GradeKind.PERIOD, value__numeric__isnull=False):
        total, weight = marks[(g.assignment_id, g.student_id, g.period_id)]
        mean = (total / weight).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        assert g.value.numeric == mean.quantize(Decimal(1), rounding=ROUND_HALF_UP), g
        checked += 1
    assert checked > 1000


def test_grades_are_deterministic_with_the_seed() -> None:
    runs = []
    for _ in range(2):
        with transaction.atomic(), time_machine.travel(AFTER_THE_YEAR, tick=False):
            generate(DemoOptions(seed=3, students=25))
            runs.append(_grades())
            transaction.set_rollback(True)
    assert runs[0] and runs[0] == runs[1]
