from __future__ import annotations

import datetime as dt

import pytest

from classbook.journal.models import Lesson
from classbook.schools.models import TeachingAssignment

CSV_OK = (
    "order,section,topic,hours,lesson type,homework\n"
    "1,Numbers,Natural numbers,2,regular,§1\n"
    "2,Numbers,Control work 1,1,control,\n"
    "3,Geometry,Angles,1,laboratory,§2\n"
    "4,Geometry,Measuring,2,practice,\n"
    "5,Geometry,Revision,1,revision,\n"
)


def make_lessons(assignment: TeachingAssignment, dates: list[dt.date]) -> list[Lesson]:
    return [
        Lesson.objects.create(
            school=assignment.school, assignment=assignment, date=d, number=1, created_by=assignment.teacher
        )
        for d in dates
    ]


@pytest.fixture
def assignment(world) -> TeachingAssignment:
    return TeachingAssignment.objects.get(teacher=world.teacher)


@pytest.fixture
def other_assignment(world) -> TeachingAssignment:
    return TeachingAssignment.objects.get(teacher=world.other_teacher)
