"""A timetable world: the shared personas plus bells, rooms and a subgroup split of class_a."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from classbook.schools.models import Room, Subgroup, TeachingAssignment
from classbook.timetable import services
from classbook.timetable.models import BellSchedule
from tests import factories as f


@dataclass
class TT:
    schedule: BellSchedule
    room: Room
    room2: Room
    math: TeachingAssignment  # teacher, class_a
    history: TeachingAssignment  # other_teacher, class_b
    group1: Subgroup
    group2: Subgroup
    english1: TeachingAssignment  # other_teacher, class_a / group1
    english2: TeachingAssignment  # class_teacher, class_a / group2


@pytest.fixture
def tt(world):
    deputy = world.deputy
    schedule = services.create_bell_schedule(acting_user=deputy, school=world.school, name="Перша зміна")
    for n in range(1, 8):
        start = dt.time(8 + n - 1, 0)
        services.set_bell(acting_user=deputy, schedule=schedule, number=n, start=start, end=dt.time(8 + n - 1, 45))
    group1 = f.SubgroupFactory(school_class=world.class_a, name="Група 1")
    group2 = f.SubgroupFactory(school_class=world.class_a, name="Група 2")
    group1.students.add(world.student)
    english = f.SubjectFactory(school=world.school, name="Англійська мова")
    return TT(
        schedule=schedule,
        room=f.RoomFactory(school=world.school, name="101"),
        room2=f.RoomFactory(school=world.school, name="102"),
        math=TeachingAssignment.objects.get(teacher=world.teacher),
        history=TeachingAssignment.objects.get(teacher=world.other_teacher),
        group1=group1,
        group2=group2,
        english1=f.make_assignment(world.other_teacher, world.class_a, english, subgroup=group1),
        english2=f.make_assignment(world.class_teacher, world.class_a, english, subgroup=group2),
    )
