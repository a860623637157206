"""Helpers for the access tests: a persona's context in a school, and row names for readable tables."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from classbook.access.context import SchoolContext, resolve_school
from tests.conftest import shared_fixture, shared_value


@pytest.fixture
def ctx_of(world):
    """``ctx_of("parent")`` -> the parent's context in ``world.school`` (or ``school=world.other_school``)."""

    def build(persona: str, school=None) -> SchoolContext:
        user = world.persona(persona) or AnonymousUser()
        return resolve_school(user, (school or world.school).slug)

    return build


@pytest.fixture(autouse=True, scope="session")
def static_root_exists():
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as on a fresh checkout before collectstatic."""
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


# --- Rule tables: one row per named rule, one column per role × relationship -------------------------

# The columns of every rule table (tests/access/test_*_rules.py), in this order:
#   adm  administrator            dir  director                 dep  deputy director
#   sec  secretary                tea  teacher of this class and subject (class_a)
#   oth  teacher of another class (class_b)                     ct   class teacher of class_a (no lessons in it)
#   sub  substitute: conducted one lesson of tea's journal       stu  student of class_a
#   par  parent of that student   opa  parent of another child (class_b)
#   end  parent whose link to the student ended yesterday       vie  authority viewer (read-only)
#   for  administrator of another school                        ano  anonymous
# Cells: Y allowed, N refused, - no context at all (the school answers 404 before any rule is asked).
COLUMNS = (
    ("adm", "admin"),
    ("dir", "director"),
    ("dep", "deputy"),
    ("sec", "secretary"),
    ("tea", "teacher"),
    ("oth", "other_teacher"),
    ("ct", "class_teacher"),
    ("sub", "substitute"),
    ("stu", "student"),
    ("par", "parent"),
    ("opa", "other_parent"),
    ("end", "ended_parent"),
    ("vie", "viewer"),
    ("for", "foreign_admin"),
    ("ano", "anonymous"),
)
HEADER = " ".join(f"{short:>3}" for short, _persona in COLUMNS)


@pytest.fixture
def cast(world, request: pytest.FixtureRequest):
    """The world, plus the relationships the rule tables need: a substitute who conducted a lesson of the
    teacher's journal, a parent whose link has ended, the teacher's assignment and that lesson. Built once per
    test module (tests/conftest.py ``shared_fixture``), a copy per test."""
    return shared_value(request, "cast")


def _build_cast(get):
    import copy
    import datetime as dt

    from django.utils import timezone

    from classbook.journal.models import Lesson
    from classbook.people.models import GuardianLink, Role
    from classbook.schools.models import TeachingAssignment
    from tests import factories as f

    world = copy.deepcopy(get("world"))
    assignment = TeachingAssignment.objects.get(teacher=world.teacher, school_class=world.class_a)
    substitute = f.make_member(world.school, Role.TEACHER, username="substitute")
    lesson = Lesson.objects.create(
        school=world.school,
        assignment=assignment,
        date=world.class_a.year.start,
        number=1,
        created_by=world.teacher,
        conducted_by=substitute,
    )
    ended = f.make_parent(world.student, username="endedparent")
    GuardianLink.objects.filter(guardian=ended).update(ended_on=timezone.localdate() - dt.timedelta(days=1))
    world.substitute = substitute
    world.ended_parent = ended
    world.assignment = assignment
    world.lesson = lesson
    return world


shared_fixture("cast", _build_cast, __file__)


@pytest.fixture
def row_of(cast):
    """``row_of(rule, *args)`` -> the rule's answers for every column, as the table writes them."""
    from django.http import Http404

    def row(rule, *args) -> str:
        cells = []
        for _short, persona in COLUMNS:
            user = cast.persona(persona) or AnonymousUser()
            try:
                ctx = resolve_school(user, cast.school.slug)
            except Http404:
                cells.append("-")
                continue
            cells.append("Y" if rule(ctx, *args) else "N")
        return " ".join(f"{c:>3}" for c in cells)

    return row


def table_cases(table: dict) -> list:
    """pytest params from ``{name: (rule, args_of_world or None, expected row)}``."""
    return [
        pytest.param(rule, args, " ".join(f"{c:>3}" for c in expected.split()), id=name)
        for name, (rule, args, expected) in table.items()
    ]
