"""The journal's configurable rules and the numbers they produce (R2.2, R2.6, R2.7).

Read-only: the school's ``JournalPolicy``, grade accumulation per student, averages (weighted by
work type when the school wants it) and the basis of the annual grade (a corrected semester grade
replaces the semester grade it corrects). Writes live in ``services.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from classbook.journal.models import GradeKind, JournalPolicy, Mark, PeriodGrade
from classbook.people.models import Student
from classbook.schools.averages import mean
from classbook.schools.models import StudyPeriod, TeachingAssignment


def policy_for(school_id: int) -> JournalPolicy:
    """The school's journal rules; the row is created with the defaults the first time it is needed."""
    policy = JournalPolicy.objects.filter(school_id=school_id).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return JournalPolicy.objects.create(school_id=school_id)
    except IntegrityError:  # created by a concurrent request in the meantime
        return JournalPolicy.objects.get(school_id=school_id)


def policy_or_default(school_id: int) -> JournalPolicy:
    """The school's journal rules for reading (pages, API): the defaults, unsaved, when the school has no row."""
    return JournalPolicy.objects.filter(school_id=school_id).first() or JournalPolicy(school_id=school_id)


def required_marks(hours_per_week: Decimal, policy: JournalPolicy) -> int:
    """Marks a student needs per period: 3 at one lesson a week, 5 at two or more (R2.6)."""
    return policy.min_marks_more_hours if hours_per_week >= 2 else policy.min_marks_one_hour


def correction_last_day(grade: PeriodGrade, policy: JournalPolicy) -> dt.date:
    """The last day a corrected semester grade may be given: N calendar days after the grade was set (R2.7)."""
    return timezone.localdate(grade.set_at) + dt.timedelta(days=policy.correction_window_days)


def assignment_students(assignment: TeachingAssignment, start: dt.date, end: dt.date) -> QuerySet[Student]:
    """Students in the class (and subgroup) of the assignment at any time between ``start`` and ``end``."""
    qs = Student.objects.filter(
        Q(enrolments__school_class_id=assignment.school_class_id)
        & Q(enrolments__start__lte=end)
        & (Q(enrolments__end__isnull=True) | Q(enrolments__end__gte=start))
    )
    if assignment.subgroup_id:
        qs = qs.filter(subgroups=assignment.subgroup_id)
    return qs.distinct().select_related("user").order_by("user__last_name", "user__first_name", "user__patronymic")


def _period_marks(assignment: TeachingAssignment, period: StudyPeriod) -> QuerySet[Mark]:
    return Mark.objects.filter(
        lesson__assignment=assignment,
        lesson__date__gte=period.start,
        lesson__date__lte=period.end,
        value__isnull=False,
    )


def accumulation(assignment: TeachingAssignment, period: StudyPeriod) -> dict[int, tuple[int, int]]:
    """Marks each student has in the period and how many they need (R2.6): ``{student_id: (count, required)}``.

    Every mark counts, several marks at one lesson too; cleared marks do not. Two queries.
    """
    required = required_marks(assignment.hours_per_week, policy_for(assignment.school_id))
    counts: dict[int, int] = defaultdict(int)
    for student_id in _period_marks(assignment, period).values_list("student_id", flat=True):
        counts[student_id] += 1
    students = assignment_students(assignment, period.start, period.end).values_list("pk", flat=True)
    return {pk: (counts.get(pk, 0), required) for pk in students}


def averages(assignment: TeachingAssignment, period: StudyPeriod) -> dict[int, Decimal]:
    """Each student's average mark in the period, weighted by work type if the school wants it, rounded
    by the school's rule (``schools.averages.round_average``).

    Marks without a numeric value (pass/fail, verbal levels) do not count; students without marks are absent.
    """
    weighted = policy_for(assignment.school_id).weighted_averages
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    rows = _period_marks(assignment, period).filter(value__numeric__isnull=False)
    for student_id, numeric, weight in rows.values_list("student_id", "value__numeric", "work_type__weight"):
        if numeric is None:  # excluded by the filter above; this narrows the type
            continue
        w = weight if weighted else Decimal(1)
        totals[student_id][0] += numeric * w
        totals[student_id][1] += w
    school = assignment.school
    return {pk: average for pk, (s, w) in totals.items() if (average := mean(s, w, school)) is not None}


def annual_grade_basis(assignment: TeachingAssignment, student: Student) -> list[PeriodGrade]:
    """The semester/quarter grades the annual grade is based on, one per period, in order (R2.7).

    Where a corrected grade exists it replaces the period grade it corrects; both stay stored.
    """
    grades = (
        PeriodGrade.objects.filter(
            assignment=assignment, student=student, kind__in=[GradeKind.PERIOD, GradeKind.CORRECTED]
        )
        .select_related("value", "period")
        .order_by("period__start", "ordinal")
    )
    chosen: dict[tuple[int, int], PeriodGrade] = {}
    for grade in grades:
        key = (grade.period_id, grade.ordinal)
        if key not in chosen or grade.kind == GradeKind.CORRECTED:
            chosen[key] = grade
    return list(chosen.values())
