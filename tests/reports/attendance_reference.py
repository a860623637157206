"""An independent computation of the attendance figures from the raw rows, in plain Python.

It reads every attendance row, lesson, lesson change, enrolment and subgroup membership of the school as
stored and applies the definitions of docs/reports.md step by step, without the aggregations (nor the
``journal.absences`` conditions) the reports use, so a mistake in either shows as a difference.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from classbook.journal.models import Attendance, Lesson
from classbook.people.models import Enrolment
from classbook.schools.models import Subgroup
from classbook.timetable.models import LessonChange


@dataclass
class Figures:
    missed: int = 0
    excused: int = 0
    illness: int = 0
    late: int = 0
    days: int = 0
    days_excused: int = 0

    @property
    def unexcused(self) -> int:
        return self.missed - self.excused


@dataclass
class Raw:
    rows: list[Attendance]
    lessons: list[Lesson]
    cancelled: set[int]
    enrolments: list[Enrolment]
    members: dict[int, set[int]] = field(default_factory=dict)  # subgroup id -> student ids

    def enrolled(self, student_id: int, class_id: int, day: dt.date) -> bool:
        return any(
            (e.student_id, e.school_class_id) == (student_id, class_id)
            and e.start <= day
            and (e.end is None or e.end >= day)
            for e in self.enrolments
        )

    def had(self, student_id: int, day: dt.date) -> set[int]:
        """The lessons the student had on the day: held, of a class they were in, theirs if a subgroup's."""
        return {
            lesson.pk
            for lesson in self.lessons
            if lesson.date == day
            and lesson.pk not in self.cancelled
            and self.enrolled(student_id, lesson.assignment.school_class_id, day)
            and (lesson.assignment.subgroup_id is None or student_id in self.members[lesson.assignment.subgroup_id])
        }


def load(school) -> Raw:
    members: dict[int, set[int]] = defaultdict(set)
    for subgroup in Subgroup.objects.filter(school_class__school=school).prefetch_related("students"):
        members[subgroup.pk] = {s.pk for s in subgroup.students.all()}
    return Raw(
        rows=list(Attendance.objects.filter(school=school).select_related("code", "lesson__assignment")),
        lessons=list(Lesson.objects.filter(school=school).select_related("assignment")),
        cancelled=set(LessonChange.objects.filter(school=school, kind="cancelled").values_list("lesson_id", flat=True)),
        enrolments=list(Enrolment.objects.filter(school=school)),
        members=members,
    )


def is_missed(row: Attendance) -> bool:
    return row.code is not None and row.code.counts_as_absent


def is_excused(row: Attendance) -> bool:
    return is_missed(row) and (row.code.is_excused or row.reason_excused)


def figures(raw: Raw, key, start: dt.date, end: dt.date, *, class_id=None, subject_id=None, with_days=True):
    """Per ``key(row)`` (a class, student or subject id): the figures of the rows in the days."""
    out: dict[int, Figures] = defaultdict(Figures)
    picked = [
        r
        for r in raw.rows
        if start <= r.lesson.date <= end
        and (class_id is None or r.lesson.assignment.school_class_id == class_id)
        and (subject_id is None or r.lesson.assignment.subject_id == subject_id)
    ]
    for r in picked:
        f = out[key(r)]
        if is_missed(r):
            f.missed += 1
            f.excused += is_excused(r)
            f.illness += r.reason_kind == "illness"
        if r.code is not None and r.code.is_late:
            f.late += 1
    if with_days:
        missed_on: dict[tuple[int, dt.date], list[Attendance]] = defaultdict(list)
        for r in picked:
            if is_missed(r):
                missed_on[(r.student_id, r.lesson.date)].append(r)
        for (student_id, day), day_rows in missed_on.items():
            had = raw.had(student_id, day)
            if had and had <= {r.lesson_id for r in day_rows}:
                f = out[key(day_rows[0])]
                f.days += 1
                f.days_excused += all(is_excused(r) for r in day_rows)
    return dict(out)


def whole_days(raw: Raw, start: dt.date, end: dt.date) -> dict[tuple[int, int], list[dt.date]]:
    """(student, class) -> the days in the range the student missed whole, in that class's lessons."""
    out: dict[tuple[int, int], list[dt.date]] = defaultdict(list)
    missed: dict[tuple[int, int, dt.date], set[int]] = defaultdict(set)
    for r in raw.rows:
        if is_missed(r) and start <= r.lesson.date <= end:
            missed[(r.student_id, r.lesson.assignment.school_class_id, r.lesson.date)].add(r.lesson_id)
    for (student_id, class_id, day), lessons in missed.items():
        had = raw.had(student_id, day)
        if had and had <= lessons:
            out[(student_id, class_id)].append(day)
    return out


def streaks(raw: Raw, start: dt.date, end: dt.date, at_least: int) -> set[tuple[int, dt.date, dt.date, int]]:
    found = set()
    for (student_id, class_id), days in whole_days(raw, start, end).items():
        school_days = sorted(
            {
                lesson.date
                for lesson in raw.lessons
                if lesson.assignment.school_class_id == class_id
                and start <= lesson.date <= end
                and lesson.pk not in raw.cancelled
            }
        )
        # only the days the student was expected at a lesson: a day of another subgroup's lessons only, or
        # before they joined the class, neither counts nor breaks the run
        expected = [day for day in school_days if raw.had(student_id, day)]
        run: list[dt.date] = []
        for day in [*expected, None]:
            if day in days:
                run.append(day)
            else:
                if len(run) >= at_least:
                    found.add((student_id, run[0], run[-1], len(run)))
                run = []
    return found


def registers(raw: Raw, day: dt.date) -> dict[int, list[int]]:
    """Class id -> the held lessons of the day without a register taken."""
    out: dict[int, list[int]] = defaultdict(list)
    for lesson in raw.lessons:
        if lesson.date == day and lesson.pk not in raw.cancelled and lesson.register_taken_at is None:
            out[lesson.assignment.school_class_id].append(lesson.pk)
    return dict(out)
