"""Helpers for roster tests: URLs and a snapshot of everything the roster writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from classbook.core.models import AuditEntry
from classbook.people.models import Consent, Enrolment, GuardianLink, Membership, Student, User
from tests import factories as f

SLUG = "lyceum-1"
ALL_PERSONAS = [
    "admin",
    "director",
    "deputy",
    "secretary",
    "teacher",
    "class_teacher",
    "other_teacher",
    "student",
    "parent",
    "other_parent",
    "viewer",
    "foreign_admin",
    "anonymous",
]


def url(name: str, **kwargs: Any) -> str:
    return reverse(f"roster:{name}", kwargs={"school": SLUG, **kwargs})


def snapshot() -> dict[str, Any]:
    """Every row the roster services may write, to prove a refused request changed nothing."""
    return {
        # last_login moves when a test client logs in; it is not roster data.
        "users": list(
            User.objects.order_by("pk").values(*[f.name for f in User._meta.concrete_fields if f.name != "last_login"])
        ),
        "students": list(Student.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk").values()),
        "enrolments": list(Enrolment.objects.order_by("pk").values()),
        "links": list(GuardianLink.objects.order_by("pk").values()),
        "consents": list(Consent.objects.order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
    }


def fill_class(school_class: Any, n: int) -> list[Student]:
    """``n`` students with a guardian and a consent each, for query-count tests."""
    students = []
    for i in range(n):
        s = f.make_student(school_class, user=f.UserFactory(last_name=f"Учень{i:03d}"))
        f.make_parent(s)
        Consent.objects.create(
            school=s.school, student=s, given_by="Мати", given_on=school_class.year.start, recorded_by=s.user
        )
        students.append(s)
    return students


@pytest.fixture(autouse=True)
def _school_day():
    """A fixed school day inside the personas' academic year (2026/2027)."""
    import datetime as dt

    import time_machine

    with time_machine.travel(dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC), tick=False):
        yield
