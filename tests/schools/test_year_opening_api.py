"""The year-opening API (R4.3): defaults, preview, run; permissions, structured errors, idempotence."""

from __future__ import annotations

import json

import pytest

from classbook.people.models import Enrolment
from classbook.schools.models import AcademicYear, SchoolClass
from tests.schools.opening_scene import old_year_checksum

BASE = "/api/v1/schools/{school}/year-opening"
BODY = {"name": "2027/2028", "start": "2027-09-01", "end": "2028-06-30"}
ALLOWED = {"admin", "director", "deputy"}


def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


def url(school="lyceum-1", tail=""):
    return BASE.format(school=school) + tail


PERSONAS = ["admin", "director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]


@pytest.mark.parametrize("persona", [*PERSONAS, "foreign_admin", "anonymous"])
def test_who_may_preview_and_open(scene, as_user, persona):
    client = as_user(scene.world.persona(persona))
    expected = 401 if persona == "anonymous" else 404 if persona == "foreign_admin" else 403
    assert client.get(url()).status_code == (200 if persona in ALLOWED else expected)
    assert post(client, url(tail="/preview"), BODY).status_code == (200 if persona in ALLOWED else expected)
    response = post(client, url(), BODY)
    assert response.status_code == (201 if persona in ALLOWED else expected), response.content
    assert AcademicYear.objects.filter(name="2027/2028").exists() == (persona in ALLOWED)


def test_another_schools_admin_cannot_open_ours_even_by_their_own_school(scene, as_user):
    response = post(as_user(scene.world.foreign_admin), url(), BODY)
    assert response.status_code == 404
    assert not AcademicYear.objects.filter(name="2027/2028").exists()


def test_defaults_preview_and_run(scene, as_user):
    w = scene.world
    client = as_user(w.deputy)
    defaults = client.get(url()).json()
    assert defaults["name"] == "2027/2028" and defaults["first_classes"] == ["1-А"] and defaults["final_level"] == 11

    preview = post(client, url(tail="/preview"), {**BODY, "held_back": [w.student.pk]})
    assert preview.status_code == 200
    plan = preview.json()
    assert [c["name"] for c in plan["classes"]] == ["2-А", "6-А", "6-Б", "1-А", "5-А"]
    assert plan["graduating"] == [{"name": "11-А", "students": 1}]
    assert [s["id"] for s in plan["left"]] == [scene.leaver.pk]
    five_a = next(c for c in plan["classes"] if c["name"] == "5-А")
    assert five_a["students"] == [
        {
            "id": w.student.pk,
            "name": w.student.user.full_name,
            "from_class": "5-А",
            "to_class": "5-А",
            "status": "held_back",
        }
    ]
    assert plan["timetable_entries"] == 2  # 6-А: math and English; the repeaters' 5-А has no timetable yet
    assert not AcademicYear.objects.filter(name="2027/2028").exists()

    run = post(client, url(), {**BODY, "held_back": [w.student.pk], "first_classes": []})
    assert run.status_code == 201, run.content
    body = run.json()
    assert body["created"]["classes"] == 4 and body["created"]["enrolments"] == 3
    year = AcademicYear.objects.get(pk=body["year_id"])
    assert Enrolment.objects.get(student=w.student, school_class__year=year).school_class.name == "5-А"

    again = post(client, url(), BODY)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "year_exists"
    assert SchoolClass.objects.filter(year=year).count() == 4


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"start": "2027-06-15"}, 422, "start"),
        ({"start": "2028-07-01"}, 422, "end"),
        ({"start": "yesterday"}, 422, "start"),
        ({"held_back": [999999]}, 422, "held_back"),
        ({"final_level": 0}, 422, "final_level"),
        ({"first_classes": ["6-А"]}, 422, "first_classes"),
    ],
)
def test_bad_input_is_a_structured_error_and_changes_nothing(scene, as_user, changes, status, field):
    before = (old_year_checksum(scene.year), AcademicYear.objects.count())
    response = post(as_user(scene.world.deputy), url(), {**BODY, **changes})
    assert response.status_code == status
    assert field in response.json()["error"]["fields"], response.json()
    assert (old_year_checksum(scene.year), AcademicYear.objects.count()) == before
