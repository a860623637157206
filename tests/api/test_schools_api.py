"""The schools API (R1.7, R2.5, R4.4): reference data for every member, classes and assignments by
scope, writes only with MANAGE_STRUCTURE; other schools' ids answer 404; bad input 4xx with a
structured error and no change; lists make a constant number of queries."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.core.models import AuditEntry
from classbook.schools.models import SchoolClass, Subject, TeachingAssignment
from tests import factories as f

API = "/api/v1/schools/lyceum-1"
SCHOOL_PERSONAS = [
    "admin",
    "director",
    "deputy",
    "secretary",
    "teacher",
    "class_teacher",
    "student",
    "parent",
    "viewer",
]
ALL_PERSONAS = [*SCHOOL_PERSONAS, "foreign_admin", "anonymous"]
WRITERS = {"admin", "director", "deputy"}
REFERENCE_LISTS = ["years", "periods", "special-days", "year-levels", "subjects", "rooms", "scales"]


@pytest.fixture(autouse=True)
def english(settings):
    """Tests read messages in the English source language, whatever translations exist."""
    settings.LANGUAGE_CODE = "en"


def post(client, path: str, body: object):
    return client.post(API + path, data=json.dumps(body), content_type="application/json")


def patch(client, path: str, body: object):
    return client.patch(API + path, data=json.dumps(body), content_type="application/json")


def refused_status(persona: str) -> int:
    return {"anonymous": 401, "foreign_admin": 404}.get(persona, 403)


@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_reference_data_is_read_by_every_member_of_the_school(world, as_user, persona):
    client = as_user(world.persona(persona))
    for name in REFERENCE_LISTS:
        response = client.get(f"{API}/{name}")
        expected = 200 if persona in SCHOOL_PERSONAS else refused_status(persona)
        assert response.status_code == expected, name
        if expected != 200:
            assert "error" in response.json()


@pytest.mark.parametrize(
    ("persona", "classes", "assignments"),
    [
        ("admin", 2, 2),
        ("director", 2, 2),
        ("deputy", 2, 2),
        ("secretary", 2, 2),
        ("teacher", 2, 2),
        ("class_teacher", 2, 2),
        ("viewer", 2, 2),
        ("student", 1, 0),
        ("parent", 1, 0),
    ],
)
def test_classes_and_assignments_are_scoped(world, as_user, persona, classes, assignments):
    client = as_user(world.persona(persona))
    assert client.get(f"{API}/classes").json()["count"] == classes
    assert client.get(f"{API}/assignments").json()["count"] == assignments


def test_a_student_opens_only_their_own_class(world, as_user):
    client = as_user(world.student.user)
    assert client.get(f"{API}/classes/{world.class_a.pk}").status_code == 200
    assert client.get(f"{API}/classes/{world.class_b.pk}").status_code == 404


def test_class_detail_has_its_subgroups(world, as_user):
    group = f.SubgroupFactory(school_class=world.class_a, name="Англ. 1")
    group.students.add(world.student)
    body = as_user(world.teacher).get(f"{API}/classes/{world.class_a.pk}").json()
    assert body["subgroups"] == [{"id": group.pk, "name": "Англ. 1", "students": 1}]
    assert body["class_teacher"]["id"] == world.class_teacher.pk


def test_periods_come_with_their_parent(world, as_user):
    year = world.class_a.year
    from classbook.schools.services import generate_standard_periods

    generate_standard_periods(acting_user=world.admin, year=year)
    items = as_user(world.student.user).get(f"{API}/periods").json()["items"]
    whole = next(p for p in items if p["kind"] == "year")
    assert [p["parent_id"] for p in items if p["kind"] == "semester"] == [whole["id"], whole["id"]]


def test_scales_come_with_values_and_levels(world, as_user):
    items = as_user(world.parent).get(f"{API}/scales").json()["items"]
    twelve = next(s for s in items if s["kind"] == "12")
    assert twelve["is_default"] is True
    assert [(v["code"], v["level"]) for v in twelve["values"][:4]] == [
        ("1", "initial"),
        ("2", "initial"),
        ("3", "initial"),
        ("4", "average"),
    ]


def test_assignments_filter_by_teacher_and_class(world, as_user):
    f.make_assignment(world.teacher, world.class_b)
    client = as_user(world.director)
    by_teacher = client.get(f"{API}/assignments", {"teacher": world.teacher.pk}).json()
    assert by_teacher["count"] == 2
    both = client.get(f"{API}/assignments", {"teacher": world.teacher.pk, "class_id": world.class_b.pk}).json()
    assert [a["class_id"] for a in both["items"]] == [world.class_b.pk]


def test_lists_are_paginated(world, as_user):
    for i in range(5):
        f.RoomFactory(school=world.school, name=f"R{i}")
    body = as_user(world.admin).get(f"{API}/rooms", {"limit": 2, "offset": 2}).json()
    assert body["count"] == 5
    assert [r["name"] for r in body["items"]] == ["R2", "R3"]
    assert as_user(world.admin).get(f"{API}/rooms", {"limit": 1000}).status_code == 422


# --- writes -----------------------------------------------------------------------------------------


def _state():
    return (
        SchoolClass.objects.count(),
        Subject.objects.count(),
        TeachingAssignment.objects.count(),
        AuditEntry.objects.count(),
    )


def _write(world, client, action: str):
    if action == "create_class":
        return post(
            client,
            "/classes",
            {"year_id": world.class_a.year_id, "year_level_id": world.class_a.year_level_id, "name": "9-Я"},
        )
    if action == "patch_class":
        return patch(client, f"/classes/{world.class_b.pk}", {"name": "5-Б*"})
    if action == "create_subject":
        return post(client, "/subjects", {"name": "Астрономія", "kind": "discipline"})
    if action == "patch_subject":
        return patch(client, f"/subjects/{world.subject.pk}", {"short_name": "Мат."})
    if action == "create_assignment":
        return post(
            client,
            "/assignments",
            {
                "teacher_id": world.other_teacher.pk,
                "class_id": world.class_a.pk,
                "subject_id": world.subject.pk,
                "hours_per_week": "3",
            },
        )
    assignment = TeachingAssignment.objects.get(teacher=world.teacher)
    return patch(client, f"/assignments/{assignment.pk}", {"hours_per_week": "4.5"})


WRITE_ACTIONS = [
    "create_class",
    "patch_class",
    "create_subject",
    "patch_subject",
    "create_assignment",
    "patch_assignment",
]


@pytest.mark.parametrize("action", WRITE_ACTIONS)
@pytest.mark.parametrize("persona", ALL_PERSONAS)
def test_only_structure_managers_write_through_the_api(world, as_user, persona, action):
    before = _state()
    response = _write(world, as_user(world.persona(persona)), action)
    if persona in WRITERS:
        assert response.status_code == (201 if action.startswith("create") else 200), response.content
        assert _state() != before
        return
    assert response.status_code == refused_status(persona)
    assert response.json()["error"]["code"] in {"forbidden", "not_found", "unauthorized"}
    assert _state() == before


def test_patch_changes_only_the_sent_fields_and_audits(world, as_user):
    response = patch(as_user(world.deputy), f"/classes/{world.class_a.pk}", {"class_teacher_id": world.teacher.pk})
    assert response.status_code == 200
    assert response.json()["name"] == "5-А"
    assert response.json()["class_teacher"]["id"] == world.teacher.pk
    entry = AuditEntry.objects.get(action="schools.schoolclass.updated")
    assert entry.data == {"old": {"class_teacher": world.class_teacher.pk}, "new": {"class_teacher": world.teacher.pk}}


def test_patch_with_null_removes_the_class_teacher(world, as_user):
    response = patch(as_user(world.admin), f"/classes/{world.class_a.pk}", {"class_teacher_id": None})
    assert response.status_code == 200
    assert response.json()["class_teacher"] is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/classes/{foreign_class}"),
        ("patch", "/classes/{foreign_class}"),
        ("patch", "/subjects/{foreign_subject}"),
        ("patch", "/assignments/{foreign_assignment}"),
    ],
)
def test_other_schools_rows_answer_404_and_nothing_changes(world, as_user, method, path):
    foreign_subject = f.SubjectFactory(school=world.other_school, name="Чужий")
    foreign_assignment = f.make_assignment(world.foreign_teacher, world.foreign_class, foreign_subject)
    url = path.format(
        foreign_class=world.foreign_class.pk,
        foreign_subject=foreign_subject.pk,
        foreign_assignment=foreign_assignment.pk,
    )
    before = _state()
    client = as_user(world.admin)
    response = client.get(API + url) if method == "get" else patch(client, url, {"name": "X", "hours_per_week": "9"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert _state() == before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/classes", {"year_id": "{foreign_year}", "year_level_id": "{level}", "name": "9-А"}, "year"),
        (
            "/classes",
            {"year_id": "{year}", "year_level_id": "{level}", "name": "9-А", "class_teacher_id": "{foreign_teacher}"},
            "class_teacher",
        ),
        (
            "/classes",
            {"year_id": "{year}", "year_level_id": "{level}", "name": "9-А", "class_teacher_id": "{secretary}"},
            "class_teacher",
        ),
        ("/classes", {"year_id": "{year}", "year_level_id": "{level}", "name": "5-А"}, "__all__"),
        ("/classes", {"year_id": "{year}", "year_level_id": "{level}", "name": "x" * 5000}, "name"),
        ("/classes", {"year_id": "abc", "year_level_id": "{level}", "name": "9-А"}, "year_id"),
        ("/classes", {"year_id": "{year}", "year_level_id": "{level}", "name": "9-А", "kind": "zoo"}, "kind"),
        ("/subjects", {"name": ""}, "name"),
        ("/subjects", {"name": "Фізика", "scale_id": "{foreign_scale}"}, "scale"),
        (
            "/assignments",
            {"teacher_id": "{teacher}", "class_id": "{class_a}", "subject_id": "{subject}", "hours_per_week": "41"},
            "hours_per_week",
        ),
        (
            "/assignments",
            {"teacher_id": "{teacher}", "class_id": "{class_b}", "subject_id": "{subject}", "hours_per_week": "123456"},
            "hours_per_week",
        ),
        (
            "/assignments",
            {
                "teacher_id": "{teacher}",
                "class_id": "{class_b}",
                "subject_id": "{subject}",
                "subgroup_id": "{subgroup_a}",
            },
            "subgroup",
        ),
        (
            "/assignments",
            {"teacher_id": "{foreign_teacher}", "class_id": "{class_b}", "subject_id": "{subject}"},
            "teacher",
        ),
        (
            "/assignments",
            {"teacher_id": "{teacher}", "class_id": "{foreign_class}", "subject_id": "{subject}"},
            "school_class",
        ),
    ],
)
def test_bad_input_is_a_422_with_the_field_and_nothing_changes(world, as_user, path, body, field):
    from classbook.schools.models import MarkingScale

    ids = {
        "year": world.class_a.year_id,
        "foreign_year": world.foreign_class.year_id,
        "level": world.class_a.year_level_id,
        "foreign_teacher": world.foreign_teacher.pk,
        "secretary": world.secretary.pk,
        "foreign_scale": MarkingScale.objects.filter(school=world.other_school).first().pk,
        "teacher": world.teacher.pk,
        "class_a": world.class_a.pk,
        "class_b": world.class_b.pk,
        "foreign_class": world.foreign_class.pk,
        "subject": world.subject.pk,
        "subgroup_a": f.SubgroupFactory(school_class=world.class_a).pk,
    }
    data = {k: (v.format(**ids) if isinstance(v, str) and v.startswith("{") else v) for k, v in body.items()}
    data = {k: (int(v) if isinstance(v, str) and v.isdigit() and k.endswith("_id") else v) for k, v in data.items()}
    before = _state()
    response = post(as_user(world.admin), path, data)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"], error
    assert _state() == before


@pytest.mark.parametrize("raw", ["{bad json", "[1, 2", "", "null", '"text"'])
def test_malformed_json_is_a_structured_4xx_and_nothing_changes(world, as_user, raw):
    before = _state()
    response = as_user(world.admin).post(f"{API}/classes", data=raw, content_type="application/json")
    assert response.status_code in (400, 422)
    assert "message" in response.json()["error"]
    assert _state() == before


def test_hours_are_returned_as_decimal_strings(world, as_user):
    body = as_user(world.admin).get(f"{API}/assignments").json()
    assert {Decimal(a["hours_per_week"]) for a in body["items"]} == {Decimal("2")}


# --- query counts -----------------------------------------------------------------------------------


def _grow(world, first: int, n: int) -> None:
    year = world.class_a.year
    for i in range(first, first + n):
        school_class = f.SchoolClassFactory(year=year, name=f"9-{i}", class_teacher=world.class_teacher)
        f.SubgroupFactory(school_class=school_class)
        f.make_assignment(world.other_teacher, school_class)
        f.RoomFactory(school=world.school)
        f.PeriodFactory(year=year, kind="module", name=f"M{i}", ordinal=i + 1, start="2026-09-01", end="2026-09-01")


@pytest.mark.parametrize("name", [*REFERENCE_LISTS, "classes", "assignments", "classes/{class_a}"])
def test_api_lists_make_a_constant_number_of_queries(world, as_user, name, django_assert_max_num_queries):
    client = as_user(world.admin)
    path = f"{API}/{name.format(class_a=world.class_a.pk)}"
    client.get(path)
    _grow(world, 0, 1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(path).status_code == 200
    _grow(world, 1, 5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(path).status_code == 200
    # session, user, school, roles, authority check; then count + rows (+ values of scales / subgroups)
    assert len(small.captured_queries) <= 8


def test_lists_filter_by_year(world, as_user):
    next_year = f.YearFactory(
        school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30", is_current=False
    )
    f.SchoolClassFactory(year=next_year, name="6-А")
    client = as_user(world.deputy)
    assert client.get(f"{API}/classes", {"year_id": next_year.pk}).json()["count"] == 1
    assert client.get(f"{API}/classes", {"year_id": world.class_a.year_id}).json()["count"] == 2
    assert client.get(f"{API}/assignments", {"year_id": next_year.pk}).json()["count"] == 0
    assert client.get(f"{API}/classes", {"year_id": "abc"}).status_code == 422
