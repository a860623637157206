"""The school of the year-opening tests: the world's 5-А / 5-Б plus a first and a final class, a leaver, a
student who moved out, a subgroup, a retired teacher, bells, holidays and a timetable with generated lessons."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from classbook.journal.models import Lesson
from classbook.people.models import Enrolment, Membership, Role
from classbook.schools.models import (
    AcademicYear,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    TeachingAssignment,
)
from classbook.timetable import services as timetable
from classbook.timetable.models import BellSchedule, TimetableEntry
from tests import factories as f

NEW = {"name": "2027/2028", "start": dt.date(2027, 9, 1), "end": dt.date(2028, 6, 30)}


class Scene:
    pass


@pytest.fixture
def scene(world):
    """The world's 5-А / 5-Б plus a first and a final class, a subgroup, bells, holidays and a timetable."""
    s = Scene()
    s.world = world
    school = world.school
    year = world.class_a.year
    s.year = year
    s.class_1a = f.SchoolClassFactory(year=year, name="1-А", year_level=f.YearLevelFactory(school=school, number=1))
    s.class_11a = f.SchoolClassFactory(year=year, name="11-А", year_level=f.YearLevelFactory(school=school, number=11))
    s.first_grader = f.make_student(s.class_1a)
    s.graduate = f.make_student(s.class_11a)
    s.leaver = f.make_student(world.class_a)
    s.leaver.left_on = dt.date(2027, 5, 20)
    s.leaver.save()
    s.moved_out = f.make_student(world.class_b)
    Enrolment.objects.filter(student=s.moved_out).update(end=dt.date(2027, 2, 1))
    s.group = f.SubgroupFactory(school_class=world.class_a, name="Група 1")
    s.group.students.add(world.student, s.leaver)
    s.english = f.make_assignment(world.other_teacher, world.class_a, subgroup=s.group, hours_per_week=Decimal("1.5"))
    s.math = TeachingAssignment.objects.get(teacher=world.teacher)
    s.gone_teacher = f.make_member(school, Role.TEACHER, username="retired")
    s.old_assignment = f.make_assignment(s.gone_teacher, world.class_b)
    Membership.objects.filter(user=s.gone_teacher).update(until=dt.date(2026, 10, 1))
    schedule = timetable.create_bell_schedule(acting_user=world.deputy, school=school, name="Друга зміна")
    schedule.classes.add(world.class_b, s.class_1a)
    s.schedule = schedule
    timetable.create_bell_schedule(acting_user=world.deputy, school=school, name="Перша зміна", is_default=True)
    room = f.RoomFactory(school=school, name="101")
    timetable.add_entry(acting_user=world.deputy, assignment=s.math, weekday=1, number=1, room=room)
    timetable.add_entry(acting_user=world.deputy, assignment=s.english, weekday=2, number=3, parity="odd")
    timetable.add_entry(
        acting_user=world.deputy,
        assignment=s.math,
        weekday=3,
        number=2,
        valid_until=dt.date(2026, 12, 31),  # ended mid-year: not in force at the end
    )
    SpecialDay.objects.create(
        school=school,
        year=year,
        kind="vacation",
        name="Зимові канікули",
        start=dt.date(2026, 12, 28),
        end=dt.date(2027, 1, 10),
    )
    SpecialDay.objects.create(
        school=school,
        year=year,
        kind="working",
        name="Субота",
        start=dt.date(2026, 10, 3),
        end=dt.date(2026, 10, 3),
        as_weekday=1,
    )
    timetable.generate_lessons(
        acting_user=world.deputy, school=school, start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 30)
    )
    return s


def old_year_checksum(year: AcademicYear) -> tuple[dict[str, int], str]:
    """Counts and a hash of every row of the old year (and of all students and lessons)."""
    through = Subgroup.students.through
    bells = BellSchedule.classes.through
    sets = {
        "year": AcademicYear.objects.filter(pk=year.pk),
        "periods": StudyPeriod.objects.filter(year=year),
        "special_days": SpecialDay.objects.filter(year=year),
        "classes": SchoolClass.objects.filter(year=year),
        "subgroups": Subgroup.objects.filter(school_class__year=year),
        "subgroup_students": through.objects.filter(subgroup__school_class__year=year),
        "enrolments": Enrolment.objects.filter(school_class__year=year),
        "assignments": TeachingAssignment.objects.filter(year=year),
        "entries": TimetableEntry.objects.filter(year=year),
        "bell_links": bells.objects.filter(schoolclass__year=year),
        "lessons": Lesson.objects.all(),
    }
    digest = hashlib.sha256()
    counts = {}
    for key, qs in sets.items():
        rows = sorted(repr(sorted(r.items())) for r in qs.values())
        counts[key] = len(rows)
        digest.update(key.encode())
        for row in rows:
            digest.update(row.encode())
    return counts, digest.hexdigest()
