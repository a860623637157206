"""Notification fixtures: the shared ``world`` and ``journal``, with e-mail addresses and the edge cases
of guardianship that must never be told anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connection

from classbook.people.models import GuardianLink, User
from tests import factories as f
from tests.journal.conftest import IN_TIME, LESSON_DAY, _postgres_only, journal  # noqa: F401 - fixtures reused here

__all__ = ["IN_TIME", "LESSON_DAY"]


@dataclass
class Family:
    restricted_parent: User  # a guardian of world.student with may_see switched off
    former_parent: User  # a guardian of world.student whose link ended
    foreign_parent: User  # parent of the other school's student, also linked (there) to nobody here


@pytest.fixture
def family(world) -> Family:
    for user in (world.student.user, world.parent, world.other_parent, world.other_student.user):
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    restricted = f.make_parent(world.student, may_see=False, username="restricted", email="restricted@example.org")
    former = f.make_parent(world.student, username="former", email="former@example.org")
    GuardianLink.objects.filter(guardian=former).update(ended_on=dt.date(2026, 9, 1))
    foreign = f.make_parent(world.foreign_student, username="foreignparent", email="foreign@example.org")
    return Family(restricted_parent=restricted, former_parent=former, foreign_parent=foreign)


def run_commit_hooks() -> None:
    """Run every pending on-commit callback, as a real COMMIT would.

    The test's transaction never commits, and ``django_capture_on_commit_callbacks`` runs only the
    callbacks registered inside it; the events of one transaction share one batch (``core.events``), so
    a batch opened by a fixture must be flushed too.
    """
    while connection.run_on_commit:
        hooks, connection.run_on_commit = connection.run_on_commit, []
        for _sids, func, _robust in hooks:
            func()


@contextmanager
def _committed() -> Iterator[None]:
    run_commit_hooks()
    yield
    run_commit_hooks()


@pytest.fixture
def committed():
    """``with committed(): service(...)``: the service's transaction commits and its hooks run."""
    return _committed
