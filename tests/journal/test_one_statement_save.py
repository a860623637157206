"""A changed mark in one statement on PostgreSQL (issue 10: ≥ 1,000 saves/s), every rule still checked.

``record_mark`` writes a changed mark with the cell's query, the versioned write and the audit row in one
statement, on what the process last read of the journal (its teacher and its scale). Each case here first
saves a mark (which reads the journal), then changes what the statement must check, then saves again:
the same refusal as the ordinary path, nothing written, no audit row. On SQLite the same cases run
through the ordinary path.
"""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.journal import services
from classbook.journal.models import JournalChange, Lesson, Mark
from classbook.journal.services import cells
from classbook.people.models import Enrolment
from classbook.schools.models import MarkingScale, ScaleKind
from classbook.timetable.models import ChangeKind, LessonChange
from tests.journal.conftest import GRADES_DAY, IN_TIME, LESSON_DAY


def _lesson(journal) -> Lesson:
    return Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)


def _save(world, journal, text, version, user=None, lesson=None, **kwargs):
    return services.record_mark(
        acting_user=user or world.teacher,
        lesson=lesson or _lesson(journal),
        student=world.student,
        text=text,
        expected_version=version,
        **kwargs,
    )


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


@time_machine.travel(IN_TIME)
def test_a_changed_mark_is_one_statement_with_its_audit_row(world, journal):
    first = _save(world, journal, "10", 0)
    lesson = _lesson(journal)
    with CaptureQueriesContext(connection) as captured:
        mark = _save(world, journal, "11", first.version, lesson=lesson, comment="усно", reason="typo")
    assert (mark.value.code, mark.version, mark.comment) == ("11", 2, "усно")
    stored = Mark.objects.select_related("value").get()
    assert (stored.value.code, stored.version, stored.comment, stored.updated_by_id) == (
        "11",
        2,
        "усно",
        world.teacher.pk,
    )
    change = JournalChange.objects.filter(kind="mark").order_by("-id").first()
    assert (change.object_id, change.old_value, change.new_value, change.reason) == (mark.pk, "10", "11", "typo")
    assert (change.actor_id, change.student_id, change.lesson_id, change.announced_at) == (
        world.teacher.pk,
        world.student.pk,
        journal.lesson.pk,
        None,
    )
    # PostgreSQL: one statement; SQLite: the cell's query, the write and the audit row.
    assert len(_statements(captured)) == (1 if connection.vendor == "postgresql" else 3), _statements(captured)
    # The same text again changes nothing and logs nothing.
    again = _save(world, journal, "11", mark.version)
    assert again.version == 2 and JournalChange.objects.filter(kind="mark").count() == 2


def _close_period(world, journal):
    with time_machine.travel(GRADES_DAY):
        services.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=world.student,
            period=journal.semester,
            kind="period",
            text="10",
            expected_version=0,
        )


def _leave_class(world, journal):
    Enrolment.objects.filter(student=world.student).update(end=LESSON_DAY - dt.timedelta(days=1))


def _cancel(world, journal):
    LessonChange.objects.create(
        school=world.school,
        lesson=journal.lesson,
        kind=ChangeKind.CANCELLED,
        date=journal.lesson.date,
        teacher=world.teacher,
        recorded_by=world.deputy,
    )


def _absent(world, journal):
    """The absence replaces the mark (cleared: version 2); the next mark is refused, not written over it."""
    services.record_attendance(
        acting_user=world.teacher,
        lesson=_lesson(journal),
        student=world.student,
        text="н",
        expected_version=0,
        replace=True,
    )


def _reassign(world, journal):
    journal.assignment.teacher = world.other_teacher
    journal.assignment.save()


def _five_point(world, journal):
    journal.assignment.scale = MarkingScale.objects.get(school=world.school, kind=ScaleKind.FIVE)
    journal.assignment.save()


@pytest.mark.parametrize(
    ("change", "version", "refusal"),
    [
        (_close_period, 1, "period_closed"),
        (_leave_class, 1, "not_in_class"),
        (_cancel, 1, "lesson_cancelled"),
        (_absent, 2, "cell_occupied"),
        (_reassign, 1, PermissionDeniedError),
        (_five_point, 1, "not_on_scale"),
        (None, 7, ConflictError),
    ],
)
def test_every_rule_holds_when_the_journal_was_read_before(world, journal, change, version, refusal):
    with time_machine.travel(IN_TIME):
        _save(world, journal, "10", 0)
    if change is not None:
        change(world, journal)
    audit = JournalChange.objects.filter(kind="mark").count()
    with time_machine.travel(IN_TIME), pytest.raises(DomainError) as err:
        _save(world, journal, "11", version)
    if isinstance(refusal, str):
        assert err.value.code == refusal
    else:
        assert isinstance(err.value, refusal)
    stored = Mark.objects.select_related("value").get()
    held = ("", 2) if change is _absent else ("10", 1)
    assert (stored.value.code if stored.value else "", stored.version) == held
    assert JournalChange.objects.filter(kind="mark").count() == audit


@time_machine.travel(IN_TIME)
def test_a_changed_scale_is_seen_and_the_mark_parsed_on_it(world, journal):
    first = _save(world, journal, "10", 0)
    _five_point(world, journal)
    mark = _save(world, journal, "5", first.version)
    assert mark.value.code == "5" and mark.value.scale_id == journal.assignment.scale_id
    assert Mark.objects.get().value.scale_id == journal.assignment.scale_id


@pytest.mark.postgres_only
def test_the_one_statement_stays_within_psycopgs_statement_cache():
    """psycopg converts a statement's placeholders once per text only up to 4 KiB and 50 parameters; above,
    on every save (a third of the save's Python)."""
    from psycopg import _queries

    assert psycopg is not None
    assert len(cells._one_statement_sql().encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    names = {part.split(")s")[0] for part in cells._one_statement_sql().split("%(")[1:]}
    assert len(names) <= _queries.MAX_CACHED_STATEMENT_PARAMS
