"""The journal's transactional outbox (issue 10, ``journal/outbox.py``): a change's notifications are
stored with the change (its audit row, unannounced), in the same transaction, and the worker's drain takes
them in batches. A commit whose after-commit signal never came (the connection lost right after COMMIT)
is still notified; a rolled-back change notifies nobody; two drains never take the same change."""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection, transaction

from classbook.core.errors import DomainError
from classbook.journal import outbox
from classbook.journal import services as jservices
from classbook.journal.models import JournalChange
from classbook.notifications import tasks
from classbook.notifications.models import Kind, Notification
from tests.notifications.conftest import IN_TIME


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def _forget_commit_hooks() -> None:
    """As if the connection broke right after COMMIT: the after-commit signal (and its enqueue) never runs."""
    connection.run_on_commit = []


@time_machine.travel(IN_TIME)
def test_a_change_whose_signal_was_lost_is_notified_by_the_next_drain(world, journal, family):
    _forget_commit_hooks()
    jservices.record_mark(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="10", expected_version=0
    )
    change = JournalChange.objects.get(kind="mark")
    assert change.announced_at is None  # stored with the mark: the outbox entry
    _forget_commit_hooks()
    assert not Notification.objects.exists()

    assert tasks.drain_journal.call() >= 1
    assert told(Kind.MARK) == {"student", "parent"}
    change.refresh_from_db()
    assert change.announced_at is not None
    assert tasks.drain_journal.call() == 0  # nothing twice
    assert Notification.objects.filter(kind=Kind.MARK).count() == 2


@time_machine.travel(IN_TIME)
def test_a_rolled_back_change_leaves_nothing_to_notify(world, journal, family):
    before = outbox.pending()
    with pytest.raises(DomainError), transaction.atomic():
        jservices.record_mark(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="10", expected_version=0
        )
        raise DomainError("rolled back")
    assert outbox.pending() == before
    _forget_commit_hooks()
    tasks.drain_journal.call()
    assert not Notification.objects.filter(kind=Kind.MARK).exists()


@time_machine.travel(IN_TIME)
def test_the_outbox_hands_out_what_the_signal_carries_once(world, journal, family):
    _forget_commit_hooks()
    jservices.record_mark(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="10", expected_version=0
    )
    _forget_commit_hooks()
    mark_change = JournalChange.objects.get(kind="mark")
    with transaction.atomic():
        first = outbox.claim(500)
        second = outbox.claim(500)  # the rows are taken: a second drain (or another worker) gets none of them
    item = next(i for i in first if i["kind"] == "mark")
    assert item == {
        "kind": "mark",
        "school_id": world.school.pk,
        "assignment_id": journal.lesson.assignment_id,
        "lesson_id": journal.lesson.pk,
        "period_id": None,
        "student_id": world.student.pk,
        "object_id": mark_change.object_id,
        "old": "",
        "new": "10",
    }
    assert second == []
