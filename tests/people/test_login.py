"""Login: throttling (R1.5), the two-factor step and required two-factor setup for staff."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.people.models import LoginFailure, TOTPDevice
from tests.factories import PASSWORD

THROTTLED = "Too many failed attempts"


def post_login(client, username, password, ip="10.0.0.1", agent="", **extra):
    data = {"username": username, "password": password, **extra}
    return client.post(reverse("people:login"), data, REMOTE_ADDR=ip, HTTP_USER_AGENT=agent)


def test_login_with_password_works_and_records_the_session(world):
    client = Client()
    response = post_login(client, "teacher", PASSWORD, agent="Firefox on a school PC")
    assert response.status_code == 302
    assert response.wsgi_request.user == world.teacher
    session = world.teacher.login_sessions.get()
    assert session.user_agent == "Firefox on a school PC"
    assert session.ip == "10.0.0.1"
    entry = AuditEntry.objects.get(action="people.login")
    assert entry.actor == world.teacher
    assert entry.data == {
        "ip": "10.0.0.1",
        "user_agent": "Firefox on a school PC",
        "method": "password",
        "device": "?@10.0.0.0/24",  # an unknown browser and system, on this network (the new-device check)
    }


@pytest.mark.parametrize("username", ["teacher", "nobody-by-this-name"])
def test_too_many_failures_for_a_username_refuse_even_the_right_password(world, settings, username):
    """The same refusal for an existing and an unknown username: the lockout tells nothing."""
    settings.CLASSBOOK_LOGIN_MAX_FAILURES = 3
    client = Client()
    for i in range(3):
        response = post_login(client, username, "wrong-password", ip=f"10.0.0.{i}")
        assert THROTTLED not in response.content.decode()
    response = post_login(client, username, PASSWORD, ip="10.0.0.99")
    assert response.status_code == 200
    assert THROTTLED in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated
    # Other people keep logging in.
    assert post_login(Client(), "director", PASSWORD, ip="10.0.0.99").status_code == 302


def test_throttle_ends_after_the_window(world, settings):
    settings.CLASSBOOK_LOGIN_MAX_FAILURES = 2
    settings.CLASSBOOK_LOGIN_WINDOW_MINUTES = 15
    for _ in range(2):
        post_login(Client(), "teacher", "wrong-password")
    assert THROTTLED in post_login(Client(), "teacher", PASSWORD).content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert post_login(Client(), "teacher", PASSWORD).status_code == 302


def test_too_many_failures_from_one_address_refuse_that_address(world, settings):
    settings.CLASSBOOK_LOGIN_MAX_FAILURES_PER_IP = 4
    for i in range(4):
        post_login(Client(), f"guess{i}", "wrong-password", ip="203.0.113.7")
    assert THROTTLED in post_login(Client(), "teacher", PASSWORD, ip="203.0.113.7").content.decode()
    assert post_login(Client(), "teacher", PASSWORD, ip="203.0.113.8").status_code == 302


def test_one_classroom_behind_one_address_is_not_locked_out_by_five_typos(world, settings):
    """A school reaches us from one address: the address limit is ten times the username limit."""
    for i in range(5):
        post_login(Client(), f"pupil{i}", "typo", ip="198.51.100.1")
    assert post_login(Client(), "student", PASSWORD, ip="198.51.100.1").status_code == 302


def test_successful_login_forgets_the_usernames_failures(world):
    post_login(Client(), "teacher", "wrong-password")
    post_login(Client(), "teacher", PASSWORD)
    assert not LoginFailure.objects.filter(username="teacher").exists()


# --- second step ------------------------------------------------------------------------


@pytest.fixture
def teacher_totp(world):
    secret = pyotp.random_base32()
    TOTPDevice.objects.create(user=world.teacher, secret=secret, confirmed_at=timezone.now())
    return pyotp.TOTP(secret)


def test_user_with_two_factor_is_not_logged_in_until_the_code_is_right(world, teacher_totp):
    client = Client()
    response = post_login(client, "teacher", PASSWORD, next="/accounts/profile/")
    assert response["Location"] == reverse("people:login_verify")
    assert client.get(reverse("people:profile")).status_code == 302  # not logged in yet
    response = client.post(reverse("people:login_verify"), {"code": "000000"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    response = client.post(reverse("people:login_verify"), {"code": teacher_totp.now()})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert client.get(reverse("people:profile")).status_code == 200


def test_a_used_code_cannot_be_replayed(world, teacher_totp):
    code = teacher_totp.now()
    first = Client()
    post_login(first, "teacher", PASSWORD)
    assert first.post(reverse("people:login_verify"), {"code": code}).status_code == 302
    second = Client()
    post_login(second, "teacher", PASSWORD)
    response = second.post(reverse("people:login_verify"), {"code": code})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_second_step_is_throttled(world, teacher_totp, settings):
    settings.CLASSBOOK_LOGIN_MAX_FAILURES = 3
    client = Client()
    post_login(client, "teacher", PASSWORD)
    for _ in range(3):
        client.post(reverse("people:login_verify"), {"code": "000000"})
    response = client.post(reverse("people:login_verify"), {"code": teacher_totp.now()})
    assert THROTTLED in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_login_goes_straight_to_the_start_page_without_a_redirect_chain(world):
    """One redirect after the password, not two (``/`` then the school): a round trip less on a phone."""
    dashboard = reverse("schools:dashboard", args=[world.school.slug])
    for extra in ({}, {"next": "/"}):
        response = post_login(Client(), "parent", PASSWORD, **extra)
        assert response["Location"] == dashboard, extra
    # An explicit page is kept; an offsite one is not followed; a logged-in visit to the login page moves on.
    client = Client()
    diary = reverse("diary:index", args=[world.school.slug])
    assert post_login(client, "parent", PASSWORD, next=diary)["Location"] == diary
    assert post_login(Client(), "parent", PASSWORD, next="https://evil.example/")["Location"] == dashboard
    assert client.get(reverse("people:login"))["Location"] == dashboard


def test_second_step_expires_and_needs_the_password_first(world, teacher_totp):
    assert Client().get(reverse("people:login_verify")).status_code == 302
    client = Client()
    post_login(client, "teacher", PASSWORD)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6)):
        response = client.post(reverse("people:login_verify"), {"code": teacher_totp.now()})
    assert response.status_code == 302
    assert response["Location"] == reverse("people:login")


def test_second_step_refuses_an_offsite_next(world, teacher_totp):
    client = Client()
    post_login(client, "teacher", PASSWORD, next="https://evil.example/")
    response = client.post(reverse("people:login_verify"), {"code": teacher_totp.now()})
    assert response["Location"] == "/"


# --- required two-factor setup ---------------------------------------------------------


@pytest.fixture
def school_requires_2fa(world):
    world.school.require_staff_2fa = True
    world.school.save()


def test_staff_without_a_device_is_held_on_the_setup_page(world, school_requires_2fa):
    client = Client()
    post_login(client, "teacher", PASSWORD)
    dashboard = reverse("schools:dashboard", kwargs={"school": world.school.slug})
    for url in (dashboard, reverse("people:profile"), reverse("school_people:codes", kwargs={"school": "lyceum-1"})):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("people:two_factor")
    response = client.get("/api/v1/me")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"
    assert client.get(reverse("people:two_factor")).status_code == 200
    # Finishing the setup lets the teacher in.
    secret = client.session["classbook_totp_setup_secret"]
    response = client.post(reverse("people:two_factor"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200  # the recovery codes
    assert client.get(dashboard).status_code == 200


def test_students_and_parents_are_not_held_by_the_staff_requirement(world, school_requires_2fa):
    for username in ("student", "parent"):
        client = Client()
        post_login(client, username, PASSWORD)
        assert client.get(reverse("people:profile")).status_code == 200


def test_a_requirement_switched_on_later_reaches_open_sessions(world):
    client = Client()
    post_login(client, "teacher", PASSWORD)
    assert client.get(reverse("people:profile")).status_code == 200
    world.school.require_staff_2fa = True
    world.school.save()
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=2)):
        assert client.get(reverse("people:profile"))["Location"] == reverse("people:two_factor")


def test_old_failures_are_pruned(world):
    LoginFailure.objects.create(username="teacher", at=timezone.now() - dt.timedelta(days=2))
    post_login(Client(), "teacher", "wrong-password")
    assert list(LoginFailure.objects.values_list("username", flat=True)) == ["teacher"]
    assert LoginFailure.objects.get().at > timezone.now() - dt.timedelta(minutes=1)
