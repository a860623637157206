""" "Remember this device" (issue 15): a family's login lasts the school's days; staff are never remembered."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD


def _login(username: str, remember: bool) -> Client:
    client = Client()
    data = {"username": username, "password": PASSWORD, **({"remember": "on"} if remember else {})}
    assert client.post(reverse("people:login"), data).status_code == 302
    return client


def _cookie_age(client: Client) -> int | str:
    return client.cookies["sessionid"]["max-age"]


def test_a_parent_who_asks_stays_logged_in_for_the_schools_days(world):
    world.school.remember_device_days = 90
    world.school.save(update_fields=["remember_device_days"])
    remembered = _login("parent", remember=True)
    assert remembered.session.get_expiry_age() == 90 * 86400
    assert _cookie_age(remembered) == 90 * 86400
    assert _login("parent", remember=False).session.get_expiry_age() == 14 * 86400  # the usual two weeks


@pytest.mark.parametrize("username", ["teacher", "director"])
def test_staff_are_never_remembered(world, username):
    assert _login(username, remember=True).session.get_expiry_age() == 14 * 86400


def test_a_school_can_turn_it_off(world):
    world.school.remember_device_days = 0
    world.school.save(update_fields=["remember_device_days"])
    assert _login("parent", remember=True).session.get_expiry_age() == 14 * 86400


def test_the_setting_is_bounded(world, as_user):
    client = as_user(world.director)
    url = f"/s/{world.school.slug}/manage/settings/"
    response = client.post(
        url,
        {
            "name": world.school.name,
            "kind": "school",
            "country": "UA",
            "language": "uk",
            "entry_deadline": "16:00",
            "staff_idle_minutes": "30",
            "remember_device_days": "9999",
            "average_decimals": "1",
        },
    )
    assert response.status_code == 200  # the form again, with the error at the field
    assert "remember_device_days" in response.context["form"].errors
    world.school.refresh_from_db()
    assert world.school.remember_device_days == 90
