"""Lesson generation from the timetable (R4.1, R3.1): holidays, weekends, parity, validity, idempotence,
and a mid-period change that keeps every lesson with data (the issue's known failure of other systems)."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.core.errors import DomainError
from classbook.journal.models import Attendance, AttendanceCode, Lesson, Mark
from classbook.schools.models import SpecialDay
from classbook.timetable import services
from classbook.timetable.models import GeneratedLesson, Parity, parity_of, week_number

MON = dt.date(2026, 9, 7)  # a Monday in the second week of the 2026/2027 year (starts Tue 1 Sep)


def test_week_numbers_start_with_the_week_of_the_first_day():
    start = dt.date(2026, 9, 1)  # Tuesday
    assert week_number(start, dt.date(2026, 8, 31)) == 1  # the Monday of that week
    assert week_number(start, dt.date(2026, 9, 6)) == 1
    assert week_number(start, MON) == 2
    assert parity_of(start, dt.date(2026, 9, 4)) == Parity.ODD  # numerator
    assert parity_of(start, MON) == Parity.EVEN  # denominator


def test_generation_skips_weekends_and_holidays_and_honours_parity(world, tt):
    deputy = world.deputy
    services.add_entry(acting_user=deputy, assignment=tt.math, weekday=1, number=1)
    services.add_entry(acting_user=deputy, assignment=tt.math, weekday=3, number=2, parity=Parity.ODD)
    services.add_entry(acting_user=deputy, assignment=tt.history, weekday=3, number=2, parity=Parity.EVEN)
    year = tt.math.year
    SpecialDay.objects.create(school=world.school, year=year, kind="holiday", name="День", start=MON, end=MON)
    result = services.generate_lessons(
        acting_user=deputy, school=world.school, start=dt.date(2026, 9, 1), end=dt.date(2026, 9, 20)
    )
    dates = sorted(Lesson.objects.filter(assignment=tt.math).values_list("date", "number"))
    # Mondays 7 (holiday) and 14; Wednesdays of odd weeks: 2 Sep (week 1) and 16 Sep (week 3).
    assert dates == [(dt.date(2026, 9, 2), 2), (dt.date(2026, 9, 14), 1), (dt.date(2026, 9, 16), 2)]
    assert list(Lesson.objects.filter(assignment=tt.history).values_list("date", flat=True)) == [dt.date(2026, 9, 9)]
    assert result.created == 4
    assert result.skipped_days == [MON]
    assert not Lesson.objects.filter(date__week_day__in=[1, 7]).exists()  # no Sundays or Saturdays


def test_generation_twice_creates_nothing_new(world, tt, django_assert_max_num_queries):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=2, number=3)
    first = services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 31)
    )
    with django_assert_max_num_queries(16):
        second = services.generate_lessons(
            acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 31)
        )
    assert first.created == Lesson.objects.count() > 10
    assert second.created == 0
    assert second.existing == first.created


def test_generation_honours_validity(world, tt):
    services.add_entry(
        acting_user=world.deputy,
        assignment=tt.math,
        weekday=1,
        number=1,
        valid_from=dt.date(2026, 9, 10),
        valid_until=dt.date(2026, 9, 25),
    )
    services.generate_lessons(acting_user=world.deputy, school=world.school, start=MON, end=dt.date(2026, 10, 5))
    assert list(Lesson.objects.values_list("date", flat=True)) == [dt.date(2026, 9, 14), dt.date(2026, 9, 21)]


def test_generation_outside_the_school_year_is_refused_and_changes_nothing(world, tt):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    with pytest.raises(DomainError) as exc:
        services.generate_lessons(
            acting_user=world.deputy, school=world.school, start=dt.date(2027, 6, 1), end=dt.date(2027, 8, 1)
        )
    assert "academic year" in str(exc.value.message)
    assert not Lesson.objects.exists()


def test_teacher_cannot_generate_lessons(world, tt):
    from classbook.core.errors import PermissionDeniedError

    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    with pytest.raises(PermissionDeniedError):
        services.generate_lessons(acting_user=world.teacher, school=world.school, start=MON, end=MON)
    assert not Lesson.objects.exists()


def _fill(world, tt, lessons):
    """Give four lessons data in four different ways; return them."""
    with_topic, with_mark, with_absence, substituted = lessons
    Lesson.objects.filter(pk=with_topic.pk).update(topic="Дроби")
    Mark.objects.create(
        school=world.school,
        lesson=with_mark,
        student=world.student,
        work_type=world.school_work_type,
        value=world.school_mark_value,
        created_by=world.teacher,
        updated_by=world.teacher,
    )
    Attendance.objects.create(
        school=world.school,
        lesson=with_absence,
        student=world.student,
        code=AttendanceCode.objects.filter(school=world.school).first(),
        recorded_by=world.teacher,
    )
    services.record_lesson_change(
        acting_user=world.deputy,
        lesson=substituted,
        kind="substituted",
        substitute=world.class_teacher,
        reason="Хвороба",
    )
    return {x.pk for x in lessons}


@pytest.fixture
def journal_values(world):
    from classbook.journal.models import WorkType
    from classbook.schools.models import ScaleValue

    world.school_work_type = WorkType.objects.filter(school=world.school).first() or WorkType.objects.create(
        school=world.school, code="current", name="Поточна"
    )
    world.school_mark_value = ScaleValue.objects.filter(school=world.school).first()
    if not AttendanceCode.objects.filter(school=world.school).exists():
        AttendanceCode.objects.create(school=world.school, code="н", name="Відсутній")
    return world


def test_change_from_a_date_regenerates_only_future_empty_lessons_and_keeps_lessons_with_data(
    world, tt, journal_values
):
    deputy = world.deputy
    entry = services.add_entry(acting_user=deputy, assignment=tt.math, weekday=1, number=1, room=tt.room)
    services.generate_lessons(
        acting_user=deputy, school=world.school, start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 25)
    )
    lessons = list(Lesson.objects.order_by("date"))
    past = lessons[:3]  # 7, 14, 21 Sep — before the change, empty: must stay too
    future_with_data = lessons[4:8]  # 5, 12, 19, 26 Oct
    data_ids = _fill(world, tt, future_with_data)
    change_day = dt.date(2026, 10, 1)

    result = services.change_entry(acting_user=deputy, entry=entry, from_date=change_day, weekday=2, number=4)

    # Every lesson with data still exists, unchanged and still linked to the entry that produced it.
    kept = Lesson.objects.filter(pk__in=data_ids)
    assert kept.count() == 4
    assert set(kept.values_list("date__week_day", flat=True)) == {2}  # Mondays (Django: Sunday=1)
    assert set(GeneratedLesson.objects.filter(lesson__in=kept).values_list("entry_id", flat=True)) == {entry.pk}
    assert {x.pk for x in result.kept} == data_ids
    # Past lessons untouched.
    assert Lesson.objects.filter(pk__in=[x.pk for x in past]).count() == 3
    # Empty future Monday lessons are gone; Tuesday lessons from the change day exist instead.
    mondays_after = Lesson.objects.filter(date__gte=change_day, date__week_day=2).exclude(pk__in=data_ids)
    assert not mondays_after.exists()
    tuesdays = Lesson.objects.filter(date__gte=change_day, number=4)
    assert tuesdays.count() == result.created > 0
    assert min(tuesdays.values_list("date", flat=True)) == dt.date(2026, 10, 6)
    assert result.removed == len([x for x in lessons if x.date >= change_day]) - 4
    entry.refresh_from_db()
    assert entry.valid_until == dt.date(2026, 9, 30)
    # Running the generation again changes nothing.
    again = services.generate_lessons(
        acting_user=deputy, school=world.school, start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 25)
    )
    assert again.created == 0


def test_removing_an_entry_keeps_its_lessons_with_data(world, tt, journal_values):
    deputy = world.deputy
    entry = services.add_entry(acting_user=deputy, assignment=tt.math, weekday=1, number=1)
    services.generate_lessons(acting_user=deputy, school=world.school, start=MON, end=dt.date(2026, 10, 31))
    lessons = list(Lesson.objects.order_by("date"))
    data_ids = _fill(world, tt, lessons[:4])
    result = services.remove_entry(acting_user=deputy, entry=entry)
    assert set(Lesson.objects.values_list("pk", flat=True)) == data_ids
    assert {x.pk for x in result.kept} == data_ids
    entry.refresh_from_db()
    assert entry.withdrawn_at is not None
    # A withdrawn entry produces nothing more.
    assert (
        services.generate_lessons(acting_user=deputy, school=world.school, start=MON, end=dt.date(2026, 10, 31)).created
        == 0
    )


def test_removing_an_entry_without_lessons_deletes_it(world, tt):
    entry = services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    services.remove_entry(acting_user=world.deputy, entry=entry)
    assert not type(entry).objects.filter(pk=entry.pk).exists()
