"""Per-token and per-session rate limits of the API (issue 18): 429 with Retry-After in the error shape,
one budget per token and per session user, counted in the cache, configured in settings."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from classbook.api.ratelimit import Rate, parse_rate
from classbook.people import credentials

NOW = dt.datetime(2026, 10, 5, 10, 0, 0, tzinfo=dt.UTC)
ME = "/api/v1/me"


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def limits(settings):
    settings.API_RATE_LIMITS = {"token": "3/min", "session": "5/min"}


def _token(user, name="script") -> str:
    return credentials.create_api_token(user=user, name=name)[1]


@time_machine.travel(NOW, tick=False)
def test_a_token_over_its_budget_gets_429_with_retry_after(world, limits):
    token = _token(world.teacher)
    client = Client()
    assert [client.get(ME, **bearer(token)).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(ME, **bearer(token))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "60"  # the window of a minute started at NOW
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and error["retry_after"] == 60 and "60 seconds" in error["message"]


@time_machine.travel(NOW, tick=False)
def test_each_token_and_the_session_have_their_own_budget(world, limits, as_user):
    first, second = _token(world.teacher, "a"), _token(world.teacher, "b")
    client = Client()
    for _ in range(3):
        client.get(ME, **bearer(first))
    assert client.get(ME, **bearer(first)).status_code == 429
    assert client.get(ME, **bearer(second)).status_code == 200  # another token of the same person
    browser = as_user(world.teacher)
    assert [browser.get(ME).status_code for _ in range(5)] == [200] * 5  # the session's own budget
    assert browser.get(ME).status_code == 429
    assert as_user(world.director).get(ME).status_code == 200  # another person


def test_the_budget_comes_back_with_the_next_window(world, limits):
    token = _token(world.teacher)
    client = Client()
    with time_machine.travel(NOW + dt.timedelta(seconds=45), tick=False):
        for _ in range(3):
            client.get(ME, **bearer(token))
        refused = client.get(ME, **bearer(token))
        assert refused.status_code == 429 and refused["Retry-After"] == "15"
    with time_machine.travel(NOW + dt.timedelta(seconds=61), tick=False):
        assert client.get(ME, **bearer(token)).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_off_switches_a_budget_off_and_anonymous_calls_are_401_uncounted(world, settings, as_user):
    settings.API_RATE_LIMITS = {"token": "1/min", "session": "off"}
    browser = as_user(world.teacher)
    assert {browser.get(ME).status_code for _ in range(10)} == {200}
    assert {Client().get(ME).status_code for _ in range(3)} == {401}


@time_machine.travel(NOW, tick=False)
def test_every_operation_counts_against_the_same_budget(world, limits):
    token = _token(world.teacher)
    client = Client()
    client.get(ME, **bearer(token))
    client.get(f"/api/v1/schools/{world.school.slug}", **bearer(token))
    client.get(f"/api/v1/schools/{world.school.slug}/subjects", **bearer(token))
    assert client.get(f"/api/v1/schools/{world.school.slug}/rooms", **bearer(token)).status_code == 429


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("600/min", Rate(600, 60)),
        ("100/30", Rate(100, 30)),
        ("5/s", Rate(5, 1)),
        ("10000/day", Rate(10000, 86400)),
        ("50/2h", Rate(50, 7200)),
        ("off", None),
        ("0/min", None),
        ("", None),
    ],
)
def test_rates_are_read_from_settings_text(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["lots", "10/fortnight", "10", "/min"])
def test_a_mistyped_rate_is_refused(text):
    with pytest.raises(ValueError, match="looks like"):
        parse_rate(text)
