"""Read models of the absences page and the lists of reports and flags (R2.8, R2.11).

Each function costs a fixed number of queries, whatever the number of students, lessons and rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from classbook.core.collation import name_order
from classbook.journal.absences import EXCUSED_FLAG, NONE, absence_counts
from classbook.journal.models import Attendance
from classbook.people.models import Student
from classbook.schools.models import SchoolClass


@dataclass
class StudentSummary:
    student: Student
    total: int = 0
    excused: int = 0
    with_reason: int = 0

    @property
    def unexcused(self) -> int:
        return self.total - self.excused


@dataclass
class AbsenceDay:
    """One student's missed lessons on one day (the page groups them so a day is chosen at once)."""

    student: Student
    date: dt.date
    rows: list[Attendance] = field(default_factory=list)


def absence_list(absences: QuerySet[Attendance]) -> list[Attendance]:
    """The rows of the page, by student, then day, then lesson number: one query. Each row carries
    ``excused`` (``journal.absences.EXCUSED_FLAG``)."""
    return list(
        absences.annotate(excused=EXCUSED_FLAG).order_by(
            "student__user__last_name",
            "student__user__first_name",
            "student_id",
            "lesson__date",
            "lesson__number",
            "pk",
        )
    )


def absence_days(rows: list[Attendance]) -> list[AbsenceDay]:
    days: list[AbsenceDay] = []
    for row in rows:
        if not days or days[-1].student.pk != row.student_id or days[-1].date != row.lesson.date:
            days.append(AbsenceDay(student=row.student, date=row.lesson.date))
        days[-1].rows.append(row)
    return days


def class_summary(
    school_class: SchoolClass, absences: QuerySet[Attendance], start: dt.date, end: dt.date
) -> list[StudentSummary]:
    """Per student of the class in the days: missed lessons, excused, unexcused (two queries); the counts are
    ``journal.absences.absence_counts`` of the page's rows."""
    students = list(
        Student.objects.filter(
            Q(enrolments__end__isnull=True) | Q(enrolments__end__gte=start),
            enrolments__school_class=school_class,
            enrolments__start__lte=end,
        )
        .select_related("user")
        .distinct()
        .order_by(*name_order("user__"))
    )
    counts = absence_counts(absences)
    result = []
    for student in students:
        c = counts.get(student.pk, NONE)
        result.append(StudentSummary(student=student, total=c.missed, excused=c.excused, with_reason=c.with_reason))
    return result
