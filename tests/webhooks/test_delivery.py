"""Deliveries against a real receiver on 127.0.0.1: the events of the journal, the timetable and the
roster reach the school's own webhooks only, signed (checked on the receiving side), retried with
backoff on a 500 and given up after ``WEBHOOKS_MAX_ATTEMPTS``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from classbook.journal import services as jservices
from classbook.journal.models import Lesson
from classbook.roster import services as roster
from classbook.timetable import services as timetable
from classbook.timetable.models import ChangeKind
from classbook.webhooks import services, signing, tasks
from classbook.webhooks.models import Delivery, DeliveryStatus, EventType
from tests.journal.conftest import GRADES_DAY, IN_TIME


def _mark(world, journal, text: str, version: int = 0):
    lesson = Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)
    return jservices.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text=text, expected_version=version
    )


@time_machine.travel(IN_TIME)
def test_a_mark_reaches_the_schools_webhook_signed_and_the_other_schools_gets_nothing(
    world, journal, receiver, subscribe, committed
):
    ours = subscribe()
    theirs = subscribe(school=world.other_school, admin=world.foreign_admin)
    with committed():
        mark = _mark(world, journal, "10")
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    assert got.verified
    assert got.path == "/hooks/classbook"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Classbook-Event"] == "mark.changed"
    body = got.json
    assert body["event"] == "mark.changed"
    assert body["school"] == {"id": world.school.pk, "slug": world.school.slug}
    assert body["data"] == {
        "mark_id": mark.pk,
        "assignment_id": journal.assignment.pk,
        "lesson_id": journal.lesson.pk,
        "student_id": world.student.pk,
        "old": "",
        "new": "10",
    }
    assert got.headers["X-Classbook-Delivery"] == body["id"]
    row = Delivery.objects.get()
    assert (row.subscription_id, row.status, row.attempts, row.response_code) == (ours.pk, "sent", 1, 200)
    assert row.delivered_at is not None
    assert not Delivery.objects.filter(subscription=theirs).exists()


@time_machine.travel(IN_TIME)
def test_the_signature_does_not_verify_with_another_secret_or_a_changed_body(
    world, journal, receiver, subscribe, committed
):
    subscribe(events=["mark.changed"])
    with committed():
        _mark(world, journal, "9")
    got = receiver.requests[0]
    header = got.headers[signing.HEADER]
    assert signing.verify(receiver.secrets[0], header, got.body)
    assert not signing.verify("whsec_wrong", header, got.body)
    assert not signing.verify(receiver.secrets[0], header, got.body.replace(b"9", b"1"))
    # A replay long after the delivery is refused by the timestamp check.
    assert not signing.verify(receiver.secrets[0], header, got.body, now=IN_TIME.timestamp() + 3600)


@time_machine.travel(IN_TIME)
def test_only_the_chosen_events_are_sent(world, journal, receiver, subscribe, committed):
    subscribe(events=["attendance.changed"])
    with committed():
        _mark(world, journal, "8")
    assert receiver.requests == []
    with committed():
        lesson = Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk)
        jservices.record_attendance(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="н", expected_version=0, replace=True
        )
    events = [r.json["event"] for r in receiver.requests]
    assert events == ["attendance.changed"]
    assert receiver.requests[0].json["data"]["student_id"] == world.student.pk


def test_a_period_grade_is_an_event(world, journal, receiver, subscribe, committed):
    subscribe(events=["period_grade.changed"])
    with time_machine.travel(GRADES_DAY), committed():
        grade = jservices.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=world.student,
            period=journal.semester,
            kind="period",
            text="9",
            expected_version=0,
        )
    data = receiver.requests[0].json["data"]
    assert data["period_grade_id"] == grade.pk
    assert (data["period_id"], data["new"], data["correction"]) == (journal.semester.pk, "9", False)


@time_machine.travel(IN_TIME)
def test_a_lesson_change_is_an_event(world, journal, receiver, subscribe, committed):
    subscribe(events=["lesson.changed"])
    with committed():
        change = timetable.record_lesson_change(
            acting_user=world.deputy,
            lesson=journal.lesson,
            kind=ChangeKind.SUBSTITUTED,
            substitute=world.other_teacher,
            reason="illness",
        )
    body = receiver.requests[0].json
    assert body["event"] == "lesson.changed"
    assert body["data"] == {"change": "substituted", "lesson_id": journal.lesson.pk, "change_id": change.pk}


def test_enrolment_changes_are_events(world, receiver, subscribe, committed):
    subscribe(events=["enrolment.changed"])
    today = timezone.localdate()
    with committed():
        student = roster.add_student(
            acting_user=world.secretary,
            school_class=world.class_a,
            data={"last_name": "Нова", "first_name": "Олена"},
            start=today - dt.timedelta(days=10),
        )
    with committed():
        roster.move_student(
            acting_user=world.secretary, student=student, to_class=world.class_b, on=today - dt.timedelta(days=5)
        )
    with committed():
        roster.withdraw_student(acting_user=world.secretary, student=student, on=today)
    changes = [r.json["data"] for r in receiver.requests]
    assert [(c["change"], c["class_id"], c["previous_class_id"]) for c in changes] == [
        ("added", world.class_a.pk, None),
        ("moved", world.class_b.pk, world.class_a.pk),
        ("withdrawn", world.class_b.pk, None),
    ]
    assert {c["student_id"] for c in changes} == {student.pk}
    assert changes[1]["on"] == (today - dt.timedelta(days=5)).isoformat()
    assert all(r.json["school"]["id"] == world.school.pk and r.verified for r in receiver.requests)


def test_a_school_without_webhooks_enqueues_nothing(world, journal, committed):
    with time_machine.travel(IN_TIME), committed():
        _mark(world, journal, "7")
    assert not Delivery.objects.exists()


def test_a_failing_receiver_is_retried_with_backoff_and_given_up_after_n(
    world, journal, receiver, subscribe, committed, settings
):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.default = 500
    subscribe(events=["mark.changed"])
    start = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False), committed():
        _mark(world, journal, "6")
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.response_code) == ("pending", 1, 500)
    assert row.next_attempt_at == start + dt.timedelta(minutes=1)
    assert row.last_error == "HTTP 500"
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        assert tasks.retry_due.call()["retry"] == 0  # not due yet
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        assert tasks.retry_due.call()["retry"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.next_attempt_at == start + dt.timedelta(minutes=1 + 2)
    with time_machine.travel(start + dt.timedelta(minutes=3), tick=False):
        tasks.retry_due.call()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.response_code) == ("failed", 3, 500)
    with time_machine.travel(start + dt.timedelta(hours=5), tick=False):
        assert tasks.retry_due.call() == {"sent": 0, "retry": 0, "skipped": 0}
    assert len(receiver.requests) == 3
    assert [r.headers["X-Classbook-Attempt"] for r in receiver.requests] == ["1", "2", "3"]
    assert len({r.headers["X-Classbook-Delivery"] for r in receiver.requests}) == 1  # one event, three tries
    assert all(r.verified for r in receiver.requests)


def test_a_retry_that_succeeds_is_delivered(world, journal, receiver, subscribe, committed):
    receiver.answers = [500, 503]
    subscribe(events=["mark.changed"])
    start = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False), committed():
        _mark(world, journal, "5")
    for minutes in (1, 3):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            tasks.retry_due.call()
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.response_code, row.last_error) == ("sent", 3, 200, "")


def test_backoff_doubles_up_to_an_hour():
    assert [services.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6, 7, 8)] == [1, 2, 4, 8, 16, 32, 60, 60]


@time_machine.travel(IN_TIME)
def test_a_redirect_is_not_followed(world, journal, receiver, subscribe, committed):
    receiver.answers, receiver.location = [302], "http://169.254.169.254/latest/meta-data/"
    subscribe(events=["mark.changed"])
    with committed():
        _mark(world, journal, "4")
    assert len(receiver.requests) == 1
    row = Delivery.objects.get()
    assert (row.status, row.response_code, row.last_error) == ("pending", 302, "HTTP 302")


@time_machine.travel(IN_TIME)
def test_a_huge_answer_is_read_only_up_to_the_cap(world, journal, receiver, subscribe, committed, settings):
    settings.WEBHOOKS_MAX_RESPONSE_BYTES = 1024
    receiver.body_size = 5_000_000
    subscribe(events=["mark.changed"])
    with committed():
        _mark(world, journal, "3")
    assert Delivery.objects.get().status == "sent"


@time_machine.travel(IN_TIME)
def test_a_slow_receiver_times_out_and_is_retried(world, journal, receiver, subscribe, committed, settings):
    settings.WEBHOOKS_TIMEOUT = 0.3
    receiver.delay = 1.0
    subscribe(events=["mark.changed"])
    with committed():
        _mark(world, journal, "2")
    row = Delivery.objects.get()
    assert (row.status, row.response_code) == ("pending", None)
    assert "timed out" in row.last_error.lower() or "timeout" in row.last_error.lower()


@time_machine.travel(IN_TIME)
def test_a_switched_off_webhook_gets_nothing_and_its_waiting_deliveries_fail(
    world, journal, receiver, subscribe, committed
):
    sub = subscribe(events=["mark.changed"])
    receiver.default = 500
    with committed():
        _mark(world, journal, "10")
    services.update_subscription(acting_user=world.admin, subscription=sub, is_active=False)
    with time_machine.travel(IN_TIME + dt.timedelta(minutes=5)):
        tasks.retry_due.call()
    assert Delivery.objects.get().status == DeliveryStatus.FAILED
    assert len(receiver.requests) == 1


@time_machine.travel(IN_TIME)
def test_during_a_rotation_both_secrets_sign_and_after_it_only_the_new(world, journal, receiver, subscribe, committed):
    sub = subscribe(events=["mark.changed"])
    old = receiver.secrets[0]
    new = services.rotate_secret(acting_user=world.admin, subscription=sub)
    with committed():
        services.send_ping(acting_user=world.admin, subscription=sub)
    got = receiver.requests[-1]
    assert got.json["event"] == EventType.PING
    for secret in (old, new):
        assert signing.verify(secret, got.headers[signing.HEADER], got.body)
    later = IN_TIME + services.ROTATION_GRACE + dt.timedelta(minutes=1)
    with time_machine.travel(later), committed():
        services.send_ping(acting_user=world.admin, subscription=sub)
    got = receiver.requests[-1]
    header = got.headers[signing.HEADER]
    assert signing.verify(new, header, got.body, now=later.timestamp())
    assert not signing.verify(old, header, got.body, now=later.timestamp())


@time_machine.travel(IN_TIME)
def test_rotating_at_once_stops_the_old_secret(world, receiver, subscribe, committed):
    sub = subscribe(events=["mark.changed"])
    old = receiver.secrets[0]
    new = services.rotate_secret(acting_user=world.admin, subscription=sub, keep_previous=False)
    with committed():
        services.send_ping(acting_user=world.admin, subscription=sub)
    got = receiver.requests[-1]
    assert signing.verify(new, got.headers[signing.HEADER], got.body)
    assert not signing.verify(old, got.headers[signing.HEADER], got.body)


@time_machine.travel(IN_TIME)
def test_a_failed_delivery_can_be_sent_again(world, journal, receiver, subscribe, committed, settings):
    settings.WEBHOOKS_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    subscribe(events=["mark.changed"])
    with committed():
        _mark(world, journal, "12")
    row = Delivery.objects.get()
    assert row.status == "failed"
    with committed():
        services.redeliver(acting_user=world.admin, delivery=row)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 1)
    assert receiver.requests[0].headers["X-Classbook-Delivery"] == receiver.requests[1].headers["X-Classbook-Delivery"]


def test_a_bulk_of_events_is_two_queries_to_record(world, journal, receiver, subscribe, django_assert_num_queries):
    subscribe(events=["mark.changed"])
    subscribe(events=["mark.changed", "attendance.changed"])
    items = [
        {
            "kind": "mark",
            "school_id": world.school.pk,
            "assignment_id": 1,
            "lesson_id": 1,
            "student_id": n,
            "object_id": n,
        }
        for n in range(30)
    ]
    with django_assert_num_queries(2):
        ids = services.record_events("journal", items)
    assert len(ids) == 60


def test_events_of_another_school_never_become_this_schools_deliveries(world, subscribe):
    sub = subscribe()
    other = [{"kind": "mark", "school_id": world.other_school.pk, "student_id": world.foreign_student.pk}]
    assert services.record_events("journal", other) == []
    assert not Delivery.objects.filter(subscription=sub).exists()


@pytest.mark.parametrize("kind", ["topic", "homework", "reason", "register", "lesson"])
def test_journal_kinds_that_are_not_webhook_events_are_ignored(world, subscribe, kind):
    subscribe()
    assert services.record_events("journal", [{"kind": kind, "school_id": world.school.pk}]) == []


def test_the_send_webhooks_command_sends_due_retries_and_prunes_the_old_log(world, receiver, subscribe, settings):
    settings.WEBHOOKS_LOG_DAYS = 30
    sub = subscribe(events=["mark.changed"])
    start = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)
    due = Delivery.objects.create(
        school=world.school, subscription=sub, event="mark.changed", payload={"n": 1}, next_attempt_at=start
    )
    old = Delivery.objects.create(
        school=world.school, subscription=sub, event="mark.changed", payload={}, status="sent", created_at=start
    )
    waiting_old = Delivery.objects.create(
        school=world.school,
        subscription=sub,
        event="mark.changed",
        payload={},
        created_at=start,
        next_attempt_at=start + dt.timedelta(days=90),
    )
    out = io.StringIO()
    with time_machine.travel(start + dt.timedelta(days=31), tick=False):
        call_command("send_webhooks", stdout=out)
    assert out.getvalue().strip() == "sent 1, to retry 0, skipped 0, pruned 1"
    due.refresh_from_db()
    assert due.status == "sent"
    assert [r.json for r in receiver.requests] == [{"n": 1}]
    assert not Delivery.objects.filter(pk=old.pk).exists()
    assert Delivery.objects.filter(pk=waiting_old.pk).exists()  # not sent yet: never pruned
