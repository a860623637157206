"""The roster API: persona × endpoint × method → status, bad input, pagination and query counts."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.people.models import Consent, GuardianLink, Role, Student
from tests import factories as f
from tests.roster.conftest import ALL_PERSONAS, fill_class, snapshot

API = "/api/v1/schools/lyceum-1"


def call(client, method, path, data=None):
    body = json.dumps(data) if data is not None and not isinstance(data, str) else data
    return getattr(client, method)(f"{API}{path}", data=body, content_type="application/json")


# Expected status per persona, in ALL_PERSONAS order.
#              adm  dir  dep  sec  tea  ct   ot   stu  par  opa  vie  fad  anon
DIRECTORY = [200, 200, 200, 200, 200, 200, 200, 403, 403, 403, 200, 404, 401]
ROSTER = [200, 200, 200, 200, 403, 200, 403, 403, 403, 403, 200, 404, 401]
OTHER_CLASS = [200, 200, 200, 200, 403, 404, 403, 403, 403, 403, 200, 404, 401]
CREATE = [201, 403, 403, 201, 403, 403, 403, 403, 403, 403, 403, 404, 401]
CONTACTS = [200, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 404, 401]
MANAGE = [200, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 404, 401]
CONSENT = [201, 403, 403, 201, 403, 201, 403, 403, 403, 403, 403, 404, 401]


def _new_student(w):
    return {"class_id": w.class_a.pk, "last_name": "Новенький", "first_name": "Іван"}


def _link_path(w):
    link = GuardianLink.objects.get(guardian=w.parent, student=w.student)
    return f"/students/{w.student.pk}/guardians/{link.pk}"


ENDPOINTS = {
    "staff_list": ("get", lambda w: "/staff", None, DIRECTORY),
    "staff_detail": ("get", lambda w: f"/staff/{w.teacher.pk}", None, DIRECTORY),
    "students": ("get", lambda w: "/students", None, ROSTER),
    "student": ("get", lambda w: f"/students/{w.student.pk}", None, ROSTER),
    "other_class_student": ("get", lambda w: f"/students/{w.other_student.pk}", None, OTHER_CLASS),
    "guardians": ("get", lambda w: f"/students/{w.student.pk}/guardians", None, ROSTER),
    "consents": ("get", lambda w: f"/students/{w.student.pk}/consents", None, ROSTER),
    "create_student": ("post", lambda w: "/students", _new_student, CREATE),
    "patch_phone": ("patch", lambda w: f"/students/{w.student.pk}", lambda w: {"phone": "+380501"}, CONTACTS),
    "withdraw": ("post", lambda w: f"/students/{w.student.pk}/withdraw", lambda w: {"on": "2026-11-16"}, MANAGE),
    "move": (
        "post",
        lambda w: f"/students/{w.student.pk}/move",
        lambda w: {"class_id": w.class_b.pk, "on": "2026-11-16"},
        MANAGE,
    ),
    "restrict_guardian": ("patch", _link_path, lambda w: {"may_see": False}, MANAGE),
    "end_guardian": ("delete", _link_path, None, MANAGE),
    "link_guardian": (
        "post",
        lambda w: f"/students/{w.other_student.pk}/guardians",
        lambda w: {"guardian_id": w.parent.pk, "relation": "мати"},
        [201 if s == 200 else s for s in MANAGE],
    ),
    "record_consent": (
        "post",
        lambda w: f"/students/{w.student.pk}/consents",
        lambda w: {"given_by": "Мати", "given_on": "2026-09-01"},
        CONSENT,
    ),
}
CASES = [
    pytest.param(name, persona, spec[3][i], id=f"{name}-{persona}")
    for name, spec in ENDPOINTS.items()
    for i, persona in enumerate(ALL_PERSONAS)
]


@pytest.mark.parametrize(("name", "persona", "expected"), CASES)
def test_endpoint_access(world, as_user, name, persona, expected):
    method, path, data, _ = ENDPOINTS[name]
    before = snapshot()
    response = call(as_user(world.persona(persona)), method, path(world), data(world) if data else None)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert "error" in response.json()
        assert snapshot() == before
    elif method != "get":
        assert snapshot() != before


def test_directory_shows_managers_everything_and_teachers_names_only(world, as_user):
    row = next(r for r in call(as_user(world.teacher), "get", "/staff").json()["items"] if r["id"] == world.admin.pk)
    assert row["roles"] == ["admin"] and row["username"] is None and row["phone"] is None
    row = next(r for r in call(as_user(world.admin), "get", "/staff").json()["items"] if r["id"] == world.admin.pk)
    assert row["username"] == "admin"


def test_student_detail_has_class_history_and_guardians(world, as_user):
    body = call(as_user(world.secretary), "get", f"/students/{world.student.pk}").json()
    assert body["current_class"] == {"id": world.class_a.pk, "name": "5-А"}
    assert [g["guardian_id"] for g in body["guardians"]] == [world.parent.pk]
    assert body["enrolments"][0]["class_id"] == world.class_a.pk


def test_new_guardian_through_the_api(world, as_user):
    response = call(
        as_user(world.secretary),
        "post",
        f"/students/{world.student.pk}/guardians",
        {"last_name": "Коваль", "first_name": "Ольга", "relation": "мати", "may_see": False},
    )
    assert response.status_code == 201
    assert response.json()["may_see"] is False
    assert GuardianLink.objects.filter(student=world.student).count() == 2


def test_class_teacher_may_not_rename_a_student(world, as_user):
    before = snapshot()
    response = call(as_user(world.class_teacher), "patch", f"/students/{world.student.pk}", {"last_name": "Інше"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert snapshot() == before


def test_withdrawing_a_consent(world, as_user):
    consent = Consent.objects.create(
        school=world.school, student=world.student, given_by="Мати", given_on="2026-09-01", recorded_by=world.admin
    )
    response = call(
        as_user(world.class_teacher), "post", f"/students/{world.student.pk}/consents/{consent.pk}/withdraw"
    )
    assert response.status_code == 200 and response.json()["withdrawn_on"] == "2026-11-16"


# --- bad input: structured error, nothing changed --------------------------------------------------------

BAD_INPUT = {
    "malformed_json": ("post", "/students", "{not json", 400),
    "wrong_types": ("post", "/students", {"class_id": "five", "last_name": 5, "first_name": []}, 422),
    "missing_fields": ("post", "/students", {}, 422),
    "huge_name": ("post", "/students", "HUGE", 422),
    "bad_date": (
        "post",
        "/students",
        {"class_id": "CLASS", "last_name": "А", "first_name": "Б", "birth_date": "x"},
        422,
    ),
    "future_birth": (
        "post",
        "/students",
        {"class_id": "CLASS", "last_name": "А", "first_name": "Б", "birth_date": "2030-01-01"},
        422,
    ),
    "other_school_class": ("post", "/students", "FOREIGN_CLASS", 422),
    "unknown_gender": (
        "post",
        "/students",
        {"class_id": "CLASS", "last_name": "А", "first_name": "Б", "gender": "x"},
        422,
    ),
    "move_to_other_school": ("post", "/students/STUDENT/move", "FOREIGN_MOVE", 422),
    "other_school_student": ("patch", "/students/FOREIGN_STUDENT", {"phone": "1"}, 404),
    "link_foreign_parent": ("post", "/students/STUDENT/guardians", "FOREIGN_PARENT", 422),
    "huge_limit": ("get", "/students?limit=100000", None, 422),
    "negative_offset": ("get", "/students?offset=-1", None, 422),
    "future_consent": ("post", "/students/STUDENT/consents", {"given_by": "М", "given_on": "2031-01-01"}, 422),
    "unknown_purpose": (
        "post",
        "/students/STUDENT/consents",
        {"purpose": "spam", "given_by": "М", "given_on": "2026-09-01"},
        422,
    ),
}


def _materialise(world, path, data):
    path = path.replace("FOREIGN_STUDENT", str(world.foreign_student.pk)).replace("STUDENT", str(world.student.pk))
    if data == "HUGE":
        data = {"class_id": world.class_a.pk, "last_name": "Ж" * 100_000, "first_name": "Б"}
    elif data == "FOREIGN_CLASS":
        data = {"class_id": world.foreign_class.pk, "last_name": "А", "first_name": "Б"}
    elif data == "FOREIGN_MOVE":
        data = {"class_id": world.foreign_class.pk, "on": "2026-11-16"}
    elif data == "FOREIGN_PARENT":
        data = {"guardian_id": f.make_parent(world.foreign_student).pk}
    elif isinstance(data, dict) and data.get("class_id") == "CLASS":
        data = {**data, "class_id": world.class_a.pk}
    return path, data


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_input_gets_a_structured_error_and_changes_nothing(world, as_user, case):
    method, path, data, expected = BAD_INPUT[case]
    path, data = _materialise(world, path, data)
    before = snapshot()
    response = call(as_user(world.admin), method, path, data)
    assert response.status_code == expected, response.content
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert snapshot() == before


# --- pagination and query counts ---------------------------------------------------------------------------


def test_students_are_paginated_alphabetically(world, as_user):
    fill_class(world.class_a, 7)
    client = as_user(world.secretary)
    first = call(client, "get", f"/students?class_id={world.class_a.pk}&limit=3").json()
    second = call(client, "get", f"/students?class_id={world.class_a.pk}&limit=3&offset=3").json()
    assert first["count"] == 8 and len(first["items"]) == 3
    names = [s["last_name"] for s in first["items"] + second["items"]]
    assert names == sorted(names)


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert call(client, "get", path).status_code == 200
    return len(ctx.captured_queries)


LISTS = {
    "students": lambda w: "/students?limit=200",
    "class_students": lambda w: f"/students?class_id={w.class_a.pk}&limit=200",
    "staff": lambda w: "/staff?limit=200",
    "consents": lambda w: f"/students/{w.student.pk}/consents",
}


@pytest.mark.parametrize("name", LISTS)
def test_api_lists_make_a_constant_number_of_queries(world, as_user, name, django_assert_max_num_queries):
    client = as_user(world.admin)
    path = LISTS[name](world)
    fill_class(world.class_a, 5)
    for _ in range(5):
        f.make_member(world.school, Role.TEACHER)
    call(client, "get", path)
    small = _queries(client, path)
    fill_class(world.class_a, 25)
    for _ in range(25):
        f.make_member(world.school, Role.TEACHER)
        Consent.objects.create(
            school=world.school, student=world.student, given_by="М", given_on="2026-09-01", recorded_by=world.admin
        )
    large = _queries(client, path)
    assert small == large
    with django_assert_max_num_queries(10):
        call(client, "get", path)


def test_students_created_through_the_api_appear_in_the_class(world, as_user):
    client = as_user(world.secretary)
    created = call(client, "post", "/students", _new_student(world)).json()
    assert Student.objects.get(pk=created["id"]).user.username == "novenkyi.ivan"
    ids = [s["id"] for s in call(client, "get", f"/students?class_id={world.class_a.pk}").json()["items"]]
    assert created["id"] in ids


def test_students_without_a_personal_data_consent(world, as_user):
    Consent.objects.create(
        school=world.school, student=world.student, given_by="М", given_on="2026-09-01", recorded_by=world.admin
    )
    body = call(as_user(world.secretary), "get", "/students?without_consent=true").json()
    assert [s["id"] for s in body["items"]] == [world.other_student.pk]
