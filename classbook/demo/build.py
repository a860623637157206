"""The state of one demo run and of one school being built, shared by the generator and its steps.

``DemoRun`` holds what all schools of a run share (options, the one password hash, taken usernames, the
row counters); ``SchoolBuild`` is one school under construction: each step (``classbook.demo.steps``)
reads what earlier steps left on it and adds its own. ``DemoRun.bulk`` is the ``bulk_create`` writer
(``classbook.demo.bulk`` documents every bulk writer and the rules it keeps).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models
from django.utils import timezone

from classbook.demo.names import transliterate
from classbook.people.models import Student, User
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    Room,
    School,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)

DEMO_PASSWORD = "classbook-demo"  # noqa: S105 - the published demo password
DEFAULT_SLUG = "demo"
MAX_STUDENTS = 200_000
MAX_SCALE = 50

YEAR_NAME = "2026/2027"
YEAR_START = dt.date(2026, 9, 1)
YEAR_END = dt.date(2027, 6, 30)
# The year before, closed: the demo keeps only its period and annual grades (``steps.last_year``).
LAST_YEAR_NAME = "2025/2026"
LAST_YEAR_START = dt.date(2025, 9, 1)
LAST_YEAR_END = dt.date(2026, 6, 30)
# Fixed instead of now(): the same seed must give the same rows.
JOINED_AT = dt.datetime(2026, 8, 25, 9, 0, tzinfo=dt.UTC)
BATCH_SIZE = 500

M = TypeVar("M", bound=models.Model)


def journal_until(year_start: dt.date, year_end: dt.date, today: dt.date | None = None) -> dt.date:
    """The demo's "today": the real date clamped into the academic year."""
    today = today or timezone.localdate()
    return min(max(today, year_start), year_end)


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 1
    students: int = 1000  # per school
    scale: int = 1  # number of schools: slug, slug-2, ...
    slug: str = DEFAULT_SLUG
    # The closed year's lessons, marks and attendance too (``steps.last_year_journal``): None = only with more
    # than one school (the region data set: a whole year of journal), never for the one-school demo by default.
    last_year_journal: bool | None = None

    @property
    def fills_last_year(self) -> bool:
        return self.scale > 1 if self.last_year_journal is None else self.last_year_journal

    def slugs(self) -> list[str]:
        return [self.slug if i == 0 else f"{self.slug}-{i + 1}" for i in range(self.scale)]


@dataclass
class DemoSummary:
    schools: list[str]
    students: int = 0
    classes: int = 0
    staff: int = 0
    parents: int = 0
    seconds: float = 0.0
    rows: Counter[str] = field(default_factory=Counter)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class DemoRun:
    """State shared by all schools of one run: options, the password hash, taken usernames, row counts."""

    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        # Hashed once: PBKDF2 takes ~0.3 s, hashing every user would take many minutes.
        self.password_hash = make_password(DEMO_PASSWORD)
        self.usernames: set[str] = set(User.objects.values_list("username", flat=True))
        self.rows: Counter[str] = Counter()
        # The school whose people are being named (``username``): set by the generator before each school.
        self.school_index = 0

    def bulk(self, model: type[M], objs: Iterable[M]) -> list[M]:
        objs = list(objs)
        if objs:
            model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
            self.rows[model._meta.label] += len(objs)
        return objs

    def username(self, preferred: str) -> str:
        """``preferred`` if free, else ``preferred2``, ``preferred3``... (usernames are global). In the schools after
        the first (``school_index`` 1, 2, ...) every name ends in ``.2``, ``.3``...: each school takes its names in
        a space of its own, so a school's usernames do not depend on which schools were generated before it or
        beside it (``generate(..., jobs=2)`` builds schools in two processes with the same result)."""
        preferred = preferred[:136] or "user"
        suffix = f".{self.school_index + 1}" if self.school_index else ""
        name, n = preferred + suffix, 1
        while name in self.usernames:
            n += 1
            name = f"{preferred}{n}{suffix}"
        self.usernames.add(name)
        return name

    def new_user(self, last: str, first: str, patronymic: str, *, username: str = "", **fields: Any) -> User:
        if not username:
            initials = "".join(transliterate(p)[:1] for p in (first, patronymic) if p)
            username = self.username(f"{transliterate(last)}.{initials}")
        return User(
            username=username,
            last_name=last,
            first_name=first,
            patronymic=patronymic,
            password=self.password_hash,
            date_joined=JOINED_AT,
            language="uk",
            **fields,
        )


@dataclass(eq=False)  # identity, not field-by-field comparison (lists search them)
class Person:
    """A generated person before it becomes a ``User`` row."""

    last: str
    first: str
    patronymic: str
    gender: str
    birth: dt.date | None = None


@dataclass(eq=False)  # identity, not field-by-field comparison (lists search them)
class TeacherPlan:
    person: Person
    spec: str
    units: list[Unit] = field(default_factory=list)
    homeroom: SchoolClass | None = None
    user: User | None = None

    @property
    def load(self) -> Decimal:
        return sum((u.hours for u in self.units), Decimal(0))


@dataclass(eq=False)  # identity, not field-by-field comparison (lists search them)
class Unit:
    """What one teacher teaches one class (or subgroup): one or more subjects with their hours."""

    school_class: SchoolClass
    subgroup: Subgroup | None
    items: list[tuple[str, Decimal]]

    @property
    def hours(self) -> Decimal:
        return sum((h for _, h in self.items), Decimal(0))


@dataclass
class SchoolBuild:
    """One school being built; each step reads what earlier steps left here and adds its own."""

    run: DemoRun
    index: int
    slug: str
    students_wanted: int
    school: School | None = None
    scales: dict[str, MarkingScale] = field(default_factory=dict)
    year: AcademicYear | None = None
    periods: list[StudyPeriod] = field(default_factory=list)
    levels: dict[int, YearLevel] = field(default_factory=dict)
    classes: list[SchoolClass] = field(default_factory=list)
    class_sizes: dict[str, int] = field(default_factory=dict)
    subgroups: dict[str, list[Subgroup]] = field(default_factory=dict)  # by class name
    subjects: dict[str, Subject] = field(default_factory=dict)
    rooms: list[Room] = field(default_factory=list)
    staff: dict[str, User] = field(default_factory=dict)  # demo role -> user
    teachers: list[TeacherPlan] = field(default_factory=list)
    assignments: list[TeachingAssignment] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    student_class: dict[int, SchoolClass] = field(default_factory=dict)  # student pk -> class
    parents: list[User] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    member_since: dict[int, dt.date] = field(default_factory=dict)  # student pk -> membership start
    ability: dict[int, float] = field(default_factory=dict)  # student pk -> the mean of their 12-point marks

    @property
    def is_main(self) -> bool:
        """The first school of a run gets the short demo logins (admin, teacher, ...)."""
        return self.index == 0

    def rng(self, step: str) -> random.Random:
        # A string seed is hashed deterministically (SHA-512), unlike hash() of a str.
        return random.Random(f"{self.run.options.seed}:{self.index}:{step}")

    def bulk(self, model: type[M], objs: Iterable[M]) -> list[M]:
        return self.run.bulk(model, objs)

    def demo_username(self, role: str) -> str:
        return self.run.username(role) if self.is_main else ""


@dataclass(eq=False)  # identity, not field-by-field comparison (lists search them)
class Family:
    surname: tuple[str, str]
    father_name: tuple[str, str, str]
    address: str
    children: list[Student] = field(default_factory=list)
    guardians: list[tuple[User, str]] = field(default_factory=list)  # (user, relation)


Step = Callable[[SchoolBuild], None]
