"""The task worker killed mid-task: the task is run again, nothing is lost, and every e-mail arrives once
per Message-ID (issue #9, ``classbook/notifications/worker.py``).

Real processes: ``manage.py worker`` runs as a subprocess on the test's own database (PostgreSQL: the test
database by name; SQLite: the in-memory test database copied to a file and back), sending to an SMTP server
on localhost that takes a while per message; the test SIGKILLs the worker while it is sending, starts a new
one, and counts what arrived.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from classbook.notifications import tasks, worker
from classbook.notifications.models import Delivery, Kind, Status
from tests import factories as f

pytestmark = [pytest.mark.outage, pytest.mark.django_db(transaction=True)]

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
RECIPIENTS = 8


class SlowInbox:
    """An SMTP server that takes 0.25 s per message, so a worker can be killed in the middle of sending."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.25)
        self.message_ids.append(email.message_from_bytes(envelope.content)["Message-ID"])
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SharedDatabase:
    """The test database as a URL another process can open."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "shared.sqlite3"

    def url(self) -> str:
        s = connection.settings_dict
        if connection.vendor == "postgresql":
            return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        connection.ensure_connection()
        with sqlite3.connect(self.file) as target:
            connection.connection.backup(target)
        return f"sqlite:///{self.file}"

    def read_back(self) -> None:
        if connection.vendor == "sqlite":
            with sqlite3.connect(self.file) as source:
                source.backup(connection.connection)


def start_worker(db_url: str, smtp_port: int, tmp_path: Path, name: str, *extra: str) -> subprocess.Popen[bytes]:
    """The worker as its own process; its output goes to ``tmp_path/<name>.log``."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "TASKS_BACKEND": "database",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_TIMEOUT": "5",
        "DEBUG": "0",
        "SECRET_KEY": "outages-test-key-not-secret",
        "CLASSBOOK_VAR_DIR": str(tmp_path / "var"),
        "DB_CONN_MAX_AGE": "0",
    }
    env.pop("REDIS_URL", None)
    command = [sys.executable, "manage.py", "worker", "--interval", "0.1", "--no-startup-delay", "--no-reload", *extra]
    with open(tmp_path / f"{name}.log", "wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def test_a_worker_killed_while_sending_loses_nothing_and_sends_each_message_once(world, tmp_path):
    users = [f.UserFactory(email=f"person{i}@example.org") for i in range(RECIPIENTS)]
    with override_settings(TASKS=DATABASE_TASKS):
        tasks.notify_users.enqueue(
            world.school.pk, Kind.MESSAGE, [u.pk for u in users], "outage:1", {"title": "Hello", "sender": "A"}
        )
    inbox, port = SlowInbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    shared = SharedDatabase(tmp_path)
    url = shared.url()
    try:
        first = start_worker(url, port, tmp_path, "first")
        deadline = time.monotonic() + 90  # a worker starts in seconds; many on a busy machine
        while len(inbox.message_ids) < 3 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert len(inbox.message_ids) >= 3, (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGKILL)  # in the middle of the send task: no chance to tidy up
        first.wait(5)
        arrived_before = len(inbox.message_ids)
        assert arrived_before < RECIPIENTS

        second = start_worker(url, port, tmp_path, "second", "--batch")
        second.wait(120)
        output = (tmp_path / "second.log").read_text()
        assert second.returncode == 0, output
        assert "recovered: 1 abandoned" in output
    finally:
        smtp.stop()
    shared.read_back()

    deliveries = list(Delivery.objects.filter(channel="email").select_related("notification__user"))
    assert len(deliveries) == RECIPIENTS
    assert {d.status for d in deliveries} == {Status.SENT}
    expected = {f"<cb-{d.pk}-email@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}>" for d in deliveries}
    # Nothing lost: every delivery's message arrived. Nothing twice, except at most the one message the killed
    # worker had handed to the server without recording it — and that one under the same Message-ID.
    assert set(inbox.message_ids) == expected
    assert len(inbox.message_ids) - len(expected) <= 1
    statuses = dict(DBTaskResult.objects.values_list("task_path", "status"))
    assert statuses == {
        "classbook.notifications.tasks.notify_users": "SUCCESSFUL",
        "classbook.notifications.tasks.send_deliveries": "SUCCESSFUL",
    }
    send = DBTaskResult.objects.get(task_path="classbook.notifications.tasks.send_deliveries")
    assert len(send.worker_ids) == 2  # run by the killed worker, then again by the new one


def test_a_task_failed_on_a_lost_database_connection_is_run_again_and_a_poison_task_stops(world):
    with override_settings(TASKS=DATABASE_TASKS):
        lost = tasks.retry_due.enqueue()
        broken = tasks.retry_due.enqueue()
        poison = tasks.retry_due.enqueue()
    DBTaskResult.objects.filter(pk=lost.id).update(
        status="FAILED", exception_class_path="django.db.utils.OperationalError", worker_ids=["w1"]
    )
    DBTaskResult.objects.filter(pk=broken.id).update(
        status="FAILED", exception_class_path="builtins.ValueError", worker_ids=["w1"]
    )
    DBTaskResult.objects.filter(pk=poison.id).update(
        status="RUNNING", worker_ids=[f"{socket.gethostname()[:40]}:999999:x"] * worker.MAX_RUNS
    )
    assert worker.retry_failed(broken.id) is False  # what the worker does when a task ends
    assert worker.reclaim() == {"reclaimed": 0, "retried": 1, "given_up": 1}
    lost_again = DBTaskResult.objects.get(pk=lost.id)
    assert lost_again.status == "READY" and lost_again.run_after > timezone.now()  # after a pause
    assert DBTaskResult.objects.get(pk=broken.id).status == "FAILED"  # a real error is not hidden by retries
    assert DBTaskResult.objects.get(pk=poison.id).status == "FAILED"


def test_a_live_workers_task_is_left_alone_and_a_long_silent_one_elsewhere_is_taken_back(world):
    here = socket.gethostname()[:40]
    with override_settings(TASKS=DATABASE_TASKS):
        alive, elsewhere, recent = (tasks.retry_due.enqueue() for _ in range(3))
    now = timezone.now()
    DBTaskResult.objects.filter(pk=alive.id).update(
        status="RUNNING", started_at=now - dt.timedelta(minutes=5), worker_ids=[f"{here}:{os.getppid()}:x"]
    )
    DBTaskResult.objects.filter(pk=elsewhere.id).update(
        status="RUNNING", started_at=now - worker.STALE_TASK - dt.timedelta(minutes=1), worker_ids=["other:1:x"]
    )
    DBTaskResult.objects.filter(pk=recent.id).update(
        status="RUNNING", started_at=now - dt.timedelta(minutes=5), worker_ids=["other:1:x"]
    )
    assert worker.reclaim() == {"reclaimed": 1, "retried": 0, "given_up": 0}
    states = {str(pk): status for pk, status in DBTaskResult.objects.values_list("pk", "status")}
    assert states == {alive.id: "RUNNING", elsewhere.id: "READY", recent.id: "RUNNING"}
