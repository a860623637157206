"""Personal API tokens: the profile page and /api/v1/tokens (R1.5: personal credentials)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classbook.api.auth import hash_token
from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import ApiToken


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_token_hash_matches_the_api_authentication(world):
    row, token = credentials.create_api_token(user=world.teacher, name="script")
    assert row.token_hash == hash_token(token)
    assert token.startswith("cb_") and row.prefix == token[:10]


def test_token_authenticates_me(world):
    _row, token = credentials.create_api_token(user=world.teacher, name="script")
    response = Client().get("/api/v1/me", **bearer(token))
    assert response.status_code == 200
    assert response.json()["username"] == "teacher"
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("state", ["revoked", "expired", "wrong", "garbage", "inactive_user"])
def test_unusable_tokens_get_401_json(world, state):
    _row, token = credentials.create_api_token(user=world.teacher, name="script", expires_in_days=1)
    if state == "revoked":
        credentials.revoke_api_token(user=world.teacher, token_id=_row.pk)
    elif state == "wrong":
        token = token[:-2] + "xx"
    elif state == "garbage":
        token = "x" * 5000
    elif state == "inactive_user":
        world.teacher.is_active = False
        world.teacher.save()
    travel = dt.timedelta(days=2) if state == "expired" else dt.timedelta(0)
    with time_machine.travel(timezone.now() + travel):
        response = Client().get("/api/v1/me", **bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_api_lists_creates_and_revokes_own_tokens(world, as_user, django_assert_max_num_queries):
    client = as_user(world.teacher)
    for i in range(5):
        credentials.create_api_token(user=world.teacher, name=f"t{i}")
    credentials.create_api_token(user=world.director, name="not mine")
    client.get("/api/v1/me")  # the session's first request reads the policies
    with django_assert_max_num_queries(4):
        listed = client.get("/api/v1/tokens").json()["items"]
    assert sorted(t["name"] for t in listed) == [f"t{i}" for i in range(5)]
    assert all("token" not in t and "token_hash" not in t for t in listed)

    response = client.post("/api/v1/tokens", {"name": "backup", "expires_in_days": 30}, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["token"].startswith("cb_")
    assert Client().get("/api/v1/me", **bearer(body["token"])).status_code == 200

    assert client.delete(f"/api/v1/tokens/{body['id']}").status_code == 204
    assert Client().get("/api/v1/me", **bearer(body["token"])).status_code == 401
    assert AuditEntry.objects.filter(action="people.api_token.revoked", actor=world.teacher).count() == 1


def test_cannot_revoke_someone_elses_token(world, as_user):
    row, token = credentials.create_api_token(user=world.director, name="theirs")
    response = as_user(world.teacher).delete(f"/api/v1/tokens/{row.pk}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Client().get("/api/v1/me", **bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 81},
        {"name": "ok", "expires_in_days": 0},
        {"name": "ok", "expires_in_days": "x"},
    ],
)
def test_bad_token_requests_get_422_with_fields(world, as_user, payload):
    response = as_user(world.teacher).post("/api/v1/tokens", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


def test_duplicate_token_name_is_a_conflict(world, as_user):
    credentials.create_api_token(user=world.teacher, name="script")
    response = as_user(world.teacher).post("/api/v1/tokens", {"name": "script"}, content_type="application/json")
    assert response.status_code == 409
    assert ApiToken.objects.count() == 1


def test_a_token_cannot_mint_tokens(world):
    _row, token = credentials.create_api_token(user=world.teacher, name="script")
    response = Client().post("/api/v1/tokens", {"name": "child"}, content_type="application/json", **bearer(token))
    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_session_api_calls_that_change_state_need_csrf(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.teacher)
    response = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not ApiToken.objects.exists()
    client.get(reverse("people:profile"))  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201


def test_anonymous_api_gets_401(db):
    assert Client().get("/api/v1/tokens").status_code == 401


# --- profile page ---------------------------------------------------------------------


def test_profile_creates_a_token_shown_once(world, as_user):
    client = as_user(world.teacher)
    response = client.post(reverse("people:token_create"), {"name": "spreadsheet", "expires_in_days": ""})
    assert response.status_code == 200
    token = response.context["new_token"]
    assert token in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert Client().get("/api/v1/me", **bearer(token)).status_code == 200
    page = client.get(reverse("people:profile")).content.decode()
    assert "spreadsheet" in page and token not in page


def test_profile_refuses_a_duplicate_token_name(world, as_user):
    credentials.create_api_token(user=world.teacher, name="spreadsheet")
    response = as_user(world.teacher).post(reverse("people:token_create"), {"name": "spreadsheet"})
    assert response.status_code == 400
    assert response.context["token_form"].errors["name"]


def test_profile_revokes_own_token_only(world, as_user):
    mine, _ = credentials.create_api_token(user=world.teacher, name="mine")
    theirs, _ = credentials.create_api_token(user=world.director, name="theirs")
    client = as_user(world.teacher)
    assert client.post(reverse("people:token_revoke", kwargs={"pk": theirs.pk})).status_code == 404
    assert client.post(reverse("people:token_revoke", kwargs={"pk": mine.pk})).status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None


def test_token_of_staff_without_required_two_factor_is_refused(world):
    """A token made before the school required 2FA does not bypass the requirement (R1.5)."""
    _row, token = credentials.create_api_token(user=world.teacher, name="script")
    world.school.require_staff_2fa = True
    world.school.save()
    response = Client().get("/api/v1/me", **bearer(token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "two_factor_required"
    assert ApiToken.objects.get().last_used_at is None
    # A parent's token is not concerned by the staff requirement.
    _row, parent_token = credentials.create_api_token(user=world.parent, name="phone")
    assert Client().get("/api/v1/me", **bearer(parent_token)).status_code == 200
