"""The administrator's two-factor reset (issue 9): its own action, never a side effect of a code; needs the
administrator's password (and own code), a reason; audited; ends the person's access; tells them."""

from __future__ import annotations

import pyotp
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.notifications.models import Kind, Notification
from classbook.people import credentials
from classbook.people.models import LoginFailure, Membership, RecoveryCode, Role, TOTPDevice, UserSession
from tests.factories import PASSWORD
from tests.people.accounts_helpers import (
    REFUSED,
    gets_login_page,
    logged_in,
    run_commit_hooks,
    token_for,
    token_status,
)


def page(world, user, school=None) -> str:
    slug = (school or world.school).slug
    return reverse("school_people:account_two_factor_reset", kwargs={"school": slug, "user_id": user.pk})


def api(world, user) -> str:
    return f"/api/v1/schools/{world.school.slug}/accounts/{user.pk}/two-factor-reset"


def with_totp(user) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    TOTPDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
    credentials.new_recovery_codes(user=user)
    return pyotp.TOTP(secret)


def nothing_written(user, audit_before: int) -> bool:
    return (
        TOTPDevice.objects.filter(user=user).exists()
        and RecoveryCode.objects.filter(user=user).count() == credentials.RECOVERY_CODE_COUNT
        and AuditEntry.objects.count() == audit_before
        and not Notification.objects.filter(kind=Kind.ACCOUNT).exists()
    )


@pytest.fixture
def teacher(world):
    world.teacher.email = "teacher@example.org"
    world.teacher.save(update_fields=["email"])
    with_totp(world.teacher)
    return world.teacher


@pytest.mark.parametrize("door", ["page", "api"])
def test_administrator_resets_two_factor_with_password_and_reason(world, teacher, as_user, door):
    token = token_for(teacher)
    UserSession.objects.create(user=teacher, session_key="x" * 32)
    if door == "page":
        admin = logged_in("admin")
        assert admin.get(page(world, teacher)).status_code == 200
        response = admin.post(page(world, teacher), {"reason": "Lost phone", "password": PASSWORD})
        assert response.status_code == 302
    else:
        response = as_user(world.admin).post(
            api(world, teacher), {"reason": "Lost phone", "password": PASSWORD}, content_type="application/json"
        )
        assert response.status_code == 200 and response.json()["has_two_factor"] is False
    run_commit_hooks()
    assert not TOTPDevice.objects.filter(user=teacher).exists()
    assert not RecoveryCode.objects.filter(user=teacher).exists()
    entry = AuditEntry.objects.get(action="people.totp.reset")
    assert (entry.actor_id, entry.object_id, entry.school_id) == (world.admin.pk, str(teacher.pk), world.school.pk)
    assert entry.data == {"reason": "Lost phone"}
    assert token_status(token) == 401
    assert not UserSession.objects.filter(user=teacher).exists()
    [message] = mail.outbox
    assert message.to == ["teacher@example.org"] and world.admin.full_name in message.body
    assert "Lost phone" in message.body
    # The person now logs in with the password alone.
    assert logged_in("teacher").get("/accounts/profile/").status_code == 200


def test_the_persons_sessions_end(world, teacher):
    totp = pyotp.TOTP(TOTPDevice.objects.get(user=teacher).secret)
    from django.test import Client

    phone = Client()
    phone.post(reverse("people:login"), {"username": "teacher", "password": PASSWORD})
    phone.post(reverse("people:login_verify"), {"code": totp.now()})
    assert phone.get("/accounts/profile/").status_code == 200
    logged_in("admin").post(page(world, teacher), {"reason": "Lost phone", "password": PASSWORD})
    assert gets_login_page(phone)


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_wrong_password_is_refused_and_writes_nothing(world, teacher, as_user, door):
    token = token_for(teacher)
    admin = logged_in("admin") if door == "page" else as_user(world.admin)
    before = AuditEntry.objects.count()
    if door == "page":
        response = admin.post(page(world, teacher), {"reason": "Lost phone", "password": "wrong"})
        assert response.status_code == 400
        assert "not correct" in response.content.decode()
    else:
        response = admin.post(
            api(world, teacher), {"reason": "Lost phone", "password": "wrong"}, content_type="application/json"
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "reauthentication_failed"
    run_commit_hooks()
    assert nothing_written(teacher, before)
    assert token_status(token) == 200
    # Only the failed attempt is counted, for the throttle.
    assert LoginFailure.objects.filter(username="admin").count() == 1


def test_an_administrator_with_two_factor_must_type_their_own_code(world, teacher, as_user):
    admin_totp = with_totp(world.admin)
    client = as_user(world.admin)
    before = AuditEntry.objects.count()
    for code in ("", "000000", pyotp.TOTP(TOTPDevice.objects.get(user=teacher).secret).now()):
        body = {"reason": "Lost phone", "password": PASSWORD, "code": code}
        assert client.post(api(world, teacher), body, content_type="application/json").status_code == 422
    assert nothing_written(teacher, before)
    body = {"reason": "Lost phone", "password": PASSWORD, "code": admin_totp.now()}
    assert client.post(api(world, teacher), body, content_type="application/json").status_code == 200
    assert not TOTPDevice.objects.filter(user=teacher).exists()


def test_reauthentication_is_throttled(world, teacher, as_user, settings):
    settings.CLASSBOOK_LOGIN_MAX_FAILURES = 3
    client = as_user(world.admin)
    for _ in range(3):
        body = {"reason": "x", "password": "guess"}
        client.post(api(world, teacher), body, content_type="application/json")
    right = client.post(api(world, teacher), {"reason": "x", "password": PASSWORD}, content_type="application/json")
    assert right.status_code == 422 and right.json()["error"]["code"] == "throttled"
    assert TOTPDevice.objects.filter(user=teacher).exists()


def test_a_reason_is_required(world, teacher, as_user):
    admin = logged_in("admin")
    before = AuditEntry.objects.count()
    page_response = admin.post(page(world, teacher), {"reason": "", "password": PASSWORD})
    assert page_response.status_code == 400
    call = as_user(world.admin).post(
        api(world, teacher), {"reason": " ", "password": PASSWORD}, content_type="application/json"
    )
    assert call.status_code == 422
    assert nothing_written(teacher, before)


def test_a_person_without_two_factor_is_refused_with_a_message(world, as_user):
    call = as_user(world.admin).post(
        api(world, world.parent), {"reason": "x", "password": PASSWORD}, content_type="application/json"
    )
    assert call.status_code == 422 and call.json()["error"]["code"] == "no_two_factor"
    assert not AuditEntry.objects.filter(action="people.totp.reset").exists()


@pytest.mark.parametrize("persona", [*REFUSED, "anonymous"])
@pytest.mark.parametrize("target", ["parent", "other_teacher"])
def test_only_an_administrator_of_every_school_of_the_person_resets(world, as_user, persona, target):
    person = world.persona(target)
    with_totp(person)
    actor = world.persona(persona)
    client = as_user(actor)
    before = AuditEntry.objects.count()
    get = client.get(page(world, person))
    post = client.post(page(world, person), {"reason": "x", "password": PASSWORD})
    call = client.post(api(world, person), {"reason": "x", "password": PASSWORD}, content_type="application/json")
    if persona == "anonymous":
        assert get.status_code == post.status_code == 302 and call.status_code == 401
    else:
        assert {get.status_code, post.status_code, call.status_code} <= {403, 404}
    assert nothing_written(person, before)


def test_an_administrator_cannot_reset_a_parent_who_is_staff_elsewhere(world, as_user):
    """The account-takeover shape of issue 9: an administrator weakening the login of another school's staff."""
    Membership.objects.create(school=world.other_school, user=world.parent, role=Role.ADMIN)
    with_totp(world.parent)
    admin = logged_in("admin")
    before = AuditEntry.objects.count()
    assert admin.post(page(world, world.parent), {"reason": "x", "password": PASSWORD}).status_code == 404
    call = as_user(world.admin).post(
        api(world, world.parent), {"reason": "x", "password": PASSWORD}, content_type="application/json"
    )
    assert call.status_code == 404
    assert nothing_written(world.parent, before)
    # Through the other school's door, the same: our administrator has no role there.
    assert admin.get(page(world, world.parent, school=world.other_school)).status_code == 404


def test_an_administrator_cannot_reset_their_own_two_factor_here(world, as_user):
    with_totp(world.admin)
    call = as_user(world.admin).post(
        api(world, world.admin), {"reason": "x", "password": PASSWORD}, content_type="application/json"
    )
    assert call.status_code == 404
    assert TOTPDevice.objects.filter(user=world.admin).exists()


def test_the_list_offers_the_reset_only_to_people_with_two_factor(world, teacher):
    url = reverse("school_people:accounts", kwargs={"school": world.school.slug})
    html = logged_in("admin").get(url).content.decode()
    assert page(world, teacher) in html
    assert page(world, world.parent) not in html


def test_the_page_asks_for_the_administrators_code_only_when_they_use_two_factor(world, teacher):
    admin = logged_in("admin")
    assert 'name="code"' not in admin.get(page(world, teacher)).content.decode()
    admin_totp = with_totp(world.admin)
    html = admin.get(page(world, teacher)).content.decode()
    assert 'name="code"' in html
    response = admin.post(page(world, teacher), {"reason": "Lost phone", "password": PASSWORD})
    assert response.status_code == 400 and TOTPDevice.objects.filter(user=teacher).exists()
    response = admin.post(
        page(world, teacher), {"reason": "Lost phone", "password": PASSWORD, "code": admin_totp.now()}
    )
    assert response.status_code == 302 and not TOTPDevice.objects.filter(user=teacher).exists()
