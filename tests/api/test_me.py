"""/api/v1/me: who the caller is, and their interface language."""

from __future__ import annotations

import pytest
from django.test import Client

from classbook.people import credentials


def test_me_lists_the_callers_schools(world, as_user):
    body = as_user(world.teacher).get("/api/v1/me").json()
    assert body["username"] == "teacher"
    assert body["two_factor"] is False
    assert [s["slug"] for s in body["schools"]] == ["lyceum-1"]


def test_me_changes_the_language_with_a_token(world):
    _row, token = credentials.create_api_token(user=world.parent, name="app")
    response = Client().patch(
        "/api/v1/me", {"language": "ru"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200
    assert response.json()["language"] == "ru"
    world.parent.refresh_from_db()
    assert world.parent.language == "ru"


@pytest.mark.parametrize("payload", [{"language": "xx"}, {"language": ""}, {}, {"language": "r" * 1000}])
def test_me_refuses_unknown_languages(world, as_user, payload):
    response = as_user(world.parent).patch("/api/v1/me", payload, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"]
    world.parent.refresh_from_db()
    assert world.parent.language == ""


def test_anonymous_me_is_401(db):
    assert Client().get("/api/v1/me").status_code == 401
