"""The diary API (R5.1, R5.2): the same data and the same isolation as the pages (see test_isolation)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.people import credentials
from tests.diary.conftest import MONDAY
from tests.diary.test_week import _fill_week


def base(world):
    return f"/api/v1/schools/{world.school.slug}/diary"


def test_students_list_for_each_role(world, diary, as_user):
    own = as_user(world.student.user).get(f"{base(world)}/students").json()["items"]
    assert [p["id"] for p in own] == [world.student.pk]
    (child,) = as_user(world.parent).get(f"{base(world)}/students").json()["items"]
    assert child["class_name"] == "5-А" and child["class_teacher"] == world.class_teacher.full_name
    assert as_user(world.teacher).get(f"{base(world)}/students").json()["items"] == []
    assert as_user(world.admin).get(f"{base(world)}/students").json()["items"] == []
    assert as_user(world.foreign_admin).get(f"{base(world)}/students").status_code == 404


def test_week(world, diary, as_user):
    data = as_user(world.parent).get(f"{base(world)}/{world.student.pk}/week?date={MONDAY + dt.timedelta(days=2)}")
    assert data.status_code == 200
    week = data.json()
    assert week["start"] == MONDAY.isoformat() and len(week["days"]) == 6
    monday = week["days"][0]["lessons"][0]
    assert monday["topic"] == "Дроби" and monday["homework_due"] == "2026-11-11"
    assert monday["marks"] == [{"value": "10", "work_type": "Поточна", "comment": "Молодець", "date": None}]
    assert monday["files"][0]["url"] == f"/s/{world.school.slug}/journal/files/{diary.file_id}/"
    statuses = [lesson["status"] for day in week["days"] for lesson in day["lessons"]]
    assert statuses == ["", "cancelled", "substituted", "moved_out", "moved_in"]
    assert week["days"][2]["lessons"][0]["absence"]["code"] == "н"


def test_week_with_a_personal_token(world, diary, as_user):
    token = credentials.create_api_token(user=world.parent, name="phone")[1]
    client = as_user(None)
    response = client.get(f"{base(world)}/{world.student.pk}/week", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200


def test_marks_grades_attendance(world, diary, as_user):
    client = as_user(world.student.user)
    marks = client.get(f"{base(world)}/{world.student.pk}/marks?period={diary.period.pk}").json()
    assert marks["period"]["name"] == "I семестр"
    math = next(s for s in marks["subjects"] if s["subject"] == "Математика")
    assert math["marks"][0]["value"] == "10" and math["average"] == "10.0"  # the school's decimals (default 1)
    assert client.get(f"{base(world)}/{world.student.pk}/grades").json()["subjects"] == []
    attendance = client.get(f"{base(world)}/{world.student.pk}/attendance").json()
    assert attendance["total"] == {"absent": 1, "excused": 0, "unexcused": 1, "late": 0}
    assert attendance["subjects"][0]["subject"] == "Математика"


def test_api_week_query_count_is_constant(world, diary, as_user):
    client = as_user(world.parent)
    url = f"{base(world)}/{world.student.pk}/week?date={MONDAY}"
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    _fill_week(world, diary, 18)
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert sum(len(d["lessons"]) for d in response.json()["days"]) > 5
    assert len(big) == len(small) <= 13  # the week's 7, the access, the look noted (R9.2) and the ETag's state
