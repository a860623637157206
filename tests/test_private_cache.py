"""Answers to a signed-in user are never kept by a shared or disk cache (``private, no-store``) unless the view
chose its own caching; the login page of an anonymous visitor is left alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

PAGES = [
    ("parent", "portfolios:index"),
    ("parent", "materials:index"),
    ("parent", "surveys:index"),
    ("teacher", "documents:index"),
    ("admin", "archive:index"),
    ("admin", "printing:index"),
    ("admin", "signing:certificate"),
    ("admin", "webhooks:list"),
    ("director", "oneroster_pages:index"),
]


@pytest.mark.parametrize(("persona", "name"), PAGES)
def test_private_pages_are_not_stored_by_any_cache(world, as_user, persona, name):
    response = as_user(world.persona(persona)).get(reverse(name, kwargs={"school": world.school.slug}))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_the_api_answers_a_token_or_a_session_with_no_store(world, as_user):
    response = as_user(world.parent).get("/api/v1/me")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"


def test_a_views_own_caching_is_kept_and_anonymous_pages_get_none(world, as_user, client):
    assert "must-revalidate" in client.get(reverse("people:login"))["Cache-Control"]  # never_cache's, kept
    assert "Cache-Control" not in client.get(reverse("materials:index", kwargs={"school": world.school.slug}))
    health = as_user(world.parent).get("/healthz")
    assert "no-cache" in health["Cache-Control"] and health["Cache-Control"] != "private, no-store"
