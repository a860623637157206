"""The session and its user are read in one statement (issue 10, ``people/sessions.py``), and every check
Django makes still holds at once: a deactivated account, a raised ``session_version`` (a new password, all
sessions ended), an ended session; a session without its ``UserSession`` row is read as Django reads it."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.people.models import User, UserSession


def _page(client):
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    return response, [q["sql"] for q in captured.captured_queries]


def test_the_session_and_its_user_are_one_statement(world, as_user):
    client = as_user(world.teacher)
    client.get("/")  # the session's bookkeeping done once
    response, statements = _page(client)
    assert response.wsgi_request.user == world.teacher
    first = statements[0]
    assert "django_session" in first and "people_user" in first, first
    # the user is not read again on its own
    assert not [s for s in statements[1:] if s.lstrip().startswith("SELECT") and 'FROM "people_user"' in s]


def test_a_deactivated_account_or_a_new_session_version_ends_the_session_at_once(world, as_user):
    client = as_user(world.teacher)
    assert client.get("/").wsgi_request.user.is_authenticated
    User.objects.filter(pk=world.teacher.pk).update(session_version=7)  # as a new password or "end all sessions"
    response = client.get("/")
    assert not response.wsgi_request.user.is_authenticated
    assert not client.get("/").wsgi_request.user.is_authenticated  # the session was flushed

    client = as_user(world.parent)
    assert client.get("/").wsgi_request.user.is_authenticated
    User.objects.filter(pk=world.parent.pk).update(is_active=False)
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_a_session_without_its_login_row_is_read_as_django_reads_it(world, as_user):
    client = as_user(world.teacher)
    client.get("/")
    UserSession.objects.filter(user=world.teacher).delete()
    response, statements = _page(client)
    assert response.wsgi_request.user == world.teacher
    assert any('FROM "people_user"' in s for s in statements[1:])  # one more statement, same answer
