"""The bounded gate in front of password hashing (issue 15, core/hashing.py): a login storm is answered 429
with Retry-After, never a 5xx or a request held without bound; a free slot lets the login through."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse

from classbook.core.hashing import GatedPBKDF2PasswordHasher, HashingBusy, hashing_slot
from tests.factories import PASSWORD


class FastGatedHasher(GatedPBKDF2PasswordHasher):
    """The production hasher with few iterations: the gate is under test, not PBKDF2's cost."""

    iterations = 1000


@pytest.fixture
def gate(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["tests.people.test_login_gate.FastGatedHasher"]
    settings.HASHING_SLOTS = 1
    settings.HASHING_WAIT_SECONDS = 0.05
    settings.HASHING_RETRY_AFTER_SECONDS = 7
    settings.HASHING_SLOT_DIR = str(tmp_path)
    return tmp_path


def _hold_every_slot(directory):
    fd = os.open(directory / "slot-0", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process (here: another descriptor) is hashing
    return fd


def _login(client: Client, username: str, **extra):
    return client.post(reverse("people:login"), {"username": username, "password": PASSWORD}, **extra)


def test_a_busy_gate_answers_429_in_the_users_language_and_logs_no_one_in(world, gate):
    world.teacher.password = make_password(PASSWORD)
    world.teacher.save(update_fields=["password"])
    fd = _hold_every_slot(gate)
    try:
        client = Client()
        page = _login(client, "teacher", HTTP_ACCEPT_LANGUAGE="uk")
        scripted = _login(Client(), "teacher", HTTP_ACCEPT="application/json")
    finally:
        os.close(fd)
    assert page.status_code == 429
    assert page["Retry-After"] == "7"
    assert "Зараз входить багато людей" in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert scripted.status_code == 429
    assert scripted.json()["error"]["code"] == "busy"
    # The slot is free again: the same login goes through, with the hash made by the gated hasher.
    assert _login(Client(), "teacher").status_code == 302


def test_an_unknown_username_is_gated_too(world, gate):
    """Django hashes a dummy password for an unknown name (so timing tells nothing): that hash waits its turn."""
    fd = _hold_every_slot(gate)
    try:
        assert _login(Client(), "nobody-by-this-name").status_code == 429
    finally:
        os.close(fd)


def test_no_more_hashes_run_at_once_than_there_are_slots(settings, tmp_path):
    settings.HASHING_SLOTS = 2
    settings.HASHING_WAIT_SECONDS = 0.02
    settings.HASHING_SLOT_DIR = str(tmp_path)
    running, peak, refused = [0], [0], []
    lock = threading.Lock()
    start = threading.Barrier(8)
    others_refused = threading.Event()

    def one() -> None:
        start.wait()  # all eight ask at once, however late the machine starts a thread
        try:
            with hashing_slot():
                with lock:
                    running[0] += 1
                    peak[0] = max(peak[0], running[0])
                others_refused.wait(timeout=10)  # hold the slot until the rest have been turned away
                with lock:
                    running[0] -= 1
        except HashingBusy as busy:
            with lock:
                refused.append(busy.retry_after)
                if len(refused) == 6:
                    others_refused.set()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    assert len(refused) == 6  # refused within the short wait, not queued
    with hashing_slot():  # and every slot was released
        pass


def test_a_login_that_queued_too_long_in_front_of_the_workers_is_shed_before_it_hashes(world, gate, settings):
    """Behind a proxy stamping X-Request-Start, a login that arrived more than HASHING_QUEUE_SECONDS ago is
    answered 429 with Retry-After before it takes a slot (its client may be gone); a fresh one logs in."""
    import time

    settings.HASHING_QUEUE_SECONDS = 10
    world.teacher.password = make_password(PASSWORD)
    world.teacher.save(update_fields=["password"])
    now = time.time()
    stale = Client()
    assert _login(stale, "teacher", HTTP_X_REQUEST_START=f"t={now - 30:.3f}").status_code == 429
    assert "_auth_user_id" not in stale.session
    milliseconds = f"{(now - 30) * 1000:.0f}"  # as some proxies send it
    scripted = _login(Client(), "teacher", HTTP_ACCEPT="application/json", HTTP_X_REQUEST_START=milliseconds)
    assert scripted.status_code == 429 and scripted["Retry-After"] == "7"
    fresh = Client()
    assert _login(fresh, "teacher", HTTP_X_REQUEST_START=f"t={now:.3f}").status_code == 302
    assert _login(Client(), "teacher", HTTP_X_REQUEST_START="nonsense").status_code == 302  # only a hint


def test_the_arrival_stamp_is_read_in_seconds_milliseconds_or_microseconds():
    from classbook.core.hashing import request_start

    assert request_start("t=1700000000.123") == pytest.approx(1700000000.123)
    assert request_start("1700000000123") == pytest.approx(1700000000.123)
    assert request_start("t=1700000000123456") == pytest.approx(1700000000.123456)
    assert request_start(None) is None and request_start("t=") is None and request_start("-5") is None
