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
from classbook.webhooks import signing
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
    assert [(a["id"], a["can_edit"]) for a in assignments] == [(journal.assignment.pk, True)]
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
    assert [s["id"] for s in parent.diary_students("lyceum-1")] == [world.student.pk]
    week = parent.diary_week("lyceum-1", world.student.pk, LESSON_DAY)
    assert week["start"] <= LESSON_DAY.isoformat() <= week["end"]
    day = next(d for d in week["days"] if d["date"] == LESSON_DAY.isoformat())
    assert "11" in str(day["lessons"])
    with pytest.raises(NotFound):
        parent.diary_week("lyceum-1", world.other_student.pk, LESSON_DAY)


def test_paginate_walks_every_page(world, client_for):
    admin = client_for(world.admin)
    everything = admin.get("/schools/lyceum-1/classes", limit=200)
    names = [c["name"] for c in admin.paginate("/schools/lyceum-1/classes", page_size=1)]
    assert names == [c["name"] for c in everything["items"]]
    assert len(names) == everything["count"] == 2


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
