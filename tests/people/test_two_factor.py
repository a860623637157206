"""Setting up and switching off two-factor login on the profile (R1.5)."""

from __future__ import annotations

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import RecoveryCode, TOTPDevice

URL = "/accounts/two-factor/"


def test_setup_shows_secret_and_qr_and_is_confirmed_with_a_code(world, as_user):
    client = as_user(world.teacher)
    response = client.get(reverse("people:two_factor"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    secret = client.session["classbook_totp_setup_secret"]
    assert secret[:4] in html
    assert not TOTPDevice.objects.exists()  # nothing stored before confirmation
    # Reloading keeps the same secret (the phone may already have scanned it).
    client.get(reverse("people:two_factor"))
    assert client.session["classbook_totp_setup_secret"] == secret
    response = client.post(reverse("people:two_factor"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert len(response.context["codes"]) == 10  # recovery codes, shown once
    assert response["Cache-Control"] == "no-store"
    device = TOTPDevice.objects.get(user=world.teacher)
    assert device.secret == secret and device.confirmed_at is not None
    assert AuditEntry.objects.filter(action="people.totp.enabled", actor=world.teacher).exists()
    assert "classbook_totp_setup_secret" not in client.session


@pytest.mark.parametrize("code", ["000000", "12345", "abcdef", "1" * 500, ""])
def test_setup_with_a_wrong_code_stores_nothing(world, as_user, code):
    client = as_user(world.teacher)
    client.get(reverse("people:two_factor"))
    response = client.post(reverse("people:two_factor"), {"code": code})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not TOTPDevice.objects.exists()


@pytest.fixture
def device(world):
    secret = pyotp.random_base32()
    TOTPDevice.objects.create(user=world.teacher, secret=secret, confirmed_at=timezone.now())
    return pyotp.TOTP(secret)


def test_switching_off_needs_a_current_code(world, as_user, device):
    client = as_user(world.teacher)
    response = client.post(reverse("people:two_factor"), {"code": "000000"})
    assert response.status_code == 200
    assert TOTPDevice.objects.exists()
    response = client.post(reverse("people:two_factor"), {"code": device.now(), "action": "disable"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()
    assert not RecoveryCode.objects.exists()
    assert AuditEntry.objects.filter(action="people.totp.disabled").exists()


def test_switching_off_is_refused_where_the_school_requires_it(world, as_user, device):
    world.school.require_staff_2fa = True
    world.school.save()
    response = as_user(world.teacher).post(reverse("people:two_factor"), {"code": device.now()})
    assert response.status_code == 200
    assert "requires two-factor" in response.content.decode()
    assert TOTPDevice.objects.exists()


def test_two_factor_page_needs_login(db, as_user):
    assert as_user(None).get(reverse("people:two_factor")).status_code == 302


# --- recovery codes ---------------------------------------------------------------------


def login_until_second_step(username="teacher"):
    from django.test import Client

    from tests.factories import PASSWORD

    client = Client()
    client.post(reverse("people:login"), {"username": username, "password": PASSWORD})
    return client


def test_a_recovery_code_passes_the_second_step_once(world, device):
    codes = credentials.new_recovery_codes(user=world.teacher)
    assert RecoveryCode.objects.filter(user=world.teacher).count() == 10
    assert not RecoveryCode.objects.filter(code_hash__in=[c.replace("-", "") for c in codes]).exists()
    client = login_until_second_step()
    response = client.post(reverse("people:login_verify"), {"code": codes[0].lower()})
    assert response.status_code == 302
    assert client.get(reverse("people:profile")).status_code == 200
    again = login_until_second_step()
    response = again.post(reverse("people:login_verify"), {"code": codes[0]})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert credentials.unused_recovery_codes(world.teacher) == 9


def test_someone_elses_recovery_code_does_not_work(world, device):
    theirs = credentials.new_recovery_codes(user=world.director)
    response = login_until_second_step().post(reverse("people:login_verify"), {"code": theirs[0]})
    assert response.status_code == 200
    assert credentials.unused_recovery_codes(world.director) == 10


def test_new_recovery_codes_need_a_current_code_and_replace_the_old_ones(world, as_user, device):
    old = credentials.new_recovery_codes(user=world.teacher)
    client = as_user(world.teacher)
    response = client.post(reverse("people:two_factor"), {"code": "000000", "action": "recovery_codes"})
    assert response.status_code == 200 and "codes" not in response.context
    response = client.post(reverse("people:two_factor"), {"code": device.now(), "action": "recovery_codes"})
    new = response.context["codes"]
    assert set(new).isdisjoint(old)
    assert not credentials.use_recovery_code(user=world.teacher, code=old[0])
    assert credentials.use_recovery_code(user=world.teacher, code=new[0])
