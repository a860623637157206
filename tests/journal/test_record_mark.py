"""Core journal writes: versioned, audited, refused for the wrong people (R2.1, R2.2, R2.7)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.journal import services
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import JournalChange, Mark

LESSON_DAY = dt.date(2026, 10, 5)


@pytest.fixture
def lesson(world):
    create_journal_defaults(world.school)
    assignment = world.teacher.teaching_assignments.get()
    with time_machine.travel(dt.datetime(2026, 10, 5, 9, 0, tzinfo=dt.UTC)):
        return services.create_lesson(acting_user=world.teacher, assignment=assignment, date=LESSON_DAY)


@time_machine.travel(dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC))
def test_teacher_records_changes_and_clears_a_mark_with_audit(world, lesson):
    mark = services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text="10", expected_version=0
    )
    mark = services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text="11", expected_version=mark.version
    )
    mark = services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text="", expected_version=mark.version
    )
    assert mark.value is None and mark.version == 3
    changes = list(JournalChange.objects.filter(kind="mark").order_by("id").values_list("old_value", "new_value"))
    assert changes == [("", "10"), ("10", "11"), ("11", "")]
    assert not JournalChange.objects.filter(kind="mark", is_late=True).exists()


@time_machine.travel(dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC))
def test_stale_writer_gets_conflict_with_current_value(world, lesson):
    services.record_mark(acting_user=world.teacher, lesson=lesson, student=world.student, text="9", expected_version=0)
    with pytest.raises(ConflictError) as err:
        services.record_mark(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="7", expected_version=0
        )
    assert err.value.current.value == "9"
    assert Mark.objects.get().value.code == "9"


@pytest.mark.parametrize("persona", ["other_teacher", "class_teacher", "deputy", "admin", "foreign_teacher"])
@time_machine.travel(dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC))
def test_only_the_lessons_teacher_may_write(world, lesson, persona):
    with pytest.raises(PermissionDeniedError):
        services.record_mark(
            acting_user=world.persona(persona), lesson=lesson, student=world.student, text="9", expected_version=0
        )
    assert not Mark.objects.exists()


@time_machine.travel(dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC))
def test_student_of_another_class_is_refused(world, lesson):
    with pytest.raises(DomainError):
        services.record_mark(
            acting_user=world.teacher, lesson=lesson, student=world.other_student, text="9", expected_version=0
        )


@time_machine.travel(dt.datetime(2026, 10, 5, 14, 30, tzinfo=dt.UTC))  # 17:30 in Kyiv, after 16:00
def test_entry_after_the_deadline_is_flagged_late(world, lesson):
    mark = services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text="8", expected_version=0
    )
    assert mark.is_late
    assert JournalChange.objects.get(kind="mark").is_late


@time_machine.travel(dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC))
def test_absence_is_recorded_and_register_taken(world, lesson):
    row = services.record_attendance(
        acting_user=world.teacher, lesson=lesson, student=world.student, text="н", expected_version=0
    )
    lesson.refresh_from_db()
    assert row.code.code == "н" and lesson.register_taken_at is not None
    with pytest.raises(DomainError):
        services.record_attendance(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="н/а", expected_version=row.version
        )
