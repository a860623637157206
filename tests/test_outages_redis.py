"""Redis down or restarting degrades the site to the database, never to a 500 (issue #9).

A real ``redis-server`` on a free port, stopped (with a snapshot saved, as a restart of a persistent Redis
does) and started again inside the test: with Redis away, logging in, opening the diary and saving a mark
answer as usual and a warning is logged (once, not per request); when Redis is back the cache is used again
without a restart, and what was written during the outage is not hidden by the old values Redis reloads
(a week cached before the outage, a session ended during it).
"""

# ruff: noqa: F811 - the diary world's ``diary`` fixture is imported and used as an argument

from __future__ import annotations

import contextlib
import logging
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.core.cache import cache, caches
from django.test import Client, override_settings
from django.urls import reverse

from classbook.journal.models import Lesson, Mark
from classbook.people import credentials
from tests.diary.conftest import diary, media  # noqa: F401 - the diary world's fixtures
from tests.diary.test_week import week_url
from tests.factories import PASSWORD

pytestmark = [
    pytest.mark.outage,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
    pytest.mark.django_db(transaction=True),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A private redis-server that keeps its snapshot in ``folder`` across a stop and a start."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed arguments
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis.exceptions.ConnectionError:  # not listening yet, or still loading its snapshot
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        """SHUTDOWN SAVE: the snapshot is written, so the next start reloads the values from before."""
        assert self.process is not None
        with contextlib.suppress(redis.exceptions.ConnectionError):  # it closes the connection as it goes
            redis.Redis.from_url(self.url).shutdown(save=True)
        self.process.wait(10)

    def keys(self, pattern: str) -> list[bytes]:
        return redis.Redis.from_url(self.url).keys(pattern)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    caches_setting = {
        "default": {
            "BACKEND": "classbook.core.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    with override_settings(
        CACHES=caches_setting, SESSION_ENGINE="django.contrib.sessions.backends.cached_db", DIARY_CACHE=True
    ):
        cache.outage.RETRY_SECONDS = 0.2
        yield server
    if server.process and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(10)


def _wait_for_retry() -> None:
    """Until the backend tries Redis again (it skips it for a while after each failure)."""
    time.sleep(max(0.0, cache.outage.retry_at - time.monotonic()) + 0.05)


def _login(username: str) -> Client:
    client = Client()
    response = client.post(reverse("people:login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _week(client: Client, world) -> str:
    response = client.get(week_url(world))
    assert response.status_code == 200
    return response.content.decode().split("<main", 1)[1].split(">", 1)[1]


def _fresh(client: Client, world) -> str:
    """The week as built from the database right now, without the cache."""
    with override_settings(DIARY_CACHE=False):
        return _week(client, world)


def _save_mark(client: Client, world, lesson: Lesson, value: str) -> None:
    response = client.post(
        reverse("journal:save_cell", args=[world.school.slug, lesson.assignment_id]),
        {"kind": "lesson", "lesson": lesson.pk, "student": world.student.pk, "value": value, "version": "0.0"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200, response.content


def test_the_site_serves_through_a_redis_restart_and_never_shows_a_stale_week(
    world, diary, redis_server, caplog, settings
):
    parent = _login("parent")
    other_device = _login("parent")
    teacher = Client()
    teacher.force_login(world.teacher)
    before = _week(parent, world)
    assert _week(parent, world) == before  # from the cache now
    assert redis_server.keys("*cb:diary:w:*") and redis_server.keys("*sessions.cached_db*")

    redis_server.stop()
    caplog.clear()
    caplog.set_level(logging.WARNING, logger="classbook.cache")
    started = time.monotonic()
    during_login = _login("parent")  # the login page answered 500 here before (issue #9)
    _save_mark(teacher, world, Lesson.objects.get(pk=diary.thu_math.pk), "11")
    after = _fresh(parent, world)
    assert after != before
    assert _week(parent, world) == after  # from the database, not the week cached before the mark
    assert _week(during_login, world) == after
    credentials.end_sessions(user=world.parent, keep_session_key=parent.session.session_key)
    for _ in range(5):
        _week(parent, world)
    outage_seconds = time.monotonic() - started
    warnings = [r.getMessage() for r in caplog.records if r.name == "classbook.cache"]
    assert len(warnings) == 1 and "unreachable" in warnings[0], warnings
    assert outage_seconds < 5  # a dead Redis costs milliseconds per request, not timeouts

    redis_server.start()  # reloads the snapshot: the week cached before the mark, the ended sessions
    assert redis_server.keys("*cb:diary:w:*") and redis_server.keys("*sessions.cached_db*")
    _wait_for_retry()
    caplog.clear()
    html = _week(parent, world)
    assert html == after  # the stale week Redis came back with is not served
    assert "reachable again" in " ".join(r.getMessage() for r in caplog.records)
    # Ended during the outage: the cached copy Redis reloaded does not bring the session back.
    for ended in (other_device, during_login):
        response = ended.get(week_url(world))
        assert response.status_code == 302 and reverse("people:login") in response["Location"]
    # The cache is used again, without a restart: the week and the session are in Redis.
    assert _week(parent, world) == html
    stored = [k.decode() for k in redis_server.keys("*cb:diary:w:*")]
    assert any(f":{world.student.pk}:" in k for k in stored)
    assert redis_server.keys(f"*sessions.cached_db{parent.session.session_key}")
    assert Mark.objects.filter(student=world.student, lesson=diary.thu_math, value__code="11").exists()


def test_a_redis_that_never_answers_costs_little_and_login_works(world, settings, tmp_path):
    """Nothing listening at all (REDIS_URL pointing at a closed port): every page works from the database."""
    caches_setting = {
        "default": {
            "BACKEND": "classbook.core.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
    with override_settings(
        CACHES=caches_setting, SESSION_ENGINE="django.contrib.sessions.backends.cached_db", DIARY_CACHE=True
    ):
        started = time.monotonic()
        client = _login("teacher")
        assert client.get(reverse("home"), follow=True).status_code == 200
        assert caches["default"].get("anything") is None
        assert time.monotonic() - started < 3


def test_a_hung_redis_costs_one_timeout_now_and_then_not_one_per_request(world, redis_server):
    """Redis paused (SIGSTOP: connections open, nothing answers): requests wait for the read timeout at most
    once per retry interval, not on every cache operation; resumed, the cache is used again."""
    client = _login("teacher")
    assert redis_server.keys("*sessions.cached_db*")
    cache.outage.RETRY_SECONDS = 1.0  # as in production
    redis_server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        for _ in range(10):
            assert client.get(reverse("home"), follow=True).status_code == 200
        assert _login("parent").session.session_key
        elapsed, timeouts = time.monotonic() - started, cache.outage.failures
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    # Each request makes several cache operations; each one waiting for the 0.5 s timeout would be 10 s.
    assert timeouts <= 3 and elapsed < 5, (timeouts, elapsed)
    _wait_for_retry()
    student = _login("student")
    assert redis_server.keys(f"*sessions.cached_db{student.session.session_key}")
