"""Diary isolation, tried as an attacker (R1.3): every page, API endpoint, file and PDF of the diary answers
404 for a student the caller may not open — another child, another class, another school, an ended or
restricted guardian link, a student probing another student, staff other than the class teacher, an
authority viewer — exactly as for an id that does not exist. Anonymous callers are sent to log in
(pages) or get 401 (API), never data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from classbook.people.models import GuardianLink
from tests import factories as f
from tests.diary.conftest import MONDAY

PAGES = ["student", "week", "marks", "letter", "letter_pdf"]
API = ["week", "marks", "grades", "attendance"]


def page_url(world, name: str, student_id: int, school: str | None = None) -> str:
    slug = school or world.school.slug
    if name == "week":
        return reverse("diary:week", args=[slug, student_id, MONDAY.isoformat()])
    return reverse(f"diary:{name}", args=[slug, student_id])


def api_url(world, name: str, student_id: int, school: str | None = None) -> str:
    return f"/api/v1/schools/{school or world.school.slug}/diary/{student_id}/{name}"


# Who may open the diary of world.student: the student, their parent and their class teacher.
ALLOWED = {"student", "parent", "class_teacher"}
DENIED = [
    "other_student",
    "other_parent",
    "teacher",
    "other_teacher",
    "admin",
    "director",
    "deputy",
    "secretary",
    "foreign_admin",
    "foreign_teacher",
    "foreign_student",
    "viewer",
]


@pytest.mark.parametrize("persona", sorted(ALLOWED))
@pytest.mark.parametrize("name", PAGES)
def test_allowed_personas_open_every_page(world, diary, as_user, persona, name):
    response = as_user(world.persona(persona)).get(page_url(world, name, world.student.pk))
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert f"/diary/{world.student.pk}/week/" in response["Location"]


@pytest.mark.parametrize("persona", DENIED)
@pytest.mark.parametrize("name", PAGES)
def test_everybody_else_gets_404_on_every_page(world, diary, as_user, persona, name):
    assert as_user(world.persona(persona)).get(page_url(world, name, world.student.pk)).status_code == 404


@pytest.mark.parametrize("persona", DENIED)
@pytest.mark.parametrize("name", API)
def test_everybody_else_gets_404_from_the_api(world, diary, as_user, persona, name):
    response = as_user(world.persona(persona)).get(api_url(world, name, world.student.pk))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_is_sent_to_log_in(world, diary, as_user, name):
    response = as_user(None).get(page_url(world, name, world.student.pk))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", API)
def test_anonymous_api_gets_401(world, diary, as_user, name):
    assert as_user(None).get(api_url(world, name, world.student.pk)).status_code == 401


def _ids(world):
    return {
        "other child": world.other_student.pk,
        "another school's student": world.foreign_student.pk,
        "unknown": 999_999,
    }


@pytest.mark.parametrize("persona", ["student", "parent", "class_teacher"])
@pytest.mark.parametrize("name", PAGES)
def test_id_enumeration_on_pages(world, diary, as_user, persona, name):
    client = as_user(world.persona(persona))
    for label, pk in _ids(world).items():
        assert client.get(page_url(world, name, pk)).status_code == 404, label


@pytest.mark.parametrize("persona", ["student", "parent", "class_teacher"])
@pytest.mark.parametrize("name", API)
def test_id_enumeration_on_the_api(world, diary, as_user, persona, name):
    client = as_user(world.persona(persona))
    for label, pk in _ids(world).items():
        assert client.get(api_url(world, name, pk)).status_code == 404, label


def test_another_schools_address_is_404(world, diary, as_user):
    client = as_user(world.parent)
    assert client.get(page_url(world, "week", world.student.pk, school=world.other_school.slug)).status_code == 404
    assert client.get(api_url(world, "week", world.student.pk, school=world.other_school.slug)).status_code == 404
    foreign = as_user(world.foreign_student.user)
    assert foreign.get(page_url(world, "week", world.foreign_student.pk, school=world.school.slug)).status_code == 404


@pytest.mark.parametrize("link", ["restricted", "ended", "ends today"])
def test_restricted_and_ended_links_see_nothing(world, diary, as_user, link):
    parent = f.make_parent(world.student, may_see=link != "restricted", username=f"p-{link.replace(' ', '')}")
    if link != "restricted":
        ended = dt.date.today() if link == "ends today" else dt.date.today() - dt.timedelta(days=1)
        GuardianLink.objects.filter(guardian=parent).update(ended_on=ended)
    client = as_user(parent)
    for name in PAGES:
        assert client.get(page_url(world, name, world.student.pk)).status_code == 404, name
    for name in API:
        assert client.get(api_url(world, name, world.student.pk)).status_code == 404, name
    assert client.get(f"/api/v1/schools/{world.school.slug}/diary/students").json()["items"] == []
    assert client.get(reverse("diary:index", args=[world.school.slug])).status_code == 404
    assert client.get(reverse("journal:download_file", args=[world.school.slug, diary.file_id])).status_code == 404


def test_a_link_that_ends_in_the_future_still_sees(world, diary, as_user):
    GuardianLink.objects.filter(guardian=world.parent).update(ended_on=dt.date.today() + dt.timedelta(days=3))
    assert as_user(world.parent).get(page_url(world, "week", world.student.pk)).status_code == 200


def test_a_parent_of_two_sees_both_and_nobody_else(world, diary, as_user):
    second = f.make_student(world.class_b)
    GuardianLink.objects.create(school=world.school, guardian=world.parent, student=second)
    client = as_user(world.parent)
    people = client.get(f"/api/v1/schools/{world.school.slug}/diary/students").json()["items"]
    assert {p["id"] for p in people} == {world.student.pk, second.pk}
    assert client.get(page_url(world, "week", second.pk)).status_code == 200
    assert client.get(page_url(world, "week", world.other_student.pk)).status_code == 404
    index = client.get(reverse("diary:index", args=[world.school.slug]))
    assert index.status_code == 200 and len(index.context["people"]) == 2


def test_a_class_teacher_sees_only_current_students_of_their_class(world, diary, as_user):
    client = as_user(world.class_teacher)
    people = client.get(f"/api/v1/schools/{world.school.slug}/diary/students").json()["items"]
    assert {p["id"] for p in people} == {world.student.pk}
    # A student who left the class drops out of the preview.
    world.student.enrolments.update(end=dt.date(2026, 11, 1))
    assert client.get(page_url(world, "week", world.student.pk)).status_code == 404


def test_class_letters_are_the_class_teachers_only(world, diary, as_user):
    for name in ["class_letters", "class_letters_pdf"]:
        url = reverse(f"diary:{name}", args=[world.school.slug, world.class_a.pk])
        assert as_user(world.class_teacher).get(url).status_code == 200
        for persona in [
            "teacher",
            "other_teacher",
            "parent",
            "student",
            "admin",
            "director",
            "viewer",
            "foreign_admin",
        ]:
            assert as_user(world.persona(persona)).get(url).status_code == 404, persona
        other = reverse(f"diary:{name}", args=[world.school.slug, world.class_b.pk])
        assert as_user(world.class_teacher).get(other).status_code == 404
        foreign = reverse(f"diary:{name}", args=[world.school.slug, world.foreign_class.pk])
        assert as_user(world.class_teacher).get(foreign).status_code == 404


def test_homework_files_follow_the_same_rule(world, diary, as_user):
    own = reverse("journal:download_file", args=[world.school.slug, diary.file_id])
    other = reverse("journal:download_file", args=[world.school.slug, diary.other_file_id])
    for user in (world.parent, world.student.user):
        response = as_user(user).get(own)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"%PDF-1.4 task"
    for persona in ["parent", "student"]:
        assert as_user(world.persona(persona)).get(other).status_code == 404
    for persona in ["other_parent", "other_student", "foreign_student"]:
        assert as_user(world.persona(persona)).get(own).status_code == 404
    # The file of another class never appears in the diary either.
    week = as_user(world.parent).get(page_url(world, "week", world.student.pk))
    assert b"task.pdf" in week.content and b"other.pdf" not in week.content


def test_bad_dates_and_periods_are_404_not_500(world, diary, as_user):
    client = as_user(world.parent)
    for day in ["2026-13-01", "yesterday", "0001-01-01", "9999-12-31"]:
        url = reverse("diary:week", args=[world.school.slug, world.student.pk, day])
        assert client.get(url).status_code == 404, day
    other_period = f.PeriodFactory(year=world.foreign_class.year)
    for bad in ["abc", "-1", str(other_period.pk), "99999999"]:
        url = reverse("diary:marks", args=[world.school.slug, world.student.pk]) + f"?period={bad}"
        assert client.get(url).status_code == 404, bad
    api = api_url(world, "week", world.student.pk) + "?date=0001-01-01"
    assert client.get(api).status_code == 422
    assert client.get(api_url(world, "marks", world.student.pk) + f"?period={other_period.pk}").status_code == 404
    assert client.get(api_url(world, "marks", world.student.pk) + "?period=x").status_code == 422
