"""Shared personas every test reuses (as healthchecks' hc/test.py): one school with its people,
another school, and the relationships permission tests try to break."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from classbook.people.models import AuthorityViewer, Role, Student, User
from classbook.schools.models import EducationAuthority, School, SchoolClass, Subject
from tests import factories as f


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Real hashing costs ~0.3 s per password; tests that check hashing use the real hasher explicitly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Assertions read the English source messages; tests of the translations switch language explicitly.
    settings.LANGUAGE_CODE = "en"
    # Background tasks run at once, inside the test (one test uses the real database backend and worker).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from django_tasks.signals import clear_tasks_handlers

    clear_tasks_handlers(setting="TASKS")  # the backends were read when the apps loaded
    _share_static_file_index()
    _flush_only_written_tables_on_postgresql()
    _live_server_one_request_at_a_time()
    _schema_from_models()
    _move_the_clock(config)
    _keep_off_the_network()


def _keep_off_the_network() -> None:
    """Tests talk to this machine only (PostgreSQL, Redis, the servers they start): a connection or a name lookup
    for anywhere else fails at once, with the test's name, instead of waiting on whatever the machine's network
    does with it. Where outbound packets vanish, one stray lookup (a certificate's CRL address, a TSA URL) would
    wait out its timeouts, or forever without one: a CI run was once stopped at 98 % after 90 minutes. Tests that
    resolve names fake the resolver themselves (tests/webhooks/test_addresses.py)."""
    import ipaddress
    import os
    import socket

    def local(host: object) -> bool:
        if host in (None, "", "localhost", b"localhost"):
            return True
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            return ipaddress.ip_address(name.split("%")[0]).is_loopback
        except ValueError:
            return False

    def refuse(what: str) -> OSError:
        test = os.environ.get("PYTEST_CURRENT_TEST", "outside a test")
        return OSError(f"{what}: tests stay on this machine (tests/conftest.py, _keep_off_the_network; {test})")

    real_getaddrinfo, real_connect, real_connect_ex = (
        socket.getaddrinfo,
        socket.socket.connect,
        socket.socket.connect_ex,
    )

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not local(host):
            try:
                ipaddress.ip_address(str(host))  # a literal address needs no lookup; connect() decides
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, str(refuse(f"name lookup for {host!r}"))) from None
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded(real: Any) -> Any:
        def connect(self: socket.socket, address: Any) -> Any:
            if isinstance(address, tuple) and not local(address[0]):
                raise refuse(f"connection to {address!r}")
            return real(self, address)

        return connect

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = guarded(real_connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded(real_connect_ex)  # type: ignore[method-assign]


def _live_server_one_request_at_a_time() -> None:
    """On SQLite the live server of the browser tests answers one request at a time. The test database is in
    memory, so Django hands the test's one SQLite connection to the live server, whose threads (one per
    request) then share it; two threads on one connection deadlock inside CPython's sqlite3 module when one
    sorts with a Python collation (``core/collation.py``: it waits for the GIL while holding the connection's
    mutex) and the other binds a parameter (it holds the GIL while waiting for that mutex). Nothing can
    interrupt that, not even a test timeout: a CI run hung in a browser test until it was stopped after 90
    minutes (found with ``gdb -p <worker> -batch -ex "thread apply all bt"``). A test database in a file would
    give each thread its own connection, but made the service worker's offline copy flaky in the offline
    tests; production never shares a connection between threads (gunicorn's sync workers, the task worker)."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        return
    from django.core.servers.basehttp import WSGIServer
    from django.test.testcases import LiveServerThread

    class OneRequestAtATime(WSGIServer):
        def __init__(self, *args: Any, connections_override: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)  # the serving thread already uses the overridden connections

    LiveServerThread.server_class = OneRequestAtATime


def _move_the_clock(config: pytest.Config) -> None:
    """``TEST_CLOCK=2027-03-15T10:00`` (UTC unless an offset is given) runs the whole session at that moment, the
    clock ticking from there: a test that depends on the real "today" (the day CI runs, after midnight in Kyiv,
    in the summer holidays) fails on any day, not only on the day it breaks. Tests that travel themselves still
    do (time-machine nests). Python's clock only: SQLite computes nothing from its own clock here, PostgreSQL's
    ``now()`` does, so run the variants on SQLite (docs/development.md, "The suite's clock")."""
    import datetime as dt
    import os

    value = os.environ.get("TEST_CLOCK", "").strip()
    if not value:
        return
    import time_machine

    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise pytest.UsageError(f"TEST_CLOCK={value!r} is not an ISO date and time (2027-03-15T10:00)") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    traveller = time_machine.travel(moment, tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> str | None:
    import os

    return (
        f"TEST_CLOCK={os.environ['TEST_CLOCK']} (the session's clock, tests/conftest.py)"
        if os.environ.get("TEST_CLOCK")
        else None
    )


def _schema_from_models() -> None:
    """Applying the 90-odd migrations costs each test database ~22 s of CPU on SQLite and 33-37 s on PostgreSQL,
    nearly all of it in Django re-rendering the migration state (School is related to ~100 models, and every
    AddIndex or AddConstraint re-renders them). ``scripts/test`` sets ``TEST_SCHEMA=models`` for both passes: the
    tables are created from the models (Django's ``TEST["MIGRATE"] = False``) in seconds, and ``django_db_setup``
    below records every migration as applied, as ``migrate`` would have (backups carry that list; the migration
    tests migrate back and forth from there). Nothing is lost: ``makemigrations --check`` proves the models and the
    migrations agree, and on PostgreSQL ``tests/test_migrations_schema.py`` applies every migration to an empty
    database and compares its schema (tables, columns, indexes, constraints) with the one built from the models.
    The migrations' RunSQL/RunPython steps only move existing rows (nothing to move in an empty database) and
    create nothing in the schema: ``core/0004_names_collation`` no longer creates a collation (the ordering uses
    PostgreSQL's built-in ``"uk-UA-x-icu"``)."""
    import os

    from django.conf import settings

    if os.environ.get("TEST_SCHEMA") == "models":
        settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False


def _flush_only_written_tables_on_postgresql() -> None:
    """A test that commits (``transactional_db``: browsers, real processes) is followed by Django's ``flush``,
    one ``TRUNCATE`` of every table; on PostgreSQL truncating ~150 tables costs about a second, though a test
    writes to a dozen. Here one server-side loop empties only the tables that hold rows, with ``DELETE``
    (``TRUNCATE`` refuses a table an empty table still references; Django's foreign keys are deferred to the
    commit): the database ends exactly as empty, at a fraction of the cost."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate_all = DatabaseOperations.sql_flush

    def sql_flush(
        self: DatabaseOperations,
        style: Any,
        tables: list[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if not tables or reset_sequences or allow_cascade:  # Django's own statement for what this does not do
            return truncate_all(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        names = ", ".join("'" + table.replace("'", "''") + "'" for table in tables)  # Django's table names
        return [
            "SET CONSTRAINTS ALL DEFERRED;",
            "DO $flush$ DECLARE table_name text; has_rows boolean; BEGIN "  # noqa: S608 - the models' table names
            f"FOREACH table_name IN ARRAY ARRAY[{names}]::text[] LOOP "
            "EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', table_name) INTO has_rows; "
            "IF has_rows THEN EXECUTE format('DELETE FROM %I', table_name); END IF; END LOOP; END $flush$;",
        ]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


def _share_static_file_index() -> None:
    """Every test ``Client`` builds its own middleware chain, and WhiteNoise's builds an index of every static
    file (a stat and headers each: ~150 files, ~35 ms) that a server builds once per process. Tests reuse the
    index built for the same settings, so a test pays for its requests, not for the index."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    built: dict[tuple[Any, ...], dict[str, Any]] = {}
    add_files, add_files_from_finders = WhiteNoiseMiddleware.add_files, WhiteNoiseMiddleware.add_files_from_finders

    def shared(original: Callable[..., None]) -> Callable[..., None]:
        def wrapper(self: WhiteNoiseMiddleware, *args: Any, **kwargs: Any) -> None:
            if self.autorefresh:
                return original(self, *args, **kwargs)
            # __init__ sets static_prefix before it adds any files.
            k = (original.__name__, *args, *sorted(kwargs.items()), self.max_age, self.static_prefix)
            if k not in built:
                before = dict(self.files)
                original(self, *args, **kwargs)
                built[k] = {path: f for path, f in self.files.items() if before.get(path) is not f}
            self.files.update(built[k])
            return None

        return wrapper

    WhiteNoiseMiddleware.add_files = shared(add_files)  # type: ignore[method-assign]
    WhiteNoiseMiddleware.add_files_from_finders = shared(add_files_from_finders)  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    """pytest-django's test databases; one built from the models records every migration as applied."""
    from django.db import connections
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.recorder import MigrationRecorder

    for connection in connections.all(initialized_only=True):
        if connection.settings_dict.get("TEST", {}).get("MIGRATE") is not False:
            continue
        with django_db_blocker.unblock():
            recorder = MigrationRecorder(connection)
            recorder.ensure_schema()
            done = recorder.applied_migrations()
            recorder.migration_qs.bulk_create(
                recorder.Migration(app=app, name=name)
                for app, name in MigrationLoader(connection, ignore_no_migrations=True).graph.nodes
                if (app, name) not in done
            )


# --- Tests the database engine cannot change ----------------------------------------------------------
# ``scripts/test`` runs the suite on SQLite and then on PostgreSQL. A test marked ``engine_agnostic`` (static checks
# of the code, pure functions) gives the same answer on both, so the PostgreSQL pass skips it when the SQLite pass
# of the same run has run it (``scripts/test`` says so in ENGINE_AGNOSTIC_TESTS_RAN). Run by hand on PostgreSQL,
# it runs. Such a test may not use the database at all: that is checked here. A test marked ``engine_neutral`` uses
# the database only to store what Python decided and checks those decisions (the demo generator's variants: another
# seed, a tiny or a thousand-student school, another day); it is skipped the same way. The generator's work on
# PostgreSQL stays covered by the tests of the shared demo, the two-school isolation and the query-count test.
_DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import os

    from django.conf import settings

    skip = (
        os.environ.get("ENGINE_AGNOSTIC_TESTS_RAN") == "sqlite"
        and settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    )
    # scripts/test says which passes it runs (TEST_PASSES): a test marked postgres_pass waits for PostgreSQL's.
    postgres_follows = "postgres" in os.environ.get("TEST_PASSES", "").split()
    on_sqlite = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    for item in items:
        if postgres_follows and on_sqlite and item.get_closest_marker("postgres_pass") is not None:
            item.add_marker(pytest.mark.skip(reason="postgres_pass: this run's PostgreSQL pass runs it"))
        if skip and item.get_closest_marker("engine_neutral") is not None:
            item.add_marker(pytest.mark.skip(reason="engine_neutral: this run's SQLite pass ran it"))
        if item.get_closest_marker("engine_agnostic") is None:
            continue
        if item.get_closest_marker("django_db") or _DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            raise pytest.UsageError(f"{item.nodeid} is marked engine_agnostic but uses the database")
        if skip:
            item.add_marker(pytest.mark.skip(reason="engine_agnostic: this run's SQLite pass ran it"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: the API's rate-limit counters (``api/ratelimit.py``) are keyed by
    user and token ids, which the next test's rows reuse."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class World:
    school: School
    other_school: School
    class_a: SchoolClass
    class_b: SchoolClass
    foreign_class: SchoolClass
    subject: Subject
    admin: User
    director: User
    deputy: User
    secretary: User
    teacher: User  # teaches class_a
    class_teacher: User  # homeroom teacher of class_a
    other_teacher: User  # teaches class_b only
    student: Student  # in class_a
    other_student: Student  # in class_b
    parent: User  # of student
    other_parent: User  # of other_student
    foreign_admin: User  # administrator of the other school
    foreign_teacher: User
    foreign_student: Student
    viewer: User  # education authority over `school` only

    def persona(self, name: str) -> User | None:
        if name == "anonymous":
            return None
        value = getattr(self, name)
        return value.user if isinstance(value, Student) else value


def _build_world() -> World:
    school = f.SchoolFactory(slug="lyceum-1", name="Ліцей № 1")
    other = f.SchoolFactory(slug="gymnasium-2", name="Гімназія № 2")
    year = f.YearFactory(school=school)
    other_year = f.YearFactory(school=other)
    class_a = f.SchoolClassFactory(year=year, name="5-А")
    class_b = f.SchoolClassFactory(year=year, name="5-Б")
    foreign_class = f.SchoolClassFactory(year=other_year, name="5-А")
    subject = f.SubjectFactory(school=school, name="Математика")

    teacher = f.make_member(school, Role.TEACHER, username="teacher")
    class_teacher = f.make_member(school, Role.TEACHER, username="classteacher")
    other_teacher = f.make_member(school, Role.TEACHER, username="otherteacher")
    class_a.class_teacher = class_teacher
    class_a.save()
    f.make_assignment(teacher, class_a, subject)
    f.make_assignment(other_teacher, class_b, f.SubjectFactory(school=school, name="Історія"))

    student = f.make_student(class_a, user=f.UserFactory(username="student"))
    other_student = f.make_student(class_b, user=f.UserFactory(username="otherstudent"))
    foreign_student = f.make_student(foreign_class, user=f.UserFactory(username="foreignstudent"))
    parent = f.make_parent(student, username="parent")
    other_parent = f.make_parent(other_student, username="otherparent")

    authority = EducationAuthority.objects.create(name="Управління освіти")
    authority.schools.add(school)
    viewer = f.UserFactory(username="viewer")
    AuthorityViewer.objects.create(authority=authority, user=viewer)

    return World(
        school=school,
        other_school=other,
        class_a=class_a,
        class_b=class_b,
        foreign_class=foreign_class,
        subject=subject,
        admin=f.make_member(school, Role.ADMIN, username="admin"),
        director=f.make_member(school, Role.DIRECTOR, username="director"),
        deputy=f.make_member(school, Role.DEPUTY, username="deputy"),
        secretary=f.make_member(school, Role.SECRETARY, username="secretary"),
        teacher=teacher,
        class_teacher=class_teacher,
        other_teacher=other_teacher,
        student=student,
        other_student=other_student,
        parent=parent,
        other_parent=other_parent,
        foreign_admin=f.make_member(other, Role.ADMIN, username="foreignadmin"),
        foreign_teacher=f.make_member(other, Role.TEACHER, username="foreignteacher"),
        foreign_student=foreign_student,
        viewer=viewer,
    )


# --- One world per module ---------------------------------------------------------------------------
# Building the world is ~200 queries; most tests only read it. So the tests of one module that use it share
# one build, as Django's ``TestCase.setUpTestData`` does for a class: the world is written inside an outer
# transaction opened before the first such test, each test runs in its own savepoint inside it (pytest-django's
# ``db`` rolls back to it) and gets a deep copy of the objects, and the outer transaction is rolled back as
# soon as the next test is not one that shares it (another module, no shared fixture, or a transactional test,
# which flushes tables and whose live server or threads would not see uncommitted rows). A test that does not ask
# for a shared fixture never sees its rows.
#
# Other costly data a module's tests only read is shared the same way (``shared_fixture``): the access tests'
# ``cast``, the reports' ``built`` grades, a seeded demo school. Each is built once per module, inside the same
# outer transaction, the first time a test asks for it (before that test's savepoint opens), and each test gets a
# deep copy. A test never sees shared data it did not ask for: when the next test asks for less than has been
# built, the outer transaction is rolled back and what it asks for is built again. Where the data cannot be
# shared (a transactional test, a transaction opened by someone else), the fixture builds it for the test alone.

_NOT_SHARED = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}

Build = Callable[[Callable[[str], Any]], Any]


@dataclass(frozen=True)
class _Shared:
    build: Build  # build(get): get(name) gives another shared fixture's value (the world, say)
    where: Path  # the directory (of a conftest) or the test module the fixture is shared in


_SHARED: dict[str, _Shared] = {}


def shared_fixture(name: str, build: Build, where: str) -> None:
    """Registers ``build`` as the module-shared data of the fixture ``name`` for the tests under ``where`` (the
    ``__file__`` of a test module: that module; of a conftest or a helper module: its directory). The fixture
    itself returns ``shared_value(request, name)``. ``build`` runs before the test's own fixtures (a module's
    time travel is not on yet: travel inside it where the data needs a day), must not commit, and must not
    change what ``get`` returns (copy it first)."""
    path = Path(where).resolve()
    spec = _Shared(build, path if path.name.startswith("test_") else path.parent)
    known = _SHARED.get(name)
    if known is not None and (known.where, known.build.__qualname__) != (spec.where, build.__qualname__):
        raise ValueError(f"shared fixture {name!r} is registered twice ({known.where} and {spec.where})")
    _SHARED[name] = spec


def _shared_names(item: pytest.Item) -> frozenset[str]:
    """The shared fixtures ``item`` asks for (directly or through its fixtures), if it may share them at all."""
    names = set(getattr(item, "fixturenames", ()))
    if names & _NOT_SHARED:
        return frozenset()
    path = Path(item.path).resolve()
    wanted = frozenset(
        name for name in names & _SHARED.keys() if path == _SHARED[name].where or _SHARED[name].where in path.parents
    )
    if not wanted:
        return wanted
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return wanted
    from pytest_django.fixtures import validate_django_db

    transactional, reset_sequences, _databases, serialized_rollback, available_apps = validate_django_db(marker)
    return frozenset() if transactional or reset_sequences or serialized_rollback or available_apps else wanted


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


class _SharedWorld:
    module: str | None = None
    atomic: Any = None
    blocker: Any = None
    values: dict[str, Any] = {}

    @classmethod
    def open(cls, request: pytest.FixtureRequest) -> None:
        from django.db import connection, transaction

        request.getfixturevalue("django_db_setup")
        blocker = request.getfixturevalue("django_db_blocker")
        with blocker.unblock():
            if connection.in_atomic_block:  # a transaction opened by someone else: the data is built per test
                return
            atomic = transaction.atomic()
            atomic.__enter__()
            cls.module, cls.atomic, cls.blocker, cls.values = _module_of(request.node), atomic, blocker, {}

    @classmethod
    def ensure(cls, names: frozenset[str]) -> None:
        """Builds those of ``names`` the module has not built yet (between tests: no test savepoint is open)."""
        from django.db import connection

        if cls.module is None:
            return
        with cls.blocker.unblock():
            try:
                for name in sorted(names):
                    cls.get(name)
            except BaseException:
                cls.close()
                raise
            # After-commit work the build queued (journal events, say) would never run: the outer transaction is
            # rolled back, as a test's own is. Dropped now, so that a test's own events start a batch of their own.
            connection.run_on_commit = []

    @classmethod
    def get(cls, name: str) -> Any:
        if name not in cls.values:
            cls.values[name] = _SHARED[name].build(cls.get)
        return cls.values[name]

    @classmethod
    def close(cls) -> None:
        from django.db import transaction

        atomic, blocker = cls.atomic, cls.blocker
        cls.module = cls.atomic = cls.blocker = None
        cls.values = {}
        if atomic is not None:
            with blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _django_db_marker(request: pytest.FixtureRequest) -> None:
    """pytest-django's own fixture of this name (it opens the test's transaction for a ``django_db`` mark),
    overridden to open the module's shared world first: it is autouse and the first to touch the database, so the
    outer transaction is always the outer one, whatever order the test names its fixtures in."""
    names = _shared_names(request.node)
    if names:
        if _SharedWorld.module != _module_of(request.node) or not _SharedWorld.values.keys() <= names:
            # Another module, or data built for earlier tests that this one does not ask for (it must not see it).
            _SharedWorld.close()
            _SharedWorld.open(request)
        _SharedWorld.ensure(names)
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("_django_db_helper")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    try:
        return (yield)
    finally:
        # After the test's own fixtures (and its savepoint) are gone. A test that closed the connection (a
        # response closed by hand fires request_finished, which drops a connection left in a transaction)
        # took the shared world with it: the next test builds a new one on a new connection.
        from django.db import connection

        if _SharedWorld.module is not None and (
            nextitem is None
            or _module_of(nextitem) != _SharedWorld.module
            or not _shared_names(nextitem)
            or not _SharedWorld.values.keys() <= _shared_names(nextitem)
            or connection.closed_in_transaction
        ):
            _SharedWorld.close()


def shared_value(request: pytest.FixtureRequest, name: str) -> Any:
    """A shared fixture's value for this test: a deep copy of the module's build, or one built for this test."""
    if _SharedWorld.module == _module_of(request.node) and name in _SharedWorld.values:
        return copy.deepcopy(_SharedWorld.values[name])
    return _SHARED[name].build(request.getfixturevalue)


shared_fixture("world", lambda get: _build_world(), __file__)


@pytest.fixture
def world(db: None, request: pytest.FixtureRequest) -> World:
    return shared_value(request, "world")


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for
