"""Django's Redis cache backend, keeping one ``redis.Redis`` client per connection pool, and degrading to
"no cache" while Redis is unreachable (issue #9).

One client per pool: Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every cache call,
and redis-py fills a table of ~170 response callbacks in each one: a ``get_many`` of five keys cost 0.17 ms of
CPU, 0.055 ms with one client per pool (the diary's cached week makes two cache calls per request: the
session, the week). A client is a thin, thread-safe wrapper around its connection pool, so one per pool is
enough.

Outages: every operation that cannot reach Redis (connection refused, reset, timed out, Redis still loading
its data after a restart) answers as a cache without the key would — a read is a miss, a write does
nothing, ``add`` and ``delete`` answer ``False`` — and the site carries on from the database (sessions are
``cached_db``: their rows are the truth; the diary renders the week afresh). For ``RETRY_SECONDS`` after a
failure Redis is not asked at all (a dead Redis costs nothing per request), twice as long after each further
failure up to ``MAX_RETRY_SECONDS`` (a hung Redis costs one read timeout now and then); after that the next
operation tries again, so the cache comes back by itself when Redis does, without a restart. A warning is logged when
Redis goes away, at most once a minute while it stays away, and when it is back.

Correctness after an outage: a write that failed may have been an *invalidation* (a diary generation
counter's bump, an ended session's removal), and Redis may come back holding the old value (a restart
that reloaded its snapshot, a network cut, a paused server). So the keys of every write this process could
not make are remembered, and the first thing done when Redis answers again is to delete them — before any
other operation of this process reads Redis. Deleting is always right for our keys: a missing session is
read from its row, a missing diary counter restarts at a value never used before (``diary/cache.py``).
If more than ``MAX_REMEMBERED`` keys failed, the whole cache database is flushed instead.
What this process cannot know is what *another* process failed to write; every process repairs its own
keys on its first request after the outage, and diary weeks also expire after ``DIARY_CACHE_SECONDS``
(docs/deployment.md, "When Redis, the worker or PostgreSQL go down").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("classbook.cache")

# BusyLoadingError (Redis reading its snapshot after a restart) is a ConnectionError.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)

T = TypeVar("T")


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client = cast(Any, self)  # the stubs do not declare Django's private attributes
        pool = django_client._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = django_client._client(connection_pool=pool)
        return client


class Outage:
    """This process's view of Redis: since when it fails, and the keys it could not write since."""

    RETRY_SECONDS = 1.0  # after a failure, skip Redis this long (then the next operation tries again) ...
    MAX_RETRY_SECONDS = 15.0  # ... doubling while it stays away: a hung Redis costs one timeout now and then
    WARN_EVERY_SECONDS = 60.0
    MAX_REMEMBERED = 10_000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.repairing = threading.Lock()  # one thread repairs; the others wait for it before reading
        self.down_since: float | None = None
        self.retry_at = 0.0
        self.warned_at = 0.0
        self.skipped = 0
        self.failures = 0  # attempts that failed in this outage
        self.unwritten: set[str] = set()
        self.overflow = False

    def skipping(self) -> bool:
        return self.down_since is not None and time.monotonic() < self.retry_at

    def needs_repair(self) -> bool:
        return self.down_since is not None or self.overflow or bool(self.unwritten)

    def remember(self, keys: Iterable[str], *, everything: bool = False) -> None:
        with self.lock:
            self.overflow = self.overflow or everything
            if not self.overflow:
                self.unwritten.update(keys)
                if len(self.unwritten) > self.MAX_REMEMBERED:
                    self.overflow = True
            if self.overflow:
                self.unwritten = set()

    def failed(self, error: BaseException) -> None:
        now = time.monotonic()
        with self.lock:
            self.skipped += 1
            self.failures += 1
            self.retry_at = now + min(self.MAX_RETRY_SECONDS, self.RETRY_SECONDS * 2 ** (self.failures - 1))
            if self.down_since is None:
                self.down_since, self.warned_at = now, now
                logger.warning("Redis cache unreachable (%s): serving without the cache", error)
            elif now - self.warned_at >= self.WARN_EVERY_SECONDS:
                self.warned_at = now
                logger.warning(
                    "Redis cache still unreachable after %.0f s (%d cache operations skipped)",
                    now - self.down_since,
                    self.skipped,
                )

    def skipped_one(self) -> None:
        with self.lock:
            self.skipped += 1

    def take(self) -> tuple[set[str], bool]:
        with self.lock:
            keys, overflow = self.unwritten, self.overflow
            self.unwritten, self.overflow = set(), False
            return keys, overflow

    def recovered(self, repaired: str) -> None:
        with self.lock:
            if self.down_since is not None:
                logger.warning(
                    "Redis cache reachable again after %.1f s; %s written during the outage removed",
                    time.monotonic() - self.down_since,
                    repaired,
                )
            self.down_since, self.skipped, self.failures = None, 0, 0


# One view of each Redis per process: Django makes a cache object per thread, and whichever thread talks to
# Redis first after an outage must repair what any thread could not write.
_OUTAGES: dict[tuple[str, ...], Outage] = {}
_OUTAGES_LOCK = threading.Lock()


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        with _OUTAGES_LOCK:
            self.outage = _OUTAGES.setdefault(tuple(cast(Any, self)._servers), Outage())

    # --- the guard around every operation ---------------------------------------------------------

    def _guarded(self, operation: Callable[[], T], fallback: T, writes: Iterable[str] = ()) -> T:
        """Run one cache operation against Redis, or answer ``fallback`` when Redis cannot be reached;
        ``writes`` are the (full) keys the operation would change, remembered when it could not."""
        outage = self.outage
        if outage.skipping():
            outage.skipped_one()
            outage.remember(writes)
            return fallback
        try:
            if outage.needs_repair():
                self._repair()
            return operation()
        except UNREACHABLE as error:
            outage.remember(writes)
            outage.failed(error)
            return fallback

    def _repair(self) -> None:
        """Delete what this process could not write during the outage, before reading anything else."""
        with self.outage.repairing:
            if self.outage.needs_repair():
                self._repair_now()

    def _repair_now(self) -> None:
        keys, overflow = self.outage.take()
        try:
            client = self._redis.get_client(None, write=True)
            if overflow:
                client.flushdb()
            elif keys:
                ordered = sorted(keys)
                for start in range(0, len(ordered), 500):
                    client.delete(*ordered[start : start + 500])
            else:
                client.ping()
        except UNREACHABLE:
            self.outage.remember(keys, everything=overflow)
            raise
        self.outage.recovered("all keys" if overflow else f"{len(keys)} keys")

    @property
    def _redis(self) -> Any:
        """Django's ``RedisCacheClient`` (``_cache``, which the stubs do not declare)."""
        return cast(Any, self)._cache

    def _key(self, key: Any, version: int | None) -> str:
        return self.make_and_validate_key(key, version=version)

    # --- Django's cache API -----------------------------------------------------------------------

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        k = self._key(key, version)
        return self._guarded(lambda: self._redis.add(k, value, self.get_backend_timeout(timeout)), False, [k])

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        k = self._key(key, version)
        return self._guarded(lambda: self._redis.get(k, default), default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        k = self._key(key, version)
        self._guarded(lambda: self._redis.set(k, value, self.get_backend_timeout(timeout)), None, [k])

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        k = self._key(key, version)
        return self._guarded(lambda: self._redis.touch(k, self.get_backend_timeout(timeout)), False, [k])

    def delete(self, key: Any, version: int | None = None) -> bool:
        k = self._key(key, version)
        return self._guarded(lambda: self._redis.delete(k), False, [k])

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        key_map = {self._key(key, version): key for key in keys}
        found: dict[str, Any] = self._guarded(lambda: self._redis.get_many(key_map.keys()), {})
        return {key_map[k]: v for k, v in found.items()}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        k = self._key(key, version)
        return self._guarded(lambda: self._redis.has_key(k), False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """While Redis is unreachable the increment is lost, not raised: the key is remembered and deleted
        when Redis is back, which for a diary generation counter is a new generation too. Answers 0 then."""
        k = self._key(key, version)
        return self._guarded(lambda: self._redis.incr(k, delta), 0, [k])

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        if not data:
            return []
        safe = {self._key(key, version): value for key, value in data.items()}
        self._guarded(lambda: self._redis.set_many(safe, self.get_backend_timeout(timeout)), None, list(safe))
        return []

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        safe = [self._key(key, version) for key in keys]
        if safe:
            self._guarded(lambda: self._redis.delete_many(safe), None, safe)

    def clear(self) -> None:
        """A clear that could not reach Redis is done (as a flush) when Redis is back."""
        if self._guarded(lambda: bool(self._redis.clear()), None) is None:
            self.outage.remember((), everything=True)
