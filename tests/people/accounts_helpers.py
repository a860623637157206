"""Helpers of the account tests (issue 9): real logins, real tokens, and commits that run their hooks."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.urls import reverse

from classbook.people import credentials
from tests.factories import PASSWORD

LOGIN = "/accounts/login/"
PROFILE = "/accounts/profile/"

# Everyone but an administrator of every school of the person: refused account actions (404 or 403).
REFUSED = [
    "teacher",
    "class_teacher",
    "director",
    "deputy",
    "secretary",
    "foreign_admin",
    "student",
    "parent",
    "viewer",
]


def logged_in(username: str, password: str = PASSWORD, agent: str = "browser") -> Client:
    """A browser that logged in through the login page (so the session is recorded like a real one)."""
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(reverse("people:login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content[:300]
    assert client.get(PROFILE).status_code == 200
    return client


def gets_login_page(client: Client) -> bool:
    response = client.get(PROFILE)
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


def token_for(user) -> str:
    return credentials.create_api_token(user=user, name="script")[1]


def token_status(token: str) -> int:
    return Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code


def run_commit_hooks() -> None:
    """Run every pending on-commit callback, as a real COMMIT would (the test transaction never commits)."""
    while connection.run_on_commit:
        hooks, connection.run_on_commit = connection.run_on_commit, []
        for _sids, func, _robust in hooks:
            func()
