"""The demo's period and annual grades (``classbook.demo.steps.grades``): closed periods only, derived from the
period's marks by the journal's one average, a few "н/а" and exempt, the service's rules kept, deterministic."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import Count
from django.utils import translation

from classbook.demo.generator import DemoOptions, generate
from classbook.journal.models import ChangeKind, GradeKind, JournalChange, JournalPolicy, Lesson, Mark, PeriodGrade
from classbook.people.models import Enrolment, Student, User
from classbook.schools.models import AcademicYear, PeriodKind, SchoolClass, StudyPeriod, TeachingAssignment
from tests.conftest import client_for

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


def test_inside_the_first_semester_the_closed_last_year_holds_the_grades_and_the_reports_show_them() -> None:
    """Today inside the first semester: no grade of the running year; last year (2025/2026, closed) with its
    classes one level lower, its graduates gone, closed enrolments and every student's period and annual grades
    (a few "н/а" and exempt), each with its audit row; the grade reports open on it and say why the running
    semester has none yet."""
    with time_machine.travel(dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC), tick=False):
        generate(DemoOptions(seed=1, students=60))
        current = AcademicYear.objects.get(is_current=True)
        last = AcademicYear.objects.get(name="2025/2026")
        assert Mark.objects.exists()
        assert not PeriodGrade.objects.filter(period__year=current).exists()
        assert (last.start, last.end, last.is_current) == (dt.date(2025, 9, 1), dt.date(2026, 6, 30), False)
        assert not Lesson.objects.filter(assignment__year=last).exists()  # only its grades, no journal

        # Classes one level lower; this year's first grade did not exist; last year's final classes graduated.
        now = {c.name: c for c in SchoolClass.objects.filter(year=current).select_related("year_level")}
        then = set(SchoolClass.objects.filter(year=last).values_list("name", flat=True))
        below = {f"{c.year_level.number - 1}-{n.split('-', 1)[1]}" for n, c in now.items() if c.year_level.number > 1}
        finals = {n for n, c in now.items() if c.year_level.number == 11}
        assert then == below | finals and finals
        enrolled = Enrolment.objects.filter(school_class__year=last)
        assert set(enrolled.values_list("end", flat=True)) == {last.end}
        first_graders = Enrolment.objects.filter(school_class__year=current, school_class__year_level__number=1)
        assert not enrolled.filter(student__in=first_graders.values("student")).exists()
        graduates = Student.objects.filter(
            enrolments__school_class__year=last, enrolments__school_class__name__in=finals
        )
        assert graduates.exists() and set(graduates.values_list("left_on", flat=True)) == {last.end}
        assert not Enrolment.objects.filter(student__in=graduates, school_class__year=current).exists()
        for c in SchoolClass.objects.filter(year=last):
            assert c.class_teacher_id is not None
        assert len(set(SchoolClass.objects.filter(year=last).values_list("class_teacher", flat=True))) == len(then)

        # Every student of a journal (its subgroup) on a semester's last day has the semester's grade, and an
        # annual grade in the second semester; one per cell; with its audit row by the journal's teacher.
        semesters = list(StudyPeriod.objects.filter(year=last, kind=PeriodKind.SEMESTER).order_by("start"))
        grades = PeriodGrade.objects.filter(period__year=last)
        cells = set(grades.values_list("assignment_id", "student_id", "period_id", "kind"))
        assert len(cells) == grades.count()
        expected = set()
        for a in TeachingAssignment.objects.filter(year=last).prefetch_related("subgroup__students"):
            members = {s.pk for s in a.subgroup.students.all()} if a.subgroup else None
            for period in semesters:
                for sid in enrolled.filter(school_class=a.school_class_id, start__lte=period.end).values_list(
                    "student_id", flat=True
                ):
                    if members is None or sid in members:
                        expected.add((a.pk, sid, period.pk, GradeKind.PERIOD))
                        expected.add((a.pk, sid, semesters[-1].pk, GradeKind.ANNUAL))
        assert cells == expected
        assert set(grades.values_list("version", flat=True)) == {1}
        assert not grades.filter(locked_at__isnull=True).exists()
        codes = Counter(grades.values_list("value__code", flat=True))
        assert codes["н/а"] >= 1 and codes["звільн."] >= 2  # exempt in both semesters (and the year)
        assert codes["н/а"] < grades.count() / 50
        audited = set(
            JournalChange.objects.filter(kind=ChangeKind.PERIOD_GRADE, period__year=last).values_list(
                "object_id", "actor_id"
            )
        )
        assert audited == set(grades.values_list("pk", "assignment__teacher_id"))
        # The annual grade is the rule's rounded mean where both semesters have a number.
        by_cell = {
            (a, s, k, p): v
            for a, s, p, k, v in grades.values_list(
                "assignment_id", "student_id", "period_id", "kind", "value__numeric"
            )
        }
        checked = 0
        for (a, s, kind, _p), value in by_cell.items():
            if kind != GradeKind.ANNUAL or value is None:
                continue
            both = [by_cell.get((a, s, GradeKind.PERIOD, period.pk)) for period in semesters]
            if all(v is not None for v in both):
                mean = (sum(both) / 2).quantize(Decimal(1), rounding=ROUND_HALF_UP)
                assert value == mean
                checked += 1
        assert checked > 100

        # The reports open on last year's results; the running semester says why it has no grades yet.
        # (The demo deputy reads Ukrainian: the language is put back afterwards for the next tests.)
        with translation.override("en"):
            client = client_for(User.objects.get(username="deputy"))
            body = client.get("/s/demo/reports/progress/").content.decode()
            assert f'value="y{last.pk}" selected' in body and 'data-testid="grades-pending"' not in body
            assert "<table" in body
            running = StudyPeriod.objects.get(year=current, name="I семестр")
            body = client.get(f"/s/demo/reports/progress/?period=p{running.pk}").content.decode()
            assert 'data-testid="grades-pending"' in body and "26.12" in body
            assert "/s/demo/reports/forecast/" in body and f"?period=y{last.pk}" in body
            body = client.get("/s/demo/reports/summary/").content.decode()
            assert f'value="y{last.pk}" selected' in body and "<table" in body
            assert 'data-testid="grades-pending"' not in body
            body = client.get("/s/demo/reports/curriculum/year-table/").content.decode()
            assert f'value="y{last.pk}" selected' in body and "<table" in body


def test_after_the_year_every_student_has_semester_and_annual_grades_from_the_marks() -> None:
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        generate(DemoOptions(seed=1, students=60))
    # The running year's grades (last year's are checked above: they come from no marks).
    semesters = list(StudyPeriod.objects.filter(year__is_current=True).exclude(kind=PeriodKind.YEAR).order_by("start"))
    assert len(semesters) == 2
    grades = PeriodGrade.objects.filter(period__year__is_current=True).select_related("value", "assignment", "period")
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
    # The enrolments, read once (a query per grade would be thousands): (student, class) -> [(start, end)].
    spans = defaultdict(list)
    for student, school_class, start, end in Enrolment.objects.values_list("student", "school_class", "start", "end"):
        spans[(student, school_class)].append((start, end))
    for g in grades:
        codes[g.value.code] += 1
        assert g.locked_at == g.set_at and g.version == 1 and g.set_by_id == g.assignment.teacher_id
        assert g.ordinal == 0
        if g.kind == GradeKind.ANNUAL:
            assert g.period_id == semesters[-1].pk
        assert g.set_at.date() == g.period.end or g.kind == GradeKind.ANNUAL
        # Enrolled in the journal's class on the period's last day.
        assert any(
            start <= g.period.end and (end is None or end >= g.period.end)
            for start, end in spans[(g.student_id, g.assignment.school_class_id)]
        ), g
    assert 0 < codes["н/а"] < by_kind[GradeKind.PERIOD] * 0.1
    assert 0 < codes["звільн."] < by_kind[GradeKind.PERIOD] * 0.02
    audit = JournalChange.objects.filter(kind=ChangeKind.PERIOD_GRADE, period__year__is_current=True)
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


@pytest.mark.engine_neutral
def test_grades_are_deterministic_with_the_seed() -> None:
    runs = []
    for _ in range(2):
        with transaction.atomic(), time_machine.travel(AFTER_THE_YEAR, tick=False):
            generate(DemoOptions(seed=3, students=25))
            runs.append(_grades())
            transaction.set_rollback(True)
    assert runs[0] and runs[0] == runs[1]
