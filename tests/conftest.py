"""Shared personas every test reuses (as healthchecks' hc/test.py): one school with its people,
another school, and the relationships permission tests try to break."""

from __future__ import annotations

import copy
from dataclasses import dataclass
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
# soon as the next test is not one that shares it (another module, no world, or a transactional test, which
# flushes tables and whose live server or threads would not see uncommitted rows). A test that does not ask
# for the world never sees its rows.

_NOT_SHARED = {"transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


def _shares_world(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    if "world" not in names or names & _NOT_SHARED:
        return False
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return True
    from pytest_django.fixtures import validate_django_db

    transactional, reset_sequences, _databases, serialized_rollback, available_apps = validate_django_db(marker)
    return not (transactional or reset_sequences or serialized_rollback or available_apps)


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


class _SharedWorld:
    module: str | None = None
    atomic: Any = None
    blocker: Any = None
    world: World | None = None

    @classmethod
    def open(cls, request: pytest.FixtureRequest) -> None:
        from django.db import connection, transaction

        request.getfixturevalue("django_db_setup")
        blocker = request.getfixturevalue("django_db_blocker")
        with blocker.unblock():
            if connection.in_atomic_block:  # a transaction opened by someone else: the world is built per test
                return
            atomic = transaction.atomic()
            atomic.__enter__()
            cls.module, cls.atomic, cls.blocker = _module_of(request.node), atomic, blocker
            try:
                cls.world = _build_world()
            except BaseException:
                cls.close()
                raise
            if connection.run_on_commit:  # the build queued after-commit work (a test must see it run): per test
                cls.close()

    @classmethod
    def close(cls) -> None:
        from django.db import transaction

        atomic, blocker = cls.atomic, cls.blocker
        cls.module = cls.atomic = cls.blocker = cls.world = None
        if atomic is not None:
            with blocker.unblock():
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _django_db_marker(request: pytest.FixtureRequest) -> None:
    """pytest-django's own fixture of this name (it opens the test's transaction for a ``django_db`` mark),
    overridden to open the module's shared world first: it is autouse and the first to touch the database, so the
    outer transaction is always the outer one, whatever order the test names its fixtures in."""
    if _shares_world(request.node) and _SharedWorld.module != _module_of(request.node):
        _SharedWorld.close()
        _SharedWorld.open(request)
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
            or not _shares_world(nextitem)
            or connection.closed_in_transaction
        ):
            _SharedWorld.close()


@pytest.fixture
def world(db: None, request: pytest.FixtureRequest) -> World:
    if _SharedWorld.world is not None and _SharedWorld.module == _module_of(request.node):
        return copy.deepcopy(_SharedWorld.world)
    return _build_world()


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for
