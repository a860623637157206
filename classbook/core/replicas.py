"""Read replicas (issue 15, docs/deployment.md "Read replicas"): read-only pages read a streaming replica.

- **Which reads**: only GET/HEAD requests to the read-only pages (``REPLICA_READ_NAMESPACES``: the diary,
  reports and timetables) and only outside a transaction. The API reads the primary: its clients carry no
  cookie, so a script that writes and then reads could not be pinned to the primary (below).
  Everything else — writes, reads inside ``atomic()``, the task worker, management commands — uses the
  primary: the router answers ``None`` (Django's default) unless the request marked itself eligible.
- **Down or lagging**: each process checks a replica at most every ``REPLICA_CHECK_SECONDS``: a replica that
  does not answer, or whose replay is more than ``REPLICA_MAX_LAG_SECONDS`` behind, is skipped until the
  next check; with none healthy, reads go to the primary. Between checks, the router still makes sure the
  chosen replica's connection works before it hands it out (a connection left from before the replica went
  down fails Django's health check, and reconnecting fails): a replica that stopped a moment ago is marked
  down at once and the read goes elsewhere, so a replica outage costs no page. A replica that goes away in
  the middle of a page (its query fails and its connection no longer works) is marked down and the page
  runs again on the primary (a GET changes nothing, so running its view twice is safe).
- **Raw SQL** that only reads runs on ``read_connection()``: the replica the ORM's reads would use, else the
  primary (``django.db.connection`` is always the primary's: the router sees only the ORM's queries); the
  prepared statements of ``core/prepared.py`` follow the router too unless given a database.
- **Read your writes**: a browser that has just written (any POST, PUT, PATCH or DELETE) carries a cookie for
  ``REPLICA_PIN_SECONDS`` (longer than the allowed lag) and reads from the primary meanwhile, so a teacher
  never sees the mark they just saved disappear, nor a parent their own absence report.

Without ``DATABASE_REPLICA_URLS`` neither the router nor the middleware is installed.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("classbook.replicas")

PIN_COOKIE = "cb_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_eligible: contextvars.ContextVar[bool] = contextvars.ContextVar("classbook_replica_reads", default=False)


@dataclass
class _Health:
    checked_at: float = 0.0
    healthy: bool = False


_health: dict[str, _Health] = {}

# On a standby: how far replay is behind (0 when everything received is replayed: an idle primary is not lag).
LAG_SQL = (
    "SELECT CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def replica_lag(alias: str) -> float:
    """Seconds the replica's replay is behind (0 for a database that is not a standby)."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute("SELECT 1")
                return 0.0
            cursor.execute(LAG_SQL)
            return float(cursor.fetchone()[0])
    except DatabaseError:
        connection.close_if_unusable_or_obsolete()  # the next check opens a new connection
        raise


def _check(alias: str) -> bool:
    try:
        lag = replica_lag(alias)
    except DatabaseError:
        logger.warning("replica %s does not answer; reading from the primary", alias)
        return False
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        logger.warning("replica %s is %.1f s behind; reading from the primary", alias, lag)
        return False
    return True


def is_healthy(alias: str, *, now: float | None = None) -> bool:
    now = time.monotonic() if now is None else now
    state = _health.setdefault(alias, _Health())
    if now - state.checked_at >= settings.REPLICA_CHECK_SECONDS:
        state.checked_at = now
        state.healthy = _check(alias)
    return state.healthy


def connects(alias: str) -> bool:
    """Whether the replica's connection works now: Django's health check of a connection this request has not
    used yet (once per request), and a new connection if it has none. A failure marks the replica down."""
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError:
        logger.warning("replica %s does not answer; reading from the primary", alias)
        _mark_down(alias)
        return False
    return True


def _mark_down(alias: str) -> None:
    state = _health.setdefault(alias, _Health())
    state.checked_at, state.healthy = time.monotonic(), False


def healthy_replica() -> str | None:
    candidates = [alias for alias in settings.DATABASE_REPLICAS if is_healthy(alias)]
    random.shuffle(candidates)
    for alias in candidates:
        if connects(alias):
            return alias
    return None


def read_connection() -> BaseDatabaseWrapper:
    """The connection for raw SQL that only reads: a healthy replica's on a read-only page outside a
    transaction (where the ORM's reads go), the primary's otherwise and without replicas."""
    return connections[router.db_for_read(None) or DEFAULT_DB_ALIAS]  # type: ignore[arg-type]


def reads_from_replica() -> bool:
    return _eligible.get()


class ReplicaRouter:
    """``DATABASE_ROUTERS``: eligible reads to a healthy replica; everything else to the primary."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if not _eligible.get() or connections["default"].in_atomic_block:
            return None
        return healthy_replica()

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replicas hold the primary's rows

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"


def _pinned(request: HttpRequest) -> bool:
    raw = request.COOKIES.get(PIN_COOKIE, "")
    try:
        return float(raw) > time.time()
    except ValueError:
        return False


class ReplicaMiddleware:
    """Marks the request's reads eligible for a replica (see the module's text) and pins writers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _eligible.set(False)
        try:
            response = self.get_response(request)
        finally:
            _eligible.reset(token)
        if request.method not in SAFE_METHODS:
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(
                PIN_COOKIE,
                str(time.time() + seconds),
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    def process_view(self, request: HttpRequest, view: Any, args: Any, kwargs: Any) -> None:
        match = request.resolver_match
        if (
            request.method in ("GET", "HEAD")
            and match is not None
            and set(match.namespaces) & set(settings.REPLICA_READ_NAMESPACES)
            and not _pinned(request)
        ):
            _eligible.set(True)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A replica lost in the middle of a read-only page: mark it down and run the page again on the primary.
        Only when a replica's connection is found broken (a lost primary stays the outage middleware's 503)."""
        if not (_eligible.get() and isinstance(exception, OperationalError | InterfaceError)):
            return None
        lost = False
        for alias in settings.DATABASE_REPLICAS:
            connection = connections[alias]
            if connection.connection is not None and not connection.is_usable():
                with contextlib.suppress(DatabaseError):
                    connection.close()
                _mark_down(alias)
                lost = True
        match = request.resolver_match
        if not lost or match is None:
            return None
        logger.warning("a replica went away during %s; reading it from the primary", request.path)
        _eligible.set(False)
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
