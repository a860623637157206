"""Timetable API under /api/v1/schools/{school}/timetable/ (R4.1, R4.2): scoping, structured errors, counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from classbook.journal.models import Lesson
from classbook.timetable import services
from classbook.timetable.models import LessonChange, TimetableEntry


def api(world, path, school=None):
    return f"/api/v1/schools/{school or world.school.slug}/timetable{path}"


def post(client, path, data):
    return client.post(path, json.dumps(data), content_type="application/json")


@pytest.fixture
def generated(world, tt):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1, room=tt.room)
    services.add_entry(acting_user=world.deputy, assignment=tt.history, weekday=1, number=2)
    services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 7), end=dt.date(2026, 9, 30)
    )


def test_deputy_creates_an_entry_and_a_clash_is_a_structured_error(world, tt, as_user):
    client = as_user(world.deputy)
    ok = post(
        client, api(world, "/entries"), {"assignment_id": tt.math.pk, "weekday": 1, "number": 1, "room_id": tt.room.pk}
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["subject"] == "Математика"
    clash = post(
        client,
        api(world, "/entries"),
        {"assignment_id": tt.history.pk, "weekday": 1, "number": 1, "room_id": tt.room.pk},
    )
    assert clash.status_code == 422
    assert clash.json()["error"]["code"] == "clash"
    assert "room 101" in clash.json()["error"]["message"]
    assert TimetableEntry.objects.count() == 1


def test_unknown_assignment_of_another_school_is_refused(world, tt, as_user):
    from tests import factories as f

    foreign = f.make_assignment(world.foreign_teacher, world.foreign_class)
    response = post(
        as_user(world.deputy), api(world, "/entries"), {"assignment_id": foreign.pk, "weekday": 1, "number": 1}
    )
    assert response.status_code == 422
    assert "assignment_id" in response.json()["error"]["fields"]
    assert not TimetableEntry.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("deputy", 201),
        ("admin", 201),
        ("director", 201),
        ("teacher", 403),
        ("student", 403),
        ("parent", 403),
        ("viewer", 403),
        ("foreign_admin", 404),
        ("anonymous", 401),
    ],
)
def test_who_may_create_entries(world, tt, as_user, persona, status):
    response = post(
        as_user(world.persona(persona)),
        api(world, "/entries"),
        {"assignment_id": tt.math.pk, "weekday": 1, "number": 1},
    )
    assert response.status_code == status
    assert TimetableEntry.objects.exists() == (status == 201)


def test_generate_is_idempotent_through_the_api(world, tt, as_user):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    client = as_user(world.deputy)
    first = post(client, api(world, "/generate"), {"start": "2026-09-01", "end": "2026-09-30"})
    assert first.status_code == 200 and first.json()["created"] == 4
    again = post(client, api(world, "/generate"), {"start": "2026-09-01", "end": "2026-09-30"})
    assert again.json() == {"created": 0, "existing": 4, "skipped_days": []}
    outside = post(client, api(world, "/generate"), {"start": "2027-07-01", "end": "2027-07-30"})
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "outside_year"
    assert (
        post(as_user(world.teacher), api(world, "/generate"), {"start": "2026-09-01", "end": "2026-09-30"}).status_code
        == 403
    )


def test_delete_entry_reports_lessons_kept_with_data(world, tt, generated, as_user):
    lesson = Lesson.objects.filter(assignment=tt.math).order_by("date").first()
    Lesson.objects.filter(pk=lesson.pk).update(homework="§3")
    entry = TimetableEntry.objects.get(assignment=tt.math)
    response = as_user(world.deputy).delete(api(world, f"/entries/{entry.pk}") + "?from_date=2026-09-01")
    assert response.status_code == 200
    assert response.json()["kept"] == [{"id": lesson.pk, "date": "2026-09-07", "number": 1}]
    assert response.json()["removed"] == 3


def test_foreign_entry_cannot_be_deleted(world, tt, generated, as_user):
    entry = TimetableEntry.objects.get(assignment=tt.math)
    assert as_user(world.foreign_admin).delete(api(world, f"/entries/{entry.pk}", "gymnasium-2")).status_code == 404
    assert TimetableEntry.objects.filter(pk=entry.pk).exists()


def test_substitution_through_the_api(world, tt, generated, as_user):
    lesson = Lesson.objects.filter(assignment=tt.math).order_by("date").first()
    client = as_user(world.deputy)
    response = post(
        client,
        api(world, "/substitutions"),
        {"lesson_id": lesson.pk, "kind": "substituted", "substitute_id": world.class_teacher.pk, "reason": "Хвороба"},
    )
    assert response.status_code == 201, response.content
    lesson.refresh_from_db()
    assert lesson.conducted_by == world.class_teacher
    listing = client.get(api(world, "/substitutions") + "?month=2026-09").json()
    assert [c["lesson_id"] for c in listing["items"]] == [lesson.pk]
    counts = {c["teacher_id"]: c for c in listing["counts"]}
    assert counts[world.teacher.pk]["missed"] == 1 and counts[world.class_teacher.pk]["substituted_for_others"] == 1
    bad = post(client, api(world, "/substitutions"), {"lesson_id": lesson.pk, "kind": "exploded"})
    assert bad.status_code == 422 and "kind" in bad.json()["error"]["fields"]


def test_foreign_substitute_is_refused(world, tt, generated, as_user):
    lesson = Lesson.objects.filter(assignment=tt.math).first()
    response = post(
        as_user(world.deputy),
        api(world, "/substitutions"),
        {"lesson_id": lesson.pk, "kind": "substituted", "substitute_id": world.foreign_teacher.pk},
    )
    assert response.status_code == 422
    assert not LessonChange.objects.exists()


@pytest.mark.parametrize(
    ("persona", "subjects"),
    [
        ("student", {"Математика"}),
        ("parent", {"Математика"}),
        ("other_student", {"Історія"}),
        ("teacher", {"Математика"}),
        ("other_teacher", {"Історія"}),
    ],
)
def test_my_timetable_is_only_ones_own(world, tt, generated, as_user, persona, subjects, django_assert_max_num_queries):
    client = as_user(world.persona(persona))
    with django_assert_max_num_queries(24):
        response = client.get(api(world, "/my") + "?start=2026-09-07&end=2026-09-20")
    assert response.status_code == 200
    found = {s["subject"] for t in response.json()["items"] for s in t["slots"]}
    assert found == subjects


def test_my_timetable_range_is_limited(world, tt, as_user):
    response = as_user(world.student.user).get(api(world, "/my") + "?start=2026-09-01&end=2027-06-01")
    assert response.status_code == 422


def test_lists_have_constant_query_counts(world, tt, generated, as_user, django_assert_max_num_queries):
    client = as_user(world.teacher)
    with django_assert_max_num_queries(15):  # 9 of them are the session and the school context
        entries = client.get(api(world, "/entries"))
    assert len(entries.json()["items"]) == 2
    with django_assert_max_num_queries(15):  # 9 of them are the session and the school context
        bells = client.get(api(world, "/bells")).json()["items"]
    assert len(bells[0]["bells"]) == 7


def test_family_entries_are_only_their_class(world, tt, generated, as_user):
    subjects = {e["subject"] for e in as_user(world.parent).get(api(world, "/entries")).json()["items"]}
    assert subjects == {"Математика"}
    assert as_user(None).get(api(world, "/entries")).status_code == 401
    assert as_user(world.foreign_student.user).get(api(world, "/entries")).status_code == 404


def test_set_bell_refuses_overlap_and_is_for_managers(world, tt, as_user):
    from classbook.timetable.models import Bell

    body = {"schedule_id": tt.schedule.pk, "number": 8, "start": "14:30", "end": "15:10"}
    bad = as_user(world.deputy).put(api(world, "/bells"), json.dumps(body), content_type="application/json")
    assert bad.status_code == 422 and "overlaps lesson 7" in bad.json()["error"]["message"]
    body.update(start="15:00", end="15:45")
    assert (
        as_user(world.teacher).put(api(world, "/bells"), json.dumps(body), content_type="application/json").status_code
        == 403
    )
    assert not Bell.objects.filter(number=8).exists()
    ok = as_user(world.deputy).put(api(world, "/bells"), json.dumps(body), content_type="application/json")
    assert ok.status_code == 200 and ok.json() == {"number": 8, "start": "15:00:00", "end": "15:45:00"}
