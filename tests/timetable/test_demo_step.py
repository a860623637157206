"""The demo generator's timetable step: a clash-free timetable, the year's lessons, a few substitutions."""

from __future__ import annotations

import random
from decimal import Decimal
from types import SimpleNamespace

from classbook.demo.steps.timetable import step_timetable
from classbook.journal.models import Lesson
from classbook.schools.models import TeachingAssignment
from classbook.timetable import services
from classbook.timetable.models import LessonChange, TimetableEntry
from tests import factories as f


def build_for(world, tt):
    for _n in range(6):
        f.make_assignment(world.teacher, world.class_b, hours_per_week=Decimal("2.5"))
    rows = {}

    def bulk(model, objs):
        objs = list(objs)
        model.objects.bulk_create(objs)
        rows[model.__name__] = rows.get(model.__name__, 0) + len(objs)
        return objs

    # The tt fixture already made a bell schedule; the demo runs on a school without one.
    tt.schedule.delete()
    return SimpleNamespace(
        school=world.school,
        year=tt.math.year,
        assignments=list(TeachingAssignment.objects.filter(school=world.school)),
        rooms=[tt.room, tt.room2],
        staff={"deputy": world.deputy},
        rng=lambda step: random.Random(f"1:0:{step}"),
        bulk=bulk,
    )


def test_demo_timetable_is_clash_free_and_generates_the_year(world, tt):
    build = build_for(world, tt)
    step_timetable(build)
    entries = list(TimetableEntry.objects.select_related("assignment", "school", "room"))
    hours = sum(int(a.hours_per_week) + (1 if a.hours_per_week % 1 else 0) for a in build.assignments)
    assert len(entries) == hours
    for entry in entries:
        assert services.find_clash(entry) is None, entry
    assert Lesson.objects.count() > 30 * len(entries) // 2
    changes = LessonChange.objects.all()
    assert changes.filter(kind="cancelled").count() == 1
    for change in changes.filter(kind="substituted"):
        assert change.lesson.conducted_by_id == change.substitute_id != change.teacher_id


def test_demo_timetable_is_deterministic(world, tt):
    build = build_for(world, tt)
    step_timetable(build)
    first = sorted(TimetableEntry.objects.values_list("assignment_id", "weekday", "number", "parity"))
    LessonChange.objects.all().delete()
    from classbook.timetable.models import GeneratedLesson

    GeneratedLesson.objects.all().delete()
    Lesson.objects.all().delete()
    TimetableEntry.objects.all().delete()
    from classbook.timetable.models import BellSchedule

    BellSchedule.objects.all().delete()
    step_timetable(build)
    assert sorted(TimetableEntry.objects.values_list("assignment_id", "weekday", "number", "parity")) == first
