"""No lost updates (R2.7 legal record): 20 writers on one cell at once, on PostgreSQL row locks.

Each thread has its own database connection; a barrier releases them together. Exactly one writer
wins, every other gets ``CellConflict`` with the current value, and the audit trail holds exactly
the accepted changes.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from classbook.journal import services
from classbook.journal.models import JournalChange, Lesson, Mark
from classbook.people.models import Student, User

WRITERS = 20

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def race(
    lesson_id: int, student_id: int, teacher_id: int, expected_version: int, values: list[str]
) -> tuple[list[str], list[str]]:
    """Let WRITERS threads write ``values`` (cyclically) into one cell; returns (won values, conflict values seen)."""
    barrier = threading.Barrier(WRITERS)
    won: list[str] = []
    conflicts: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
            # Own instances per thread: model instances cache relations and are not shared across threads.
            lesson = Lesson.objects.select_related("assignment", "school").get(pk=lesson_id)
            student = Student.objects.get(pk=student_id)
            teacher = User.objects.get(pk=teacher_id)
            barrier.wait(timeout=30)
            try:
                services.record_mark(
                    acting_user=teacher,
                    lesson=lesson,
                    student=student,
                    text=values[n % len(values)],
                    expected_version=expected_version,
                )
                with lock:
                    won.append(values[n % len(values)])
            except services.CellConflict as exc:
                with lock:
                    conflicts.append(exc.current.value)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, WRITERS + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    return won, conflicts


def test_twenty_writers_on_an_empty_cell_one_wins_nineteen_conflict(world, journal):
    marks = [str(n) for n in range(1, 13)]
    won, conflicts = race(journal.lesson.pk, world.student.pk, world.teacher.pk, 0, marks)
    assert len(won) == 1 and len(conflicts) == WRITERS - 1
    # Every loser was shown the winner's value.
    assert set(conflicts) == set(won)
    mark = Mark.objects.get()
    assert (mark.value.code, mark.version) == (won[0], 1)
    changes = JournalChange.objects.filter(kind="mark", lesson=journal.lesson, student=world.student)
    assert list(changes.values_list("old_value", "new_value")) == [("", won[0])]

    # Second round: everybody saw version 1 and changes it (to a different value, so no writer is a no-op).
    others = [m for m in marks if m != won[0]]
    won2, conflicts2 = race(journal.lesson.pk, world.student.pk, world.teacher.pk, 1, others)
    assert len(won2) == 1 and len(conflicts2) == WRITERS - 1
    mark.refresh_from_db()
    assert mark.version == 2 and mark.value.code == won2[0]
    assert set(conflicts2) == set(won2)
    history = list(changes.order_by("id").values_list("old_value", "new_value"))
    assert history == [("", won[0]), (won[0], won2[0])]
