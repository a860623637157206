"""The interface language follows the user to every device."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

PROFILE = "/accounts/profile/"


def test_choosing_a_language_in_the_profile_sets_cookie_and_account(world, as_user):
    client = as_user(world.teacher)
    response = client.post(PROFILE, {"email": "", "phone": "", "language": "ru"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    world.teacher.refresh_from_db()
    assert world.teacher.language == "ru"
    page = client.get(PROFILE)
    assert page["Content-Language"] == "ru"
    assert '<html lang="ru">' in page.content.decode()


def test_the_users_language_wins_on_another_device(world, as_user):
    world.teacher.language = "en"
    world.teacher.save()
    other_device = as_user(world.teacher)
    other_device.cookies[settings.LANGUAGE_COOKIE_NAME] = "uk"
    response = other_device.get(PROFILE)
    assert response["Content-Language"] == "en"
    assert response.wsgi_request.LANGUAGE_CODE == "en"


def test_login_sets_the_cookie_to_the_users_language(world):
    world.teacher.language = "ru"
    world.teacher.save()
    from tests.factories import PASSWORD

    response = Client().post(reverse("people:login"), {"username": "teacher", "password": PASSWORD})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"


def test_header_switch_saves_the_language_of_a_logged_in_user(world, as_user):
    client = as_user(world.parent)
    response = client.post(reverse("people:set_language"), {"language": "ru", "next": "/accounts/profile/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    world.parent.refresh_from_db()
    assert world.parent.language == "ru"
    assert client.get(PROFILE)["Content-Language"] == "ru"


def test_header_switch_works_for_anonymous_visitors_with_the_cookie_only(db):
    client = Client()
    response = client.post(reverse("people:set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert client.get("/accounts/login/")["Content-Language"] == "en"


@pytest.mark.parametrize("bad", ["xx", "", "ru' OR 1=1", "r" * 1000])
def test_header_switch_ignores_unknown_languages(world, as_user, bad):
    client = as_user(world.parent)
    response = client.post(reverse("people:set_language"), {"language": bad, "next": "/"})
    assert response.status_code == 302
    world.parent.refresh_from_db()
    assert world.parent.language == ""


def test_header_form_posts_to_the_saving_view(world, as_user):
    html = as_user(world.parent).get(PROFILE).content.decode()
    assert f'action="{reverse("people:set_language")}"' in html


def test_profile_changes_are_validated_and_audited(world, as_user):
    from classbook.core.models import AuditEntry

    client = as_user(world.teacher)
    response = client.post(PROFILE, {"email": "not-an-email", "phone": "", "language": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    world.teacher.refresh_from_db()
    assert world.teacher.email == ""
    client.post(PROFILE, {"email": "t@example.org", "phone": "+380501234567", "language": ""})
    entry = AuditEntry.objects.get(action="people.profile.updated")
    assert entry.data == {"email": {"old": "", "new": "t@example.org"}, "phone": {"old": "", "new": "+380501234567"}}
