"""Bells, clash detection and lesson changes (R4.1, R4.2, R2.9)."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.access.journal import can_edit_lesson
from classbook.core.errors import DomainError
from classbook.core.models import AuditEntry
from classbook.journal.models import Lesson
from classbook.timetable import services
from classbook.timetable.models import Bell, LessonChange, Parity, TimetableEntry


def test_overlapping_bell_is_refused_with_a_message_and_nothing_changes(world, tt):
    with pytest.raises(DomainError) as exc:
        services.set_bell(
            acting_user=world.deputy, schedule=tt.schedule, number=8, start=dt.time(14, 30), end=dt.time(15, 15)
        )
    assert "overlaps lesson 7" in str(exc.value.message)
    assert not Bell.objects.filter(number=8).exists()


def test_bell_ending_before_it_starts_is_refused(world, tt):
    with pytest.raises(DomainError, match="end after it starts"):
        services.set_bell(
            acting_user=world.deputy, schedule=tt.schedule, number=8, start=dt.time(16, 0), end=dt.time(15, 0)
        )


def test_second_shift_has_its_own_schedule(world, tt):
    second = services.create_bell_schedule(
        acting_user=world.deputy, school=world.school, name="Друга зміна", class_ids=[world.class_b.pk]
    )
    services.set_bell(acting_user=world.deputy, schedule=second, number=1, start=dt.time(8, 0), end=dt.time(8, 45))
    assert not second.is_default and tt.schedule.is_default
    assert list(second.classes.all()) == [world.class_b]


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        (("math", {}), ("history", {"room": "room"}), None),  # different teacher, class, no room
        (("math", {"room": "room"}), ("history", {"room": "room"}), "room 101"),
        (("math", {}), ("english1", {}), "the class already has"),  # class lesson vs its subgroup's
        (("english1", {}), ("english2", {}), None),  # two subgroups of the class
        (("english1", {}), ("history", {}), "teacher"),  # other_teacher teaches both
        (("math", {"parity": Parity.ODD}), ("english1", {"parity": Parity.EVEN}), None),  # alternating weeks
        (("math", {"parity": Parity.EVERY}), ("english1", {"parity": Parity.EVEN}), "the class already has"),
        (
            ("math", {"valid_until": dt.date(2026, 10, 31)}),
            ("english1", {"valid_from": dt.date(2026, 11, 1)}),
            None,
        ),
    ],
)
def test_clash_detection(world, tt, first, second, clash):
    def kwargs(spec):
        name, extra = spec
        extra = {k: getattr(tt, v) if k == "room" else v for k, v in extra.items()}
        return {"assignment": getattr(tt, name), "weekday": 2, "number": 3, **extra}

    services.add_entry(acting_user=world.deputy, **kwargs(first))
    if clash is None:
        services.add_entry(acting_user=world.deputy, **kwargs(second))
        assert TimetableEntry.objects.count() == 2
    else:
        with pytest.raises(DomainError) as exc:
            services.add_entry(acting_user=world.deputy, **kwargs(second))
        assert clash in str(exc.value.message)
        assert "lesson 3" in str(exc.value.message)
        assert TimetableEntry.objects.count() == 1


def test_clash_check_is_one_query(world, tt, django_assert_num_queries):
    entry = services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=2, number=3)
    probe = TimetableEntry(
        school=world.school,
        year=entry.year,
        assignment=tt.english1,
        weekday=2,
        number=3,
        valid_from=entry.valid_from,
        valid_until=entry.valid_until,
    )
    probe.assignment = tt.english1
    with django_assert_num_queries(1):
        assert services.find_clash(probe)


def test_entry_outside_the_school_year_or_of_another_school_is_refused(world, tt):
    with pytest.raises(DomainError, match="inside the academic year"):
        services.add_entry(
            acting_user=world.deputy, assignment=tt.math, weekday=1, number=1, valid_until=dt.date(2027, 8, 1)
        )
    from tests import factories as f

    foreign = f.make_assignment(world.foreign_teacher, world.foreign_class)
    with pytest.raises(DomainError):
        services.add_entry(acting_user=world.deputy, assignment=foreign, weekday=1, number=1)
    assert not TimetableEntry.objects.exists()


@pytest.fixture
def lesson(world, tt):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=2)
    services.add_entry(acting_user=world.deputy, assignment=tt.history, weekday=1, number=2)
    services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 7), end=dt.date(2026, 9, 7)
    )
    return Lesson.objects.get(assignment=tt.math)


def test_substitution_lets_the_substitute_fill_the_journal_and_is_audited(world, lesson):
    assert not can_edit_lesson(world.class_teacher, lesson)
    change = services.record_lesson_change(
        acting_user=world.deputy, lesson=lesson, kind="substituted", substitute=world.class_teacher, reason="Хвороба"
    )
    lesson.refresh_from_db()
    assert lesson.conducted_by == world.class_teacher
    assert can_edit_lesson(world.class_teacher, lesson)
    assert change.teacher == world.teacher
    assert AuditEntry.objects.filter(action="timetable.lesson.conducted_by", object_id=str(lesson.pk)).exists()
    assert AuditEntry.objects.filter(action="timetable.lesson.substituted").exists()


@pytest.mark.parametrize("who", ["foreign_teacher", "student", "teacher"])
def test_substitute_must_be_another_teacher_of_the_school(world, lesson, who):
    with pytest.raises(DomainError):
        services.record_lesson_change(
            acting_user=world.deputy, lesson=lesson, kind="substituted", substitute=world.persona(who)
        )
    lesson.refresh_from_db()
    assert lesson.conducted_by is None
    assert not LessonChange.objects.exists()


def test_busy_teacher_cannot_substitute(world, lesson):
    with pytest.raises(DomainError, match="has a lesson at that time"):
        services.record_lesson_change(
            acting_user=world.deputy, lesson=lesson, kind="substituted", substitute=world.other_teacher
        )


def test_merge_gives_the_lesson_to_the_other_classs_teacher(world, tt, lesson):
    other = Lesson.objects.get(assignment=tt.history)
    change = services.record_lesson_change(acting_user=world.deputy, lesson=lesson, kind="merged", merged_with=other)
    lesson.refresh_from_db()
    assert lesson.conducted_by == world.other_teacher
    assert change.substitute == world.other_teacher


def test_move_changes_the_lesson_day_and_generation_stays_idempotent(world, lesson):
    services.record_lesson_change(
        acting_user=world.deputy, lesson=lesson, kind="moved", new_date=dt.date(2026, 9, 9), new_number=5
    )
    lesson.refresh_from_db()
    assert (lesson.date, lesson.number) == (dt.date(2026, 9, 9), 5)
    again = services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 7), end=dt.date(2026, 9, 9)
    )
    assert again.created == 0


def test_move_to_a_holiday_or_outside_the_year_is_refused(world, lesson):
    with pytest.raises(DomainError, match="inside the academic year"):
        services.record_lesson_change(
            acting_user=world.deputy, lesson=lesson, kind="moved", new_date=dt.date(2027, 7, 5)
        )
    with pytest.raises(DomainError, match="not a working day"):
        services.record_lesson_change(
            acting_user=world.deputy, lesson=lesson, kind="moved", new_date=dt.date(2026, 9, 13)
        )
    lesson.refresh_from_db()
    assert lesson.date == dt.date(2026, 9, 7)


def test_second_change_of_a_lesson_is_refused(world, lesson):
    services.record_lesson_change(acting_user=world.deputy, lesson=lesson, kind="cancelled", reason="Карантин")
    with pytest.raises(DomainError, match="already recorded"):
        services.record_lesson_change(acting_user=world.deputy, lesson=lesson, kind="cancelled")


def test_teacher_cannot_record_a_substitution(world, lesson):
    from classbook.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.record_lesson_change(
            acting_user=world.teacher, lesson=lesson, kind="substituted", substitute=world.class_teacher
        )
