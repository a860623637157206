"""Extra working days (SpecialDay kind "working"): a Saturday worked to Monday's timetable
("працюємо за розкладом понеділка") gets Monday's lessons when lessons are generated and in the views."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Q

from classbook.access.context import build_context
from classbook.journal.models import Lesson
from classbook.schools import services as school_services
from classbook.schools.models import SpecialDay
from classbook.timetable import queries, services
from classbook.timetable.models import GeneratedLesson, extra_working_days

MON = dt.date(2026, 9, 7)
SAT = dt.date(2026, 9, 12)
SUN = dt.date(2026, 9, 13)


def _working(world, day, as_weekday, name="Відпрацювання"):
    year = world.class_a.year
    return school_services.create_row(
        acting_user=world.deputy,
        school=world.school,
        model=SpecialDay,
        fields={"year": year.pk, "kind": "working", "name": name, "start": day, "end": day, "as_weekday": as_weekday},
    )


def test_a_saturday_worked_as_monday_gets_mondays_lessons(world, tt):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    services.add_entry(acting_user=world.deputy, assignment=tt.history, weekday=6, number=2)  # a real Saturday lesson
    services.add_entry(acting_user=world.deputy, assignment=tt.history, weekday=2, number=3)
    _working(world, SAT, 1)
    result = services.generate_lessons(acting_user=world.deputy, school=world.school, start=MON, end=SUN)
    saturday = sorted(Lesson.objects.filter(date=SAT).values_list("assignment_id", "number"))
    # Monday's timetable, not Saturday's own.
    assert saturday == [(tt.math.pk, 1)]
    assert sorted(Lesson.objects.filter(assignment=tt.math).values_list("date", flat=True)) == [MON, SAT]
    assert result.created == 3  # Mon math, Tue history, Sat (as Monday) math
    # Idempotent across the working day too.
    again = services.generate_lessons(acting_user=world.deputy, school=world.school, start=MON, end=SUN)
    assert again.created == 0 and again.existing == 3
    assert GeneratedLesson.objects.filter(date=SAT).count() == 1


def test_a_working_sunday_and_a_worked_day_inside_a_vacation(world, tt):
    year = world.class_a.year
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=3, number=4)
    SpecialDay.objects.create(
        school=world.school,
        year=year,
        kind="vacation",
        name="Канікули",
        start=dt.date(2026, 10, 26),
        end=SUN.replace(month=11, day=1),
    )
    _working(world, SUN, 3, name="Неділя за середу")
    _working(world, dt.date(2026, 10, 28), None, name="Робоча середа в канікули")  # its own weekday
    services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 7), end=dt.date(2026, 11, 1)
    )
    dates = set(Lesson.objects.values_list("date", flat=True))
    assert SUN in dates
    assert dt.date(2026, 10, 28) in dates  # worked inside the vacation
    assert dt.date(2026, 10, 21) in dates and dt.date(2026, 11, 4) not in dates


def test_the_week_view_shows_the_working_days_lessons(world, tt):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    _working(world, SAT, 1)
    ctx = build_context(world.deputy, world.school)
    days = queries.timetable(ctx, start=MON, end=SUN, entry_filter=Q())
    by_date = {d.date: d for d in days}
    assert [s.number for s in by_date[SAT].slots] == [1]


def test_a_weekday_is_only_for_working_days(world):
    year = world.class_a.year
    with pytest.raises(ValidationError) as exc:
        school_services.create_row(
            acting_user=world.deputy,
            school=world.school,
            model=SpecialDay,
            fields={"year": year.pk, "kind": "holiday", "name": "Свято", "start": SAT, "end": SAT, "as_weekday": 1},
        )
    assert "as_weekday" in exc.value.message_dict
    assert not SpecialDay.objects.exists()


def test_extra_working_days_reads_one_query(world, django_assert_num_queries):
    _working(world, SAT, 1)
    _working(world, SUN, None)
    with django_assert_num_queries(1):
        days = extra_working_days(world.school.pk, MON, SUN)
    assert days == {SAT: 1, SUN: 7}
