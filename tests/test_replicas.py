"""The read-replica router (issue 15, core/replicas.py): which reads go to a replica, and when they must not."""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, connections
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from classbook.core import replicas


@pytest.fixture
def replica(settings, monkeypatch):
    settings.DATABASE_REPLICAS = ["replica_0"]
    settings.REPLICA_MAX_LAG_SECONDS = 5
    settings.REPLICA_CHECK_SECONDS = 5
    settings.REPLICA_PIN_SECONDS = 30
    replicas._health.clear()
    lag = {"seconds": 0.0, "down": False}

    def fake_lag(alias):
        assert alias == "replica_0"
        if lag["down"]:
            raise OperationalError("connection refused")
        return lag["seconds"]

    monkeypatch.setattr(replicas, "replica_lag", fake_lag)
    # The replica's connection: a working one unless a test puts another in ``lag["connection"]``.
    lag["connection"] = _FakeConnection()
    monkeypatch.setattr(replicas, "connections", _Connections(lag))
    yield lag
    replicas._health.clear()


class _FakeConnection:
    def __init__(self, refuses=False):
        self.refuses = refuses
        self.connection = object()  # an open connection
        self.broken = False

    def is_usable(self):
        return not self.broken

    def close(self):
        self.connection = None

    def close_if_health_check_failed(self):
        pass

    def ensure_connection(self):
        if self.refuses:
            raise OperationalError("connection refused")


class _Connections:
    def __init__(self, lag):
        self.lag = lag

    def __getitem__(self, alias):
        return connections["default"] if alias == "default" else self.lag["connection"]


def _unreachable_copy_of_default():
    """A real connection of the test database's engine that cannot connect: a stopped replica."""
    default = connections["default"]
    settings_dict = {**default.settings_dict}
    if default.vendor == "postgresql":
        settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens on port 1
    else:
        settings_dict["NAME"] = "/nonexistent-dir/replica.sqlite3"
    return type(default)(settings_dict, alias="replica_0")


def _through_middleware(request, path):
    seen = {}

    def view(req):
        seen["replica"] = replicas.ReplicaRouter().db_for_read(object)
        return HttpResponse("ok")

    middleware = replicas.ReplicaMiddleware(view)
    request.resolver_match = resolve(path)
    original = middleware.get_response

    def with_view(req):
        middleware.process_view(req, view, (), {})
        return original(req)

    middleware.get_response = with_view
    response = middleware(request)
    return seen["replica"], response


DIARY = "/s/school/diary/"
MANAGE = "/s/school/manage/settings/"


def test_a_diary_read_goes_to_a_healthy_replica(replica):
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] == "replica_0"


def test_other_pages_and_writes_read_the_primary(replica):
    assert _through_middleware(RequestFactory().get(MANAGE), MANAGE)[0] is None
    chosen, response = _through_middleware(RequestFactory().post(DIARY), DIARY)
    assert chosen is None
    assert float(response.cookies[replicas.PIN_COOKIE].value) > time.time() + 25  # pinned to the primary


def test_a_browser_that_just_wrote_reads_its_own_writes_from_the_primary(replica):
    request = RequestFactory().get(DIARY)
    request.COOKIES[replicas.PIN_COOKIE] = str(time.time() + 10)
    assert _through_middleware(request, DIARY)[0] is None
    request.COOKIES[replicas.PIN_COOKIE] = str(time.time() - 1)  # the pin ran out
    assert _through_middleware(request, DIARY)[0] == "replica_0"
    request.COOKIES[replicas.PIN_COOKIE] = "not-a-number"
    assert _through_middleware(request, DIARY)[0] == "replica_0"


def test_a_lagging_replica_is_skipped_until_it_catches_up(replica):
    replica["seconds"] = 12.0
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] is None
    now = time.monotonic()
    replica["seconds"] = 0.5
    assert replicas.is_healthy("replica_0", now=now + 2) is False  # not re-checked before REPLICA_CHECK_SECONDS
    assert replicas.is_healthy("replica_0", now=now + 5.5) is True


def test_a_replica_that_is_down_sends_reads_to_the_primary(replica):
    replica["down"] = True
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] is None


def test_reads_inside_a_transaction_use_the_primary(replica, monkeypatch):
    replicas._eligible.set(True)
    try:
        assert replicas.ReplicaRouter().db_for_read(object) == "replica_0"
        monkeypatch.setattr(connections["default"], "in_atomic_block", True)  # a read inside atomic()
        assert replicas.ReplicaRouter().db_for_read(object) is None
    finally:
        replicas._eligible.set(False)


def test_only_the_primary_is_migrated_and_written():
    router = replicas.ReplicaRouter()
    assert router.db_for_write(object) == "default"
    assert router.allow_migrate("default", "journal") is True
    assert router.allow_migrate("replica_0", "journal") is False


@pytest.mark.django_db
def test_the_lag_query_runs_on_a_database_that_is_not_a_standby():
    assert replicas.replica_lag("default") == 0.0


def test_a_replica_that_stopped_between_checks_is_not_handed_out(replica):
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] == "replica_0"  # checked: healthy
    replica["connection"] = _FakeConnection(refuses=True)  # stopped a moment later, before the next check
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] is None
    assert replicas._health["replica_0"].healthy is False  # marked down: the next reads skip it too
    replica["connection"] = _FakeConnection()
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] is None  # until the next check
    replicas._health["replica_0"].checked_at -= 5
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] == "replica_0"


@pytest.mark.django_db
def test_a_real_connection_that_cannot_connect_sends_reads_to_the_primary(replica):
    """Django's own connection of the test database's engine (SQLite or PostgreSQL), pointed nowhere."""
    replica["connection"] = _unreachable_copy_of_default()
    assert replicas.connects("replica_0") is False
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] is None


def test_reads_go_back_to_the_replica_when_the_lag_falls_under_the_bound(replica):
    replica["seconds"] = 5.5  # just beyond the bound
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] is None
    replica["seconds"] = 5.0  # at the bound: allowed
    replicas._health["replica_0"].checked_at -= 5
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] == "replica_0"


def test_a_writer_stays_on_the_primary_even_when_the_replica_is_healthy(replica):
    """Read your writes: the POST's pin cookie sends the next reads of that browser to the primary."""
    _, response = _through_middleware(RequestFactory().post(DIARY), DIARY)
    request = RequestFactory().get(DIARY)
    request.COOKIES[replicas.PIN_COOKIE] = response.cookies[replicas.PIN_COOKIE].value
    assert _through_middleware(request, DIARY)[0] is None
    assert _through_middleware(RequestFactory().get(DIARY), DIARY)[0] == "replica_0"  # another browser


def test_a_replica_lost_during_a_page_serves_the_page_again_from_the_primary(replica):
    """The replica stops while a diary page reads it: the page is run again on the primary, no error."""
    calls = []

    def view(request, **kwargs):  # run again with the URL's arguments (the school)
        chosen = replicas.ReplicaRouter().db_for_read(object)
        calls.append(chosen)
        if chosen == "replica_0":
            replica["connection"].broken = True  # the query fails: "terminating connection"
            raise OperationalError("terminating connection due to administrator command")
        return HttpResponse("from the primary")

    request = RequestFactory().get(DIARY)
    request.resolver_match = resolve(DIARY)
    middleware = replicas.ReplicaMiddleware(lambda req: HttpResponse())
    token = replicas._eligible.set(False)
    try:
        middleware.process_view(request, view, (), {})
        request.resolver_match.func = view
        try:
            response = view(request)
        except OperationalError as error:
            response = middleware.process_exception(request, error)
    finally:
        replicas._eligible.reset(token)
    assert calls == ["replica_0", None]
    assert response.content == b"from the primary"
    assert replicas._health["replica_0"].healthy is False


def test_a_lost_primary_is_not_retried(replica):
    """The same error with every replica's connection fine is the primary's outage: the 503 middleware's."""
    request = RequestFactory().get(DIARY)
    request.resolver_match = resolve(DIARY)
    middleware = replicas.ReplicaMiddleware(lambda req: HttpResponse())
    token = replicas._eligible.set(True)
    try:
        assert middleware.process_exception(request, OperationalError("server closed the connection")) is None
        replicas._eligible.set(False)  # and nothing for a page that did not read a replica
        replica["connection"].broken = True
        assert middleware.process_exception(request, OperationalError("gone")) is None
    finally:
        replicas._eligible.reset(token)


def test_raw_sql_of_a_read_only_page_reads_the_replica_and_elsewhere_the_primary(replica, monkeypatch):
    """``read_connection()`` (the diary's freshness check, the journal's statistics) follows the router."""
    monkeypatch.setattr(replicas.router, "routers", [replicas.ReplicaRouter()])
    token = replicas._eligible.set(True)
    try:
        assert replicas.read_connection() is replica["connection"]
        replicas._eligible.set(False)  # a page that is not read-only, a write, the worker
        assert replicas.read_connection() is connections["default"]
    finally:
        replicas._eligible.reset(token)
