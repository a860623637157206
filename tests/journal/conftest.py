"""Journal fixtures on top of the shared ``world``: defaults, a semester, a lesson of the teacher's journal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection

from classbook.journal import services
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import Lesson
from classbook.schools.models import StudyPeriod, TeachingAssignment
from tests import factories as f

LESSON_DAY = dt.date(2026, 10, 5)
# 13:00 in Kyiv on the lesson day: before the 16:00 deadline.
IN_TIME = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)
# 18:00 in Kyiv on the lesson day: after the deadline.
AFTER_DEADLINE = dt.datetime(2026, 10, 5, 15, 0, tzinfo=dt.UTC)
# The day semester grades are set (noon in Kyiv).
GRADES_DAY = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _postgres_only(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@dataclass
class Journal:
    assignment: TeachingAssignment  # world.teacher's, class_a
    other_assignment: TeachingAssignment  # world.other_teacher's, class_b
    semester: StudyPeriod
    semester2: StudyPeriod
    lesson: Lesson  # of ``assignment`` on LESSON_DAY


@pytest.fixture
def journal(world) -> Journal:
    create_journal_defaults(world.school)
    create_journal_defaults(world.other_school)
    assignment = world.teacher.teaching_assignments.get()
    year = assignment.year
    semester = f.PeriodFactory(year=year)
    semester2 = f.PeriodFactory(
        year=year, name="II семестр", ordinal=2, start=dt.date(2027, 1, 12), end=dt.date(2027, 5, 30)
    )
    with time_machine.travel(IN_TIME):
        lesson = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=LESSON_DAY)
    return Journal(
        assignment=assignment,
        other_assignment=world.other_teacher.teaching_assignments.get(),
        semester=semester,
        semester2=semester2,
        lesson=lesson,
    )
