"""The real database backend and its worker (``manage.py db_worker``), and what notifications cost a
journal save: inside the transaction nothing but the audit row, which is the outbox entry (issue 10); after
the commit one read (is a drain waiting?) and, when none is, one INSERT that enqueues the drain."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult, get_date_max

from classbook.journal import services as jservices
from classbook.journal.models import JournalChange, Lesson
from classbook.notifications import tasks
from classbook.notifications.models import Delivery, Kind, Notification, Status
from tests import factories as f
from tests.notifications.conftest import IN_TIME

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _fresh(journal) -> Lesson:
    return Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)


@pytest.mark.django_db(transaction=True)
@time_machine.travel(IN_TIME)
def test_database_backend_and_worker_deliver(world, journal, family, monkeypatch):
    monkeypatch.setattr(tasks, "DRAIN_TRUST_SECONDS", 60.0)  # a loaded machine takes its time between the saves
    with override_settings(TASKS=DATABASE_TASKS):
        lesson = _fresh(journal)
        with CaptureQueriesContext(connection) as save:
            jservices.record_attendance(
                acting_user=world.teacher, lesson=lesson, student=world.student, text="н", expected_version=0
            )
        statements = [q["sql"] for q in save.captured_queries]
        tasks_sql = [s for s in statements if "dbtaskresult" in s.lower()]
        commit = statements.index("COMMIT")
        inside = [q for q in statements[:commit] if not q.startswith(("BEGIN", "SAVEPOINT", "RELEASE"))]
        # record_attendance's own budget (tests/journal/test_save_queries.py) is unchanged: the outbox entry is
        # the audit row itself (``journal/outbox.py``); the cell's write and its audit row are one statement on
        # PostgreSQL, two on SQLite.
        assert len(inside) == (4 if connection.vendor == "postgresql" else 5), inside
        assert JournalChange.objects.filter(announced_at__isnull=True, kind="attendance").count() == 1
        # After COMMIT: is a drain waiting? No: enqueue one.
        assert statements[commit + 1 :] == tasks_sql, statements
        assert [s.split()[0] for s in tasks_sql] == ["SELECT", "INSERT"]
        assert DBTaskResult.objects.count() == 1
        # A second save while that drain waits enqueues nothing and does not even ask: this process saw the drain
        # waiting a moment ago and trusts it for DRAIN_TRUST_SECONDS (the drain's follow-up covers the race).
        classmate = f.make_student(world.class_a)
        with CaptureQueriesContext(connection) as second:
            jservices.record_attendance(
                acting_user=world.teacher, lesson=_fresh(journal), student=classmate, text="н", expected_version=0
            )
        after = [q["sql"] for q in second.captured_queries]
        assert after[after.index("COMMIT") + 1 :] == [], after
        assert DBTaskResult.objects.count() == 1
        assert not Notification.objects.exists()  # nothing happens until the worker runs

        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

        told = set(Notification.objects.filter(kind=Kind.ABSENCE).values_list("user__username", flat=True))
        assert {"student", "parent"} <= told
        assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}
        assert {"parent@example.org", "student@example.org"} <= {m.to[0] for m in mail.outbox}
        assert not JournalChange.objects.filter(announced_at__isnull=True).exists()
        # One drain for both saves, then one send task for the deliveries; both finished. The drain's follow-up
        # waits, deferred (nobody trusts it; it drains what came after the drain while the drain was trusted).
        assert list(DBTaskResult.objects.order_by("enqueued_at").values_list("task_path", "status")) == [
            ("classbook.notifications.tasks.drain_journal", "SUCCESSFUL"),
            ("classbook.notifications.tasks.drain_journal", "READY"),
            ("classbook.notifications.tasks.send_deliveries", "SUCCESSFUL"),
        ]
        follow_up = DBTaskResult.objects.get(status="READY")
        assert follow_up.args_kwargs["args"] == [True]
        assert follow_up.run_after != get_date_max()  # deferred: not "a drain waiting" to anybody


@pytest.mark.django_db(transaction=True)
@time_machine.travel(IN_TIME)
def test_a_failed_send_is_deferred_with_the_database_backend(world, journal, family):
    with override_settings(
        TASKS=DATABASE_TASKS,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=9,  # discard port: nothing listens, the connection is refused
        EMAIL_TIMEOUT=2,
    ):
        jservices.record_attendance(
            acting_user=world.teacher, lesson=_fresh(journal), student=world.student, text="н", expected_version=0
        )
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert set(Delivery.objects.values_list("status", "attempts")) == {(Status.PENDING, 1)}
        # (the drain's deferred follow-up waits beside it)
        retry = DBTaskResult.objects.filter(status="READY").exclude(task_path__endswith=".drain_journal").get()
        assert retry.task_path == "classbook.notifications.tasks.send_deliveries"
        assert retry.run_after == min(Delivery.objects.values_list("next_attempt_at", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_change_after_the_trusted_drain_ran_is_drained_by_its_follow_up(world, journal, family, monkeypatch):
    monkeypatch.setattr(tasks, "DRAIN_TRUST_SECONDS", 60.0)  # a loaded machine takes its time between the saves
    # The race the trust (``request_journal_drain``) opens: this process saw a drain waiting, the drain ran and
    # finished, and a save inside the trusted half second asked nothing. The drain's follow-up takes that change.
    with time_machine.travel(IN_TIME) as traveller, override_settings(TASKS=DATABASE_TASKS):
        jservices.record_attendance(
            acting_user=world.teacher, lesson=_fresh(journal), student=world.student, text="н", expected_version=0
        )
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert not JournalChange.objects.filter(announced_at__isnull=True).exists()
        classmate = f.make_student(world.class_a)
        with CaptureQueriesContext(connection) as save:
            jservices.record_attendance(
                acting_user=world.teacher, lesson=_fresh(journal), student=classmate, text="н", expected_version=0
            )
        statements = [q["sql"] for q in save.captured_queries]
        assert statements[statements.index("COMMIT") + 1 :] == []  # trusted: no drain waits, none enqueued
        assert JournalChange.objects.filter(announced_at__isnull=True).count() == 1
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert JournalChange.objects.filter(announced_at__isnull=True).count() == 1  # the follow-up is not due yet
        traveller.shift(2 * tasks.DRAIN_TRUST_SECONDS)
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert not JournalChange.objects.filter(announced_at__isnull=True).exists()
        told = set(Notification.objects.filter(kind=Kind.ABSENCE).values_list("user__username", flat=True))
        assert {"student", "parent"} <= told
        # The follow-up schedules no follow-up of its own: nobody trusted it.
        assert not DBTaskResult.objects.filter(status="READY").exists()
