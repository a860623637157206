"""Demo step: the closed year 2025/2026's journal, lesson by lesson (the region data set, issue 15).

The region data set (``seed_demo --scale 10``) is "a year of journal": about 3 million marks for ten schools of
1,000 students. In early December the current year holds only its first ~65 school days, so the whole previous
year is filled too. ``step_last_year_journal(build)`` runs after ``steps.last_year`` (which wrote the year, its
classes, enrolments, workload and period grades) when the run asks for it (``DemoOptions.last_year_journal``:
on by default with ``--scale`` above 1, off for the one-school demo, where it would triple the journal's rows
and the newcomer's wait) and writes:

- the year's days off (the holidays and vacations of 2025/2026, Easter and Trinity by the Julian paschalion:
  12-13 April and 31 May - 1 June 2026);
- a clash-free weekly timetable of last year's assignments (``steps.timetable.place_timetable``, the same
  placement as this year's) and the lessons of both semesters (1 September 2025 - 29 May 2026) through the
  service ``timetable.services.generate_lessons``;
- the journal of every one of those lessons through ``steps.journal.fill_journal``, exactly as this year's
  (topic, homework, register, absences, marks, their audit rows, late entries), but **consistent with the
  period grades** already given: a student's marks in a semester centre on their grade of that semester in
  that subject (12-point grades; else, and for "н/а", on their ability a year ago). Every lesson lies before
  the demo's "today", so nothing is dated in the future. No plans and no remarks: those are this year's.

Bulk writers and the rules they keep: those of ``steps.timetable`` and ``steps.journal`` (same audit rows,
versions, one entry per cell, scale and roster, no future times). Deterministic: the randomness comes from
``build.rng("last_year_journal")``.
"""

from __future__ import annotations

import datetime as dt

from classbook.demo.build import LAST_YEAR_NAME, LAST_YEAR_START, SchoolBuild
from classbook.demo.steps.journal import fill_journal
from classbook.demo.steps.last_year import GROWTH
from classbook.demo.steps.timetable import place_timetable
from classbook.journal.models import GradeKind, PeriodGrade
from classbook.schools.models import AcademicYear, DayKind, PeriodKind, SpecialDay, StudyPeriod, TeachingAssignment
from classbook.timetable import services

LAST_YEAR_DAYS_OFF = [
    (DayKind.HOLIDAY, "День захисників і захисниць України", dt.date(2025, 10, 1), dt.date(2025, 10, 1)),
    (DayKind.VACATION, "Осінні канікули", dt.date(2025, 10, 27), dt.date(2025, 11, 2)),
    (DayKind.HOLIDAY, "Різдво Христове", dt.date(2025, 12, 25), dt.date(2025, 12, 25)),
    (DayKind.VACATION, "Зимові канікули", dt.date(2025, 12, 27), dt.date(2026, 1, 11)),
    (DayKind.HOLIDAY, "Новий рік", dt.date(2026, 1, 1), dt.date(2026, 1, 1)),
    (DayKind.HOLIDAY, "Міжнародний жіночий день", dt.date(2026, 3, 8), dt.date(2026, 3, 8)),
    (DayKind.VACATION, "Весняні канікули", dt.date(2026, 3, 23), dt.date(2026, 3, 29)),
    (DayKind.HOLIDAY, "Великдень", dt.date(2026, 4, 12), dt.date(2026, 4, 13)),
    (DayKind.HOLIDAY, "День праці", dt.date(2026, 5, 1), dt.date(2026, 5, 1)),
    (DayKind.HOLIDAY, "День пам'яті та перемоги над нацизмом", dt.date(2026, 5, 8), dt.date(2026, 5, 8)),
    (DayKind.HOLIDAY, "Трійця", dt.date(2026, 5, 31), dt.date(2026, 6, 1)),
]


def step_last_year_journal(b: SchoolBuild) -> None:
    school = b.school
    deputy = b.staff.get("deputy") or b.staff.get("admin")
    if not b.run.options.fills_last_year or school is None or deputy is None:
        return
    year = AcademicYear.objects.filter(school=school, name=LAST_YEAR_NAME).first()
    if year is None:
        return
    semesters = list(
        StudyPeriod.objects.filter(school=school, year=year, kind=PeriodKind.SEMESTER).order_by("start", "pk")
    )
    assignments = list(TeachingAssignment.objects.filter(school=school, school_class__year=year).order_by("pk"))
    if not semesters or not assignments:
        return
    rng = b.rng("last_year_journal")
    b.bulk(
        SpecialDay,
        (SpecialDay(school=school, year=year, kind=k, name=n, start=s, end=e) for k, n, s, e in LAST_YEAR_DAYS_OFF),
    )
    place_timetable(b, rng, year, assignments, deputy)
    last_day = semesters[-1].end
    services.generate_lessons(acting_user=deputy, school=school, start=LAST_YEAR_START, end=last_day)

    # The semester grades the marks lead to: (student, assignment, semester index) -> points.
    index = {p.pk: i for i, p in enumerate(semesters)}
    graded: dict[tuple[int, int, int], int] = {}
    for student_id, assignment_id, period_id, code in PeriodGrade.objects.filter(
        school=school, period__in=semesters, kind=GradeKind.PERIOD
    ).values_list("student_id", "assignment_id", "period_id", "value__code"):
        if code.isdigit():
            graded[(student_id, assignment_id, index[period_id])] = int(code)
    ends = [p.end for p in semesters]
    ability = b.ability

    def centre(student: int, assignment: int, day: dt.date) -> float:
        semester = next((i for i, end in enumerate(ends) if day <= end), len(ends) - 1)
        points = graded.get((student, assignment, semester))
        if points is not None:
            return float(points)
        return ability.get(student, 8.4) - GROWTH

    fill_journal(b, rng, LAST_YEAR_START, last_day, centre)
