"""Every credential event ends the person's access and tells them (issue 9): redeeming a code, changing the
password, switching off or resetting two-factor login, deactivation. Old session cookies get the login page,
old API tokens get 401, the person gets an in-app notice and an e-mail naming who did it and when."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from classbook.core.models import AuditEntry
from classbook.notifications.models import Kind, Notification
from classbook.notifications.services import set_preferences
from classbook.people import credentials
from classbook.people.models import ApiToken, TOTPDevice, UserSession
from tests.factories import PASSWORD
from tests.people.accounts_helpers import gets_login_page, logged_in, run_commit_hooks, token_for, token_status

NEW_PASSWORD = "a-new-long-password-42"


@pytest.fixture
def teacher(world):
    world.teacher.email = "teacher@example.org"
    world.teacher.save(update_fields=["email"])
    return world.teacher


def _totp(user) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    TOTPDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
    credentials.new_recovery_codes(user=user)
    return pyotp.TOTP(secret)


def _redeem_code(world, teacher):
    issued = credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[teacher])[0]
    client = Client()
    client.post(reverse("people:activate"), {"code": issued.code})
    response = client.post(
        reverse("people:activate_password"), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    return teacher, world.admin  # the person redeemed it; the issuer is named in the notice


def _change_password(world, teacher):
    client = logged_in("teacher", agent="this device")
    response = client.post(
        reverse("people:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    return teacher, teacher


def _disable_totp(world, teacher):
    totp = _totp(teacher)
    client = _login_then_2fa("teacher", totp)
    assert client.get(reverse("people:profile")).status_code == 200
    totp_next = pyotp.TOTP(totp.secret)
    # The login used this time step's code; a code is accepted once, so wait for the next step's.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=30)):
        response = client.post(reverse("people:two_factor"), {"code": totp_next.now(), "action": "disable"})
    assert response.status_code == 302 and response["Location"] == reverse("people:login")
    assert gets_login_page(client)  # every session ends, this one too
    return teacher, teacher


def _reset_totp(world, teacher):
    _totp(teacher)
    response = logged_in("admin").post(
        reverse("school_people:account_two_factor_reset", kwargs={"school": world.school.slug, "user_id": teacher.pk}),
        {"reason": "Lost phone", "password": PASSWORD},
    )
    assert response.status_code == 302
    return world.admin, world.admin


def _deactivate(world, teacher):
    response = logged_in("admin").post(
        reverse("school_people:account_deactivate", kwargs={"school": world.school.slug, "user_id": teacher.pk}),
        {"reason": "Left the school"},
    )
    assert response.status_code == 302
    return world.admin, world.admin


EVENTS = {
    "code_redeemed": _redeem_code,
    "password_changed": _change_password,
    "totp_disabled": _disable_totp,
    "totp_reset": _reset_totp,
    "deactivated": _deactivate,
}


def _login_then_2fa(username: str, totp: pyotp.TOTP | None) -> Client:
    client = logged_in(username) if totp is None else Client()
    if totp is not None:
        client.post(reverse("people:login"), {"username": username, "password": PASSWORD})
        client.post(reverse("people:login_verify"), {"code": totp.now()})
    return client


@pytest.mark.parametrize("event", EVENTS)
def test_credential_event_ends_every_session_and_token_and_tells_the_person(world, teacher, event):
    phone, school_pc = logged_in("teacher", agent="Phone"), logged_in("teacher", agent="School PC")
    tokens = [token_for(teacher), token_for_named(teacher, "backup")]
    assert all(token_status(t) == 200 for t in tokens)
    mail.outbox.clear()

    actor, named = EVENTS[event](world, teacher)
    run_commit_hooks()

    assert gets_login_page(phone) and gets_login_page(school_pc)
    assert school_pc.get("/api/v1/me").status_code == 401
    assert [token_status(t) for t in tokens] == [401, 401]
    assert not ApiToken.objects.filter(user=teacher, revoked_at__isnull=True).exists()
    revoked = AuditEntry.objects.filter(action="people.api_token.revoked", data__reason=event)
    assert revoked.count() == 2 and {e.actor_id for e in revoked} == {actor.pk}
    assert not UserSession.objects.filter(user=teacher, user_agent__in=["Phone", "School PC"]).exists()

    notice = Notification.objects.get(user=teacher, kind=Kind.ACCOUNT)
    assert notice.params["event"] == event
    assert named.full_name in (notice.params["actor"], notice.params["issuer"])
    [message] = [m for m in mail.outbox if m.to == ["teacher@example.org"]]
    assert named.full_name in message.body
    assert timezone.localtime(notice.created_at).strftime("%d.%m.%Y") in message.body


def token_for_named(user, name: str) -> str:
    return credentials.create_api_token(user=user, name=name)[1]


def test_own_password_change_keeps_only_this_session_under_a_new_key(world, teacher):
    other = logged_in("teacher", agent="Phone")
    this = logged_in("teacher", agent="This PC")
    old_cookie = this.cookies["sessionid"].value
    response = this.post(
        reverse("people:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert this.get(reverse("people:profile")).status_code == 200
    assert gets_login_page(other)
    stolen = Client()
    stolen.cookies["sessionid"] = old_cookie
    assert gets_login_page(stolen)  # a copy of this session's old cookie is worthless too
    assert UserSession.objects.get(user=teacher).session_key == this.cookies["sessionid"].value
    assert AuditEntry.objects.filter(action="people.password.changed", actor=teacher).count() == 1


def test_a_wrong_old_password_changes_nothing_and_ends_nothing(world, teacher):
    other = logged_in("teacher", agent="Phone")
    token = token_for(teacher)
    this = logged_in("teacher")
    response = this.post(
        reverse("people:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    run_commit_hooks()
    assert response.status_code == 200
    assert this.get(reverse("people:profile")).status_code == 200
    assert other.get(reverse("people:profile")).status_code == 200
    assert token_status(token) == 200
    assert not Notification.objects.filter(kind=Kind.ACCOUNT).exists()


def test_a_wrong_code_does_not_switch_off_two_factor_nor_end_anything(world, teacher):
    totp = _totp(teacher)
    client = _login_then_2fa("teacher", totp)
    token = token_for(teacher)
    response = client.post(reverse("people:two_factor"), {"code": "000000", "action": "disable"})
    run_commit_hooks()
    assert response.status_code == 200
    assert TOTPDevice.objects.filter(user=teacher).exists()
    assert client.get(reverse("people:profile")).status_code == 200
    assert token_status(token) == 200
    assert not Notification.objects.filter(kind=Kind.ACCOUNT).exists()


def test_redeeming_a_code_keeps_two_factor_and_asks_for_the_authenticator(world, teacher):
    totp = _totp(teacher)
    _redeem_code(world, teacher)
    assert TOTPDevice.objects.filter(user=teacher).exists()
    assert credentials.unused_recovery_codes(teacher) == credentials.RECOVERY_CODE_COUNT
    assert not AuditEntry.objects.filter(action="people.totp.reset").exists()
    # The new password alone does not log in: the second step still asks for the authenticator.
    client = Client()
    response = client.post(reverse("people:login"), {"username": "teacher", "password": NEW_PASSWORD})
    assert response["Location"] == reverse("people:login_verify")
    assert client.get(reverse("people:profile")).status_code == 302
    client.post(reverse("people:login_verify"), {"code": totp.now()})
    assert client.get(reverse("people:profile")).status_code == 200


def test_account_notices_cannot_be_switched_off(world, teacher):
    with pytest.raises(Exception, match="Unknown kind"):
        set_preferences(
            acting_user=teacher,
            items=[{"kind": Kind.ACCOUNT, "in_app": False, "email": False, "telegram": False, "digest": False}],
        )
    _deactivate(world, teacher)
    run_commit_hooks()
    assert Notification.objects.filter(user=teacher, kind=Kind.ACCOUNT).exists()


def test_the_deactivated_person_is_told_by_e_mail_with_who_when_and_why(world, teacher):
    _deactivate(world, teacher)
    run_commit_hooks()
    teacher.refresh_from_db()
    assert not teacher.is_active
    [message] = mail.outbox
    assert message.to == ["teacher@example.org"]
    assert message.subject == "Your account was deactivated"
    assert world.admin.full_name in message.body and "Left the school" in message.body
    notice = Notification.objects.get(user=teacher, kind=Kind.ACCOUNT)
    assert notice.school_id == world.school.pk and notice.read_at is None


def test_the_notice_is_written_in_the_persons_language(world, teacher):
    teacher.language = "uk"
    teacher.save(update_fields=["language"])
    _deactivate(world, teacher)
    run_commit_hooks()
    [message] = mail.outbox
    assert message.subject == "Ваш обліковий запис деактивовано"


def test_a_self_service_notice_lands_in_the_persons_school(world, teacher):
    _change_password(world, teacher)
    run_commit_hooks()
    notice = Notification.objects.get(user=teacher, kind=Kind.ACCOUNT)
    assert notice.school_id == world.school.pk
    assert notice.params["actor"] == teacher.full_name and notice.params["by_self"] is True


def test_an_operator_without_a_school_is_told_by_e_mail(db):
    from tests.factories import UserFactory

    operator = UserFactory(username="operator", email="op@example.org")
    client = logged_in("operator")
    client.post(
        reverse("people:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    run_commit_hooks()
    assert [m.to for m in mail.outbox] == [["op@example.org"]]
    assert not Notification.objects.filter(user=operator).exists()


def test_the_notice_is_in_the_persons_inbox_after_a_reset(world, teacher):
    _reset_totp(world, teacher)
    run_commit_hooks()
    inbox = logged_in("teacher").get(reverse("notifications:inbox", kwargs={"school": world.school.slug}))
    html = inbox.content.decode()
    assert "Two-factor login was reset" in html and escape(world.admin.full_name) in html and "Lost phone" in html


@pytest.mark.parametrize("event", ["code_redeemed", "totp_reset", "totp_disabled"])
def test_a_session_missing_from_the_sessions_list_ends_too(world, teacher, event):
    """The session hash carries ``User.session_version``: a session the list does not know (or a cache
    still holds) is refused at its next request."""
    unknown = logged_in("teacher", agent="Unknown")
    UserSession.objects.filter(user=teacher).delete()
    EVENTS[event](world, teacher)
    assert gets_login_page(unknown)
    assert unknown.get("/api/v1/me").status_code == 401


def test_sessions_made_before_any_credential_event_stay_valid(world, teacher):
    teacher.refresh_from_db()
    assert teacher.session_version == 0
    assert logged_in("teacher").get(reverse("people:profile")).status_code == 200
