"""The Python client (``clients/python/classbook_client``) against a live test server with the shared
personas and a journal: tokens, typed operations, errors as exceptions with the API's error shape,
pagination, and the webhook signature check agreeing with the server's signing."""

from __future__ import annotations

import pytest
from classbook_client import (
    AuthenticationFailed,
    Client,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    verify_signature,
)

from classbook.people.credentials import create_api_token
from classbook.webhooks import services, signing
from classbook.webhooks.models import Delivery
from tests import factories as f
from tests.journal.conftest import LESSON_DAY


@pytest.fixture
def client_for(live_server):
    def make(user, **kwargs) -> Client:
        _row, token = create_api_token(user=user, name="client test")
        return Client(live_server.url, token, timeout=20, **kwargs)

    return make


@pytest.fixture(autouse=True)
def _static_root(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # WhiteNoise warns (an error here) when it is missing


def test_a_teacher_reads_the_grid_and_writes_marks_and_attendance(world, journal, client_for):
    classmate = f.make_student(world.class_a, user=f.UserFactory(username="classmate"))
    cb = client_for(world.teacher)
    assert cb.me()["username"] == "teacher"
    assignments = cb.journal_assignments("lyceum-1")
    assert [(a["id"], a["can_edit"]) for a in assignments["items"]] == [(journal.assignment.pk, True)]
    assert (assignments["count"], assignments["next"], assignments["previous"]) == (1, None, None)
    grid = cb.journal_grid("lyceum-1", journal.assignment.pk, journal.semester.pk)
    assert world.student.pk in {s["id"] for s in grid["students"]}
    assert journal.lesson.pk in {lesson["id"] for lesson in grid["lessons"]}
    mark = cb.set_mark("lyceum-1", journal.lesson.pk, world.student.pk, "10", expected_version=0)
    assert (mark["value"], mark["version"]) == ("10", 1)
    with pytest.raises(Conflict) as stale:
        cb.set_mark("lyceum-1", journal.lesson.pk, world.student.pk, "9", expected_version=0)
    assert (stale.value.status, stale.value.code) == (409, "conflict")
    assert stale.value.current["value"] == "10"
    absent = cb.set_attendance("lyceum-1", journal.lesson.pk, classmate.pk, "н", expected_version=0)
    assert absent["value"] == "н"
    grid = cb.journal_grid("lyceum-1", journal.assignment.pk, journal.semester.pk)
    assert [(m["student"], m["value"]) for m in grid["marks"]] == [(world.student.pk, "10")]


def test_errors_carry_the_api_error_shape(world, journal, client_for, live_server):
    teacher = client_for(world.teacher)
    with pytest.raises(ValidationFailed) as invalid:
        teacher.set_mark("lyceum-1", journal.lesson.pk, world.student.pk, "99", expected_version=0)
    assert invalid.value.status == 422
    assert invalid.value.message
    with pytest.raises(NotFound) as missing:
        teacher.journal_grid("gymnasium-2", journal.assignment.pk, journal.semester.pk)  # not the teacher's school
    assert missing.value.code == "not_found"
    with pytest.raises(PermissionDenied):
        teacher.call("GET", "/schools/lyceum-1/webhooks")
    with pytest.raises(AuthenticationFailed) as anonymous:
        Client(live_server.url, "cb_not-a-token").me()
    assert (anonymous.value.status, anonymous.value.code) == (401, "unauthorized")


def test_a_parent_reads_the_childs_diary_week_and_nobody_elses(world, journal, client_for):
    client_for(world.teacher).set_mark("lyceum-1", journal.lesson.pk, world.student.pk, "11", expected_version=0)
    parent = client_for(world.parent)
    assert [s["id"] for s in parent.diary_students("lyceum-1")["items"]] == [world.student.pk]
    week = parent.diary_week("lyceum-1", world.student.pk, LESSON_DAY)
    assert week["start"] <= LESSON_DAY.isoformat() <= week["end"]
    day = next(d for d in week["days"] if d["date"] == LESSON_DAY.isoformat())
    assert "11" in str(day["lessons"])
    with pytest.raises(NotFound):
        parent.diary_week("lyceum-1", world.other_student.pk, LESSON_DAY)


def test_paginate_follows_next_over_every_page(world, client_for):
    admin = client_for(world.admin)
    everything = admin.get("/schools/lyceum-1/classes", limit=200)
    names = [c["name"] for c in admin.paginate("/schools/lyceum-1/classes", page_size=1)]
    assert names == [c["name"] for c in everything["items"]]
    assert len(names) == everything["count"] == 2
    backwards = [c["name"] for c in admin.paginate("/schools/lyceum-1/classes", {"sort": "-name"}, page_size=1)]
    assert backwards == sorted(names, reverse=True)
    with pytest.raises(ValidationFailed):
        list(admin.paginate("/schools/lyceum-1/classes", {"sort": "nope"}))


def test_paginate_walks_the_audit_logs_keyset_pages(world, client_for):
    admin = client_for(world.admin)
    for i in range(3):
        services.create_subscription(
            acting_user=world.admin, school=world.school, url=f"https://93.184.215.14/h{i}", events=["mark.changed"]
        )
    first = admin.get("/schools/lyceum-1/audit", limit=200)
    assert first["count"] is None and len(first["items"]) >= 3
    walked = [e["id"] for e in admin.paginate("/schools/lyceum-1/audit", page_size=2)]
    assert walked == [e["id"] for e in first["items"]]


def test_webhooks_and_their_delivery_log_in_pages(world, client_for):
    admin = client_for(world.admin)
    sub, _secret = services.create_subscription(
        acting_user=world.admin, school=world.school, url="https://93.184.215.14/hook", events=["mark.changed"]
    )
    Delivery.objects.bulk_create(
        Delivery(school=world.school, subscription=sub, event="mark.changed", payload={"n": i}, status=status)
        for i, status in enumerate(["failed", "sent", "failed"])
    )
    hooks = admin.webhooks("lyceum-1")
    assert [(h["id"], h["failed"]) for h in hooks["items"]] == [(sub.pk, 2)] and hooks["count"] == 1
    failed = admin.webhook_deliveries("lyceum-1", sub.pk, status="failed", limit=1)
    assert (failed["count"], len(failed["items"]), failed["items"][0]["status"]) == (2, 1, "failed")
    path = f"/schools/lyceum-1/webhooks/{sub.pk}/deliveries"
    assert len(list(admin.paginate(path, {"status": "failed"}, page_size=1))) == 2
    assert [d["status"] for d in admin.paginate(path, {"sort": "status,id"})] == ["failed", "failed", "sent"]


def test_the_grid_and_the_week_are_read_again_with_if_none_match(world, journal, client_for, monkeypatch):
    cb = client_for(world.teacher)
    sent: list[tuple[str | None, int]] = []
    send = cb._send

    def spy(method, url, json_body=None, extra=None):
        response = send(method, url, json_body, extra)
        sent.append(((extra or {}).get("If-None-Match"), response.status))
        return response

    monkeypatch.setattr(cb, "_send", spy)
    grid = cb.journal_grid("lyceum-1", journal.assignment.pk, journal.semester.pk)
    grid["marks"].append({"changed": "by the caller"})  # the kept copy is the client's own
    again = cb.journal_grid("lyceum-1", journal.assignment.pk, journal.semester.pk)
    assert sent[0][0] is None and sent[0][1] == 200
    assert sent[1][0] is not None and sent[1][1] == 304
    assert again["marks"] == [] and again["students"] == grid["students"]
    cb.set_mark("lyceum-1", journal.lesson.pk, world.student.pk, "10", expected_version=0)
    changed = cb.journal_grid("lyceum-1", journal.assignment.pk, journal.semester.pk)
    assert sent[-1][1] == 200 and [m["value"] for m in changed["marks"]] == ["10"]
    parent = client_for(world.parent, etag_cache=0)
    week = parent.diary_week("lyceum-1", world.student.pk, LESSON_DAY)
    assert parent.diary_week("lyceum-1", world.student.pk, LESSON_DAY) == week and not parent._tagged


def test_the_generic_call_and_the_interface_language(world, client_for):
    answer = client_for(world.teacher, language="uk").request("GET", "/schools/lyceum-1")
    assert answer.status == 200
    assert answer.data["slug"] == "lyceum-1"
    assert answer.headers["content-type"].startswith("application/json")


def test_the_clients_signature_check_agrees_with_the_servers_signing():
    body = b'{"event":"ping"}'
    header = signing.header_value(["whsec_a", "whsec_b"], 1_800_000_000, body)
    assert verify_signature("whsec_a", header, body, now=1_800_000_010)
    assert verify_signature("whsec_b", header, body, now=1_800_000_010)
    assert not verify_signature("whsec_c", header, body, now=1_800_000_010)
    assert not verify_signature("whsec_a", header, body + b" ", now=1_800_000_010)
    assert not verify_signature("whsec_a", header, body, now=1_800_000_000 + 301)
