"""Seeing and ending one's sessions; the staff idle timeout (R1.5)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classbook.people.models import UserSession
from tests.factories import PASSWORD

PROFILE = "/accounts/profile/"


def logged_in(username, agent="browser"):
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("people:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_profile_lists_sessions_and_marks_this_device(world):
    phone = logged_in("teacher", "Phone")
    logged_in("teacher", "School PC")
    response = phone.get(PROFILE)
    sessions = response.context["sessions"]
    assert {s.user_agent for s in sessions} == {"Phone", "School PC"}
    html = response.content.decode()
    assert "this device" in html
    assert html.count("/end/") == 1  # only the other session has an "end" button


def test_ending_another_session_logs_that_device_out(world):
    phone = logged_in("teacher", "Phone")
    school_pc = logged_in("teacher", "School PC")
    other = UserSession.objects.get(user_agent="School PC")
    response = phone.post(reverse("people:end_session", kwargs={"pk": other.pk}))
    assert response.status_code == 302
    assert school_pc.get(PROFILE).status_code == 302
    assert phone.get(PROFILE).status_code == 200
    assert not Session.objects.filter(session_key=other.session_key).exists()


def test_cannot_end_someone_elses_session(world):
    theirs = logged_in("director")
    mine = logged_in("teacher")
    their_session = UserSession.objects.get(user=world.director)
    mine.post(reverse("people:end_session", kwargs={"pk": their_session.pk}))
    assert theirs.get(PROFILE).status_code == 200


def test_end_all_other_sessions_keeps_this_one(world):
    phone = logged_in("teacher", "Phone")
    others = [logged_in("teacher", f"PC {i}") for i in range(3)]
    response = phone.post(reverse("people:end_other_sessions"), follow=True)
    assert "Other sessions ended: 3." in response.content.decode()
    assert phone.get(PROFILE).status_code == 200
    assert all(c.get(PROFILE).status_code == 302 for c in others)
    assert UserSession.objects.filter(user=world.teacher).count() == 1


def test_profile_page_query_count_does_not_grow_with_sessions(world, django_assert_max_num_queries):
    phone = logged_in("teacher", "Phone")
    phone.get(PROFILE)
    for i in range(10):
        logged_in("teacher", f"PC {i}")
    with django_assert_max_num_queries(8):
        assert phone.get(PROFILE).status_code == 200


def test_ending_sessions_needs_post_and_login(world):
    assert logged_in("teacher").get(reverse("people:end_other_sessions")).status_code == 405
    response = Client().post(reverse("people:end_other_sessions"))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- idle timeout -----------------------------------------------------------------------


@pytest.mark.parametrize(("idle_minutes", "away", "logged_out"), [(30, 29, False), (30, 31, True), (10, 11, True)])
def test_staff_session_ends_after_the_schools_idle_minutes(world, idle_minutes, away, logged_out):
    world.school.staff_idle_minutes = idle_minutes
    world.school.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in("teacher")
        assert client.get(PROFILE).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=away), tick=False):
        response = client.get(PROFILE)
    if logged_out:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("people:login"))
        assert "next=" in response["Location"]
        page = client.get(response["Location"])
        assert f"after {idle_minutes} minutes without activity" in page.content.decode()
    else:
        assert response.status_code == 200


def test_activity_keeps_a_staff_session_alive(world):
    start = timezone.now()
    client = logged_in("teacher")
    for step in range(1, 6):  # a request every 20 minutes for 100 minutes
        with time_machine.travel(start + dt.timedelta(minutes=20 * step), tick=False):
            assert client.get(PROFILE).status_code == 200


def test_strictest_school_wins_for_staff_of_two_schools(world):
    from classbook.people.models import Membership, Role

    world.other_school.staff_idle_minutes = 10
    world.other_school.save()
    Membership.objects.create(school=world.other_school, user=world.teacher, role=Role.TEACHER)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in("teacher")
        client.get(PROFILE)
    with time_machine.travel(start + dt.timedelta(minutes=11), tick=False):
        assert client.get(PROFILE).status_code == 302


@pytest.mark.parametrize("username", ["student", "parent"])
def test_students_and_parents_are_not_idle_logged_out(world, username):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in(username)
        client.get(PROFILE)
    with time_machine.travel(start + dt.timedelta(hours=8), tick=False):
        assert client.get(PROFILE).status_code == 200


def test_idle_timeout_on_the_api_answers_401_json(world):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in("teacher")
        assert client.get("/api/v1/me").status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_idle_timeout_on_a_post_redirects_without_next(world):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in("teacher")
        client.get(PROFILE)
    with time_machine.travel(start + dt.timedelta(minutes=31), tick=False):
        response = client.post(PROFILE, {"language": "ru"})
    assert response.status_code == 302
    world.teacher.refresh_from_db()
    assert world.teacher.language == ""


def test_changing_the_password_ends_the_other_sessions(world):
    phone = logged_in("teacher", "Phone")
    school_pc = logged_in("teacher", "School PC")
    new = "amber-glacier-compass-7"
    response = phone.post(
        reverse("people:password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert phone.get(PROFILE).status_code == 200
    assert school_pc.get(PROFILE).status_code == 302
    assert list(UserSession.objects.filter(user=world.teacher).values_list("user_agent", flat=True)) == ["Phone"]
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5)):
        assert phone.get(PROFILE).status_code == 200  # the rotated session key is still known


def test_expired_sessions_are_not_listed(world):
    phone = logged_in("teacher", "Phone")
    logged_in("teacher", "Old PC")
    Session.objects.exclude(session_key=phone.session.session_key).update(expire_date=timezone.now())
    assert [s.user_agent for s in phone.get(PROFILE).context["sessions"]] == ["Phone"]


def test_an_ended_staff_role_no_longer_sets_the_idle_limit(world):
    from classbook.people.models import Membership

    Membership.objects.filter(user=world.teacher).update(until=timezone.localdate() - dt.timedelta(days=1))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in("teacher")
        client.get(PROFILE)
    with time_machine.travel(start + dt.timedelta(hours=2), tick=False):
        assert client.get(PROFILE).status_code == 200


@pytest.mark.parametrize(
    ("agent", "label"),
    [
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0", "Firefox, Windows"),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0 Mobile Safari/537.36",
            "Chrome, Android",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.1 Mobile/15E148 Safari/604.1",
            "Safari, iPhone",
        ),
        ("curl/8.0", ""),
    ],
)
def test_sessions_show_a_readable_device_name(world, agent, label):
    client = logged_in("teacher", agent)
    html = client.get(PROFILE).content.decode()
    assert (label or "unknown device") in html


@pytest.fixture
def cached_sessions(settings):
    """The engine production runs with Redis: sessions read from the cache, written through to the table."""
    from django.core.cache import cache

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    cache.clear()
    yield
    cache.clear()


def test_ending_another_session_logs_that_device_out_with_cached_sessions(world, cached_sessions):
    phone = logged_in("teacher", "Phone")
    school_pc = logged_in("teacher", "School PC")
    assert school_pc.get(PROFILE).status_code == 200  # its session now sits in the cache
    other = UserSession.objects.get(user_agent="School PC")
    phone.post(reverse("people:end_session", kwargs={"pk": other.pk}))
    assert school_pc.get(PROFILE).status_code == 302
    assert phone.get(PROFILE).status_code == 200


def test_end_all_other_sessions_with_cached_sessions(world, cached_sessions):
    phone = logged_in("teacher", "Phone")
    others = [logged_in("teacher", f"PC {i}") for i in range(3)]
    assert all(c.get(PROFILE).status_code == 200 for c in others)
    phone.post(reverse("people:end_other_sessions"))
    assert phone.get(PROFILE).status_code == 200
    assert all(c.get(PROFILE).status_code == 302 for c in others)
