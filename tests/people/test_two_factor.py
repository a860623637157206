"""Setting up and switching off two-factor login on the profile (R1.5)."""

from __future__ import annotations

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.people.models import TOTPDevice

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
    assert response.status_code == 302
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
    response = client.post(reverse("people:two_factor"), {"code": device.now()})
    assert response.status_code == 302
    assert not TOTPDevice.objects.exists()
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
