"""A bounded gate in front of password hashing (issue 15: the 8 a.m. login storm).

A password hash costs a core for a third of a second (PBKDF2-SHA256, Django 5.2's 1,000,000 iterations:
docs/deployment.md "Password hashing"). When a thousand people log in within a minute, letting every request
hash at once only makes every one of them slow and the queue in front of the server grow without bound.
So at most ``HASHING_SLOTS`` hashes run at a time on one machine (its cores by default): a request that
cannot get a slot within ``HASHING_WAIT_SECONDS`` is refused with 429 and ``Retry-After`` — the login page
says so in the user's language, the API in its error shape — and costs the server almost nothing.

The gate bounds the hashes running at once, not the queue in front of the workers: a login that waited long
in the server's listen backlog (its client may be gone) is not worth a hash. Behind a proxy that stamps the
arrival (``X-Request-Start: t=<seconds since the epoch>``, nginx's ``${msec}``), a request that arrived more
than ``HASHING_QUEUE_SECONDS`` ago is refused the same way before it takes a slot: the queue is shed, not served.

The slots are ``flock`` locks on files in ``HASHING_SLOT_DIR``, so they are shared by every process on the
machine (gunicorn's workers, the task worker) without Redis, and a process that dies frees its slot at once.
Every hash goes through here — a login, the API's token login, a password change or reset, an activation,
the re-authentication before sensitive actions, and the dummy hash for unknown usernames — because the gate
is the password hasher itself (``PASSWORD_HASHERS`` in settings): one rule, one place.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

_held = threading.local()


class HashingBusy(Exception):
    """Every hashing slot stayed taken for ``HASHING_WAIT_SECONDS``: answer 429, try again in ``retry_after``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"password hashing is busy; retry after {retry_after} s")
        self.retry_after = retry_after


# When the request being served arrived at the proxy (seconds since the epoch), if the proxy said so.
arrived_at: contextvars.ContextVar[float | None] = contextvars.ContextVar("arrived_at", default=None)


def request_start(header: str | None) -> float | None:
    """The arrival time in an ``X-Request-Start`` header: ``t=`` and seconds (nginx's ``${msec}``: 1700000000.123),
    milliseconds or microseconds since the epoch; None when absent or unreadable (the header is only a hint)."""
    if not header:
        return None
    try:
        value = float(header.strip().removeprefix("t="))
    except ValueError:
        return None
    while value > 1e11:  # milliseconds or microseconds
        value /= 1000
    return value if value > 0 else None


def _shed_if_queued_too_long() -> None:
    since = arrived_at.get()
    if since is not None and time.time() - since > float(settings.HASHING_QUEUE_SECONDS):
        raise HashingBusy(retry_after=int(settings.HASHING_RETRY_AFTER_SECONDS))


def slot_count() -> int:
    return max(1, int(settings.HASHING_SLOTS or os.cpu_count() or 1))


def _try_slots(directory: Path, count: int) -> int | None:
    """An open descriptor holding one slot's lock, or None when all are taken."""
    for index in range(count):
        fd = os.open(directory / f"slot-{index}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of the machine's hashing slots while the block runs (re-entrant within a thread)."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    _shed_if_queued_too_long()
    directory = Path(settings.HASHING_SLOT_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + float(settings.HASHING_WAIT_SECONDS)
    pause = 0.005
    while (fd := _try_slots(directory, slot_count())) is None:
        if time.monotonic() >= deadline:
            raise HashingBusy(retry_after=int(settings.HASHING_RETRY_AFTER_SECONDS))
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    _held.depth = 1
    try:
        yield
    finally:
        _held.depth = 0
        os.close(fd)  # closing the descriptor releases the lock


class GatedPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's default hasher (same algorithm name, so every stored hash still verifies) behind the gate.

    ``verify`` hashes by calling ``encode``, so gating ``encode`` gates both."""

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        with hashing_slot():
            return super().encode(password, salt, iterations)

    def harden_runtime(self, password: str, encoded: str) -> None:
        with hashing_slot():
            super().harden_runtime(password, encoded)
