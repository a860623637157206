"""Consecutive absences count only the days the student was expected at a lesson (issue 11): a day on which
the class had only another subgroup's lessons neither counts nor breaks the run; a day the student was at
school breaks it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.journal import services as journal
from classbook.journal.models import AttendanceCode
from classbook.reports.attendance import Range, consecutive_absences
from classbook.schools.models import SchoolClass
from tests import factories as f

pytestmark = pytest.mark.django_db

MON, TUE, WED, THU, FRI = (dt.date(2026, 11, d) for d in (2, 3, 4, 5, 6))


@pytest.fixture
def days(world):
    """5-А: mathematics for the whole class on Monday, Wednesday and Friday; on Tuesday and Thursday only group
    2's English. ``world.student`` (group 1) misses Monday and Wednesday; ``twin`` (group 2) misses Monday and
    Wednesday too but is at Tuesday's English."""
    AttendanceCode.objects.get_or_create(school=world.school, code="н", defaults={"name": "Відсутній"})
    g1 = f.SubgroupFactory(school_class=world.class_a, name="Група 1")
    g2 = f.SubgroupFactory(school_class=world.class_a, name="Група 2")
    twin = f.make_student(world.class_a)
    g1.students.add(world.student)
    g2.students.add(twin)
    math = f.make_assignment(world.teacher, world.class_a)
    english = f.make_assignment(world.other_teacher, world.class_a, subgroup=g2)
    with time_machine.travel(dt.datetime(2026, 11, 6, 18, 0, tzinfo=dt.UTC), tick=False):
        lessons = {}
        for day in (MON, WED, FRI):
            lessons[("math", day)] = journal.create_lesson(acting_user=world.teacher, assignment=math, date=day)
        for day in (TUE, THU):
            lessons[("eng", day)] = journal.create_lesson(acting_user=world.other_teacher, assignment=english, date=day)
        for student in (world.student, twin):
            for day in (MON, WED):
                journal.record_attendance(
                    acting_user=world.teacher,
                    lesson=lessons[("math", day)],
                    student=student,
                    text="н",
                    expected_version=0,
                )
    return twin


def test_another_subgroups_day_does_not_break_the_run(world, days):
    classes = SchoolClass.objects.filter(school=world.school)
    found = {(s.student_id, s.first, s.last, s.days) for s in consecutive_absences(classes, Range(MON, FRI), 2)}
    # world.student was expected on Monday, Wednesday and Friday only: Monday and Wednesday in a row.
    # twin was expected on Tuesday's English and came: the run is broken.
    assert found == {(world.student.pk, MON, WED, 2)}
    assert consecutive_absences(classes, Range(MON, FRI), 3) == []
