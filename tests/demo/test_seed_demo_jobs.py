"""The demo generator's schools built by two processes side by side (PostgreSQL): the same data as one process,
and all or nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import transaction

from classbook.demo import generator
from classbook.demo.generator import STEPS, DemoOptions, SchoolBuild, generate
from classbook.journal.models import Lesson, Mark
from classbook.people.models import User
from classbook.schools.models import School
from tests.demo.test_seed_demo import snapshot
from tests.journal.conftest import _postgres_only  # noqa: F401 - skips postgres_only tests on SQLite

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

real_generate_in_processes = generator.generate_in_processes
OPTIONS = DemoOptions(seed=11, students=20, scale=3, last_year_journal=False)


@pytest.fixture(autouse=True)
def fixed_today():
    with time_machine.travel(dt.datetime(2026, 10, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_two_processes_build_the_same_schools_as_one(monkeypatch: pytest.MonkeyPatch) -> None:
    in_processes: list[int] = []
    monkeypatch.setattr(
        generator,
        "generate_in_processes",
        lambda options, steps, jobs: in_processes.append(jobs) or real_generate_in_processes(options, steps, jobs),
    )
    with transaction.atomic():  # inside a transaction the generator stays in this process
        alone = generate(OPTIONS, jobs=2)
        expected = snapshot(), sorted(User.objects.values_list("username", flat=True))
        transaction.set_rollback(True)

    assert in_processes == []
    together = generate(OPTIONS, jobs=2)
    assert in_processes == [2]

    assert (snapshot(), sorted(User.objects.values_list("username", flat=True))) == expected
    assert together.schools == alone.schools == ["demo", "demo-2", "demo-3"]
    assert (together.students, together.classes, together.staff, together.parents) == (
        alone.students,
        alone.classes,
        alone.staff,
        alone.parents,
    )
    assert together.rows == alone.rows and Mark.objects.exists() and Lesson.objects.exists()
    # Every school's people are named in a space of their own: the second school's names end in ".2".
    assert User.objects.filter(memberships__school__slug="demo-2").exclude(username__endswith=".2").count() == 0
    assert School.objects.get(slug="demo-3").authorities.count() == 1


def test_a_failing_process_rolls_every_school_back() -> None:
    def step_fail(build: SchoolBuild) -> None:
        if build.index == 1:
            raise ValueError("broken step")

    with pytest.raises(RuntimeError, match="broken step"):
        generate(OPTIONS, steps=[*STEPS[:3], step_fail], jobs=2)
    assert not School.objects.exists()
