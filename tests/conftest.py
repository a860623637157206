"""Shared personas every test reuses (as healthchecks' hc/test.py): one school with its people,
another school, and the relationships permission tests try to break."""

from __future__ import annotations

from dataclasses import dataclass

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


@pytest.fixture
def world(db: None) -> World:
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


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_user():
    return client_for
