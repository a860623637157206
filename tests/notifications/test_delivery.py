"""Delivery guarantees: a real SMTP server on localhost goes down and comes back; retries; nothing twice.
Preferences and the daily digest."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from classbook.journal import services as jservices
from classbook.journal.models import Lesson
from classbook.notifications import services
from classbook.notifications.models import Delivery, DigestRun, Kind, Notification, Status
from tests.notifications.conftest import IN_TIME


class Inbox:
    """aiosmtpd handler: keeps every message it accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lesson_of(journal) -> Lesson:
    return Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)


def absent(world, journal, student, text="н", version=0):
    return jservices.record_attendance(
        acting_user=world.teacher, lesson=lesson_of(journal), student=student, text=text, expected_version=version
    )


def mark(world, journal, student, text, version=0):
    return jservices.record_mark(
        acting_user=world.teacher, lesson=lesson_of(journal), student=student, text=text, expected_version=version
    )


@pytest.fixture
def smtp_port():
    port = free_port()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=port,
        EMAIL_TIMEOUT=3,
    ):
        yield port


def test_mail_server_down_then_back_every_message_once(world, journal, family, committed, smtp_port):
    """Acceptance: the server is down, messages stay queued and are retried; when it is back they are
    delivered; none is delivered twice."""
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    with time_machine.travel(IN_TIME, tick=False) as clock:
        with committed():
            absent(world, journal, world.student)  # student and parent, e-mail at once (default)
        rows = list(Delivery.objects.filter(channel="email").select_related("notification__user"))
        assert {d.notification.user.username for d in rows} == {"student", "parent"}
        assert all(d.status == Status.PENDING and d.attempts == 1 for d in rows)
        assert all("Connection" in d.last_error or "refused" in d.last_error.lower() for d in rows)
        assert all(d.next_attempt_at == IN_TIME + dt.timedelta(minutes=1) for d in rows)

        call_command("send_notifications")  # nothing is due yet
        assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}

        clock.shift(dt.timedelta(minutes=1))
        call_command("send_notifications")  # due, server still down
        assert set(Delivery.objects.values_list("attempts", "status")) == {(2, Status.PENDING)}
        assert inbox.messages == []

        server.start()
        try:
            clock.shift(dt.timedelta(minutes=1))
            call_command("send_notifications")  # not due yet (2 minutes after the second attempt)
            assert inbox.messages == []
            clock.shift(dt.timedelta(minutes=1))
            call_command("send_notifications")
            assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}
            assert sorted(to[0] for to, _ in inbox.messages) == ["parent@example.org", "student@example.org"]

            # Running everything again sends nothing more.
            clock.shift(dt.timedelta(hours=2))
            call_command("send_notifications")
            assert services.deliver(Delivery.objects.values_list("pk", flat=True)) == {
                "sent": 0,
                "retry": 0,
                "skipped": 2,
            }
            with committed():
                absent(world, journal, world.student, "н", 1)  # the same absence again: no change, no event
        finally:
            server.stop()
    assert len(inbox.messages) == 2
    body = inbox.messages[0][1].decode()
    assert "Message-ID: <cb-" in body
    assert "was marked “н” at Математика on 05.10.2026" in body


def test_a_delivery_gives_up_after_the_last_attempt(world, journal, family, committed, smtp_port):
    with time_machine.travel(IN_TIME, tick=False) as clock:
        with committed():
            absent(world, journal, world.student)
        for _ in range(services.MAX_ATTEMPTS):
            clock.shift(dt.timedelta(hours=1))
            call_command("send_notifications")
    assert set(Delivery.objects.values_list("status", "attempts")) == {(Status.FAILED, services.MAX_ATTEMPTS)}
    # The in-app notification is still there.
    assert Notification.objects.filter(user=world.parent, kind=Kind.ABSENCE, read_at__isnull=True).exists()


@time_machine.travel(IN_TIME)
def test_preferences_are_honoured(world, journal, family, committed):
    services.set_preferences(
        acting_user=world.parent,
        items=[{"kind": Kind.ABSENCE, "in_app": False, "email": False, "telegram": False, "digest": False}],
    )
    with committed():
        absent(world, journal, world.student)
    # The student keeps the defaults: in the app, and an e-mail at once.
    assert [m.to for m in mail.outbox] == [["student@example.org"]]
    assert mail.outbox[0].subject.startswith("Absence")
    # The parent asked for nothing: nothing is made for them.
    assert not Notification.objects.filter(user=world.parent).exists()
    assert Notification.objects.filter(user=world.student.user, read_at__isnull=True).count() == 1


@time_machine.travel(IN_TIME)
def test_out_of_the_app_only_is_born_read(world, journal, family, committed):
    services.set_preferences(
        acting_user=world.parent,
        items=[{"kind": Kind.ABSENCE, "in_app": False, "email": True, "telegram": False, "digest": False}],
    )
    with committed():
        absent(world, journal, world.student)
    row = Notification.objects.get(user=world.parent)
    assert row.read_at is not None  # does not ring the bell
    assert list(row.deliveries.values_list("channel", "status")) == [("email", Status.SENT)]


def test_digest_once_a_day(world, journal, family, committed):
    from tests import factories as f

    other_lesson_day = dt.date(2026, 10, 6)
    with time_machine.travel(IN_TIME):
        with committed():
            mark(world, journal, world.student, "10")  # marks go to the digest by default
        second = jservices.create_lesson(
            acting_user=world.teacher, assignment=journal.assignment, date=other_lesson_day
        )
    with time_machine.travel(IN_TIME + dt.timedelta(days=1)):
        with committed():
            jservices.record_mark(
                acting_user=world.teacher,
                lesson=Lesson.objects.select_related("assignment", "school").get(pk=second.pk),
                student=world.student,
                text="11",
                expected_version=0,
            )
        assert mail.outbox == []  # nothing at once
        day = dt.date(2026, 10, 6)
        call_command("send_notification_digests", "--day", day.isoformat())
        assert sorted(m.to[0] for m in mail.outbox) == ["parent@example.org", "student@example.org"]
        digest = next(m for m in mail.outbox if m.to == ["parent@example.org"])
        assert "2 notifications" in digest.subject
        assert "10" in digest.body and "11" in digest.body
        # Again the same day: nothing.
        call_command("send_notification_digests", "--day", day.isoformat())
        assert len(mail.outbox) == 2
        # A mark after the day's digest waits for the next day's.
        third = jservices.create_lesson(acting_user=world.teacher, assignment=journal.assignment, date=day)
        with committed():
            jservices.record_mark(
                acting_user=world.teacher,
                lesson=Lesson.objects.select_related("assignment", "school").get(pk=third.pk),
                student=world.student,
                text="9",
                expected_version=0,
            )
        call_command("send_notification_digests", "--day", day.isoformat())
        assert len(mail.outbox) == 2
    call_command("send_notification_digests", "--day", "2026-10-07")
    assert len(mail.outbox) == 4
    assert DigestRun.objects.filter(status=Status.SENT).count() == 4
    assert not Delivery.objects.exclude(status=Status.SENT).exists()
    assert f  # factories imported for symmetry with other tests


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_once(world, journal, family, smtp_port):
    """Two workers get the same deliveries at the same moment (row locks + compare-and-set)."""
    import threading

    from django.db import connections

    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        ids = []
        for i in range(10):
            ids += services.notify(
                school=world.school,
                kind=Kind.ANNOUNCEMENT,
                user_ids=[world.parent.pk, world.student.user.pk],
                params={"title": f"T{i}", "text": "x"},
                event_key=f"race:{i}",
            )
        Delivery.objects.filter(pk__in=ids).update(status=Status.PENDING, attempts=0)  # as if not yet sent
        inbox.messages.clear()
        barrier = threading.Barrier(2)
        results = []

        def worker():
            try:
                barrier.wait()
                results.append(services.deliver(ids))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert len(ids) == 20
    assert sum(r["sent"] for r in results) == 20
    assert len(inbox.messages) == 20
    assert set(Delivery.objects.values_list("status", flat=True)) == {Status.SENT}


def test_a_failed_digest_is_retried_the_same_day(world, journal, family, committed, smtp_port):
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    with time_machine.travel(IN_TIME):
        with committed():
            mark(world, journal, world.student, "10")
        assert services.send_digests(dt.date(2026, 10, 5)) == {"sent": 0, "failed": 2, "skipped": 0}
        assert set(Delivery.objects.values_list("status", flat=True)) == {Status.PENDING}
        server.start()
        try:
            assert services.send_digests(dt.date(2026, 10, 5)) == {"sent": 2, "failed": 0, "skipped": 0}
            assert services.send_digests(dt.date(2026, 10, 5)) == {"sent": 0, "failed": 0, "skipped": 0}
        finally:
            server.stop()
    assert len(inbox.messages) == 2
