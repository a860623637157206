"""The demo school generator behind ``manage.py seed_demo``.

It builds a realistic Ukrainian lyceum (calendar, classes, curriculum, teachers and their
workload, students, families, consents) deterministically from a seed: every random choice
comes from a ``random.Random`` seeded with the seed, the school's index and the step's name,
and every date is fixed. The same seed on an empty database gives identical data; a new
step added later does not change what the earlier steps produce.

Why it writes models with ``bulk_create`` instead of calling the services:
- speed: a 1,000-student school is ~15,000 rows; per-row services (each with its own
  validation queries and audit row) would take minutes, bulk inserts take seconds;
- the data is synthetic, created by the system, not an action of a person, so there is
  nobody to attribute per-row audit entries to (one ``demo.school.seeded`` entry records it);
- the invariants the services enforce hold by construction (dates inside the year, periods
  nested, one class teacher per class, subgroups inside their class, every row's ``school``
  set); ``tests/demo`` runs ``full_clean`` on a sample of every model to prove it.
The school itself is created through ``schools.services.create_school`` (scales, audit).

The demo grows with every later capability: add a step function ``step_xxx(build)`` to
``STEPS`` (timetable, lessons, marks ...). A step reads what earlier steps left on the
``SchoolBuild``, writes rows with ``build.bulk(...)`` and takes its randomness from
``build.rng("xxx")``.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import models, transaction

from classbook.core.audit import log_action
from classbook.demo import curriculum
from classbook.demo.names import (
    BOY_NAMES,
    FEMALE_ADULT_NAMES,
    GIRL_NAMES,
    KYIV_STREETS,
    MALE_NAMES,
    MOBILE_CODES,
    SURNAMES,
    transliterate,
)
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.demo import step_journal
from classbook.journal.models import WorkType
from classbook.messaging.demo import step_messaging
from classbook.people.models import (
    AuthorityViewer,
    Consent,
    ConsentPurpose,
    Enrolment,
    Gender,
    GuardianLink,
    Membership,
    Role,
    Student,
    User,
)
from classbook.planning.demo import step_planning
from classbook.schools.models import (
    AcademicYear,
    DayKind,
    EducationAuthority,
    MarkingScale,
    PeriodKind,
    Room,
    ScaleKind,
    School,
    SchoolClass,
    SchoolKind,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)
from classbook.schools.services import create_school
from classbook.timetable.demo import step_timetable

DEMO_PASSWORD = "classbook-demo"  # noqa: S105 - the published demo password
DEFAULT_SLUG = "demo"
MAX_STUDENTS = 200_000
MAX_SCALE = 50
AUTHORITY_NAME = "Департамент освіти і науки м. Києва (демо)"

YEAR_NAME = "2026/2027"
YEAR_START = dt.date(2026, 9, 1)
YEAR_END = dt.date(2027, 6, 30)
# Fixed instead of now(): the same seed must give the same rows.
JOINED_AT = dt.datetime(2026, 8, 25, 9, 0, tzinfo=dt.UTC)

CLASS_SIZE = 30  # the legal maximum class size in Ukraine
TARGET_LOAD = Decimal(20)  # weekly hours a teacher usually carries (1.1 of the 18-hour rate)
MIN_LOAD = Decimal(18)  # the teacher's rate in Ukraine
MAX_LOAD = Decimal(30)
MIN_SPEC_HOURS = Decimal(12)  # fewer hours than this go to a teacher of a related subject
CLASS_LETTERS = "АБВГДЕЄЖЗИІКЛМНОПРСТУФХЦЧШЩЮЯ"
BATCH_SIZE = 500

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class DemoOptions:
    seed: int = 1
    students: int = 1000  # per school
    scale: int = 1  # number of schools: slug, slug-2, ...
    slug: str = DEFAULT_SLUG

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

    def bulk(self, model: type[M], objs: Iterable[M]) -> list[M]:
        objs = list(objs)
        if objs:
            model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
            self.rows[model._meta.label] += len(objs)
        return objs

    def username(self, preferred: str) -> str:
        """``preferred`` if free, else ``preferred2``, ``preferred3``... (usernames are global)."""
        preferred = preferred[:140] or "user"
        name, n = preferred, 1
        while name in self.usernames:
            n += 1
            name = f"{preferred}{n}"
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


# --- helpers ------------------------------------------------------------------


def _phone(rng: random.Random) -> str:
    n = rng.randrange(10_000_000)
    return f"+380 {rng.choice(MOBILE_CODES)} {n // 10000:03d} {n // 100 % 100:02d} {n % 100:02d}"


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _adult(
    rng: random.Random, gender: str, born_from: int, born_to: int, surname: tuple[str, str] | None = None
) -> Person:
    last = (surname or rng.choice(SURNAMES))[0 if gender == Gender.MALE else 1]
    father = rng.choice(MALE_NAMES)
    if gender == Gender.MALE:
        first = rng.choice(MALE_NAMES)[0]
        patronymic = father[1]
    else:
        first = rng.choice(FEMALE_ADULT_NAMES)
        patronymic = father[2]
    birth = _date_between(rng, dt.date(born_from, 1, 1), dt.date(born_to, 12, 31))
    return Person(last, first, patronymic, gender, birth)


def _hired_on(rng: random.Random, person: Person) -> dt.date:
    """A first working day at the school after the person's graduation (about 23)."""
    assert person.birth is not None
    earliest = max(dt.date(person.birth.year + 23, 8, 25), dt.date(1990, 8, 25))
    return _date_between(rng, earliest, max(earliest, dt.date(2026, 8, 25)))


def _address(rng: random.Random) -> str:
    return f"м. Київ, {rng.choice(KYIV_STREETS)}, буд. {rng.randint(1, 120)}, кв. {rng.randint(1, 240)}"


def plan_classes(students: int) -> list[tuple[int, int, int]]:
    """(year level, index within the level, size) for ``students`` students.

    About 30 per class; from 55 students on every year level 1-11 has a class;
    extra classes go to the lower levels (larger cohorts).
    """
    n = max(1, round(students / CLASS_SIZE))
    levels = curriculum.LEVELS
    if students >= 5 * len(levels):
        n = max(n, len(levels))
    per_level: dict[int, int] = {}
    if n >= len(levels):
        base, extra = divmod(n, len(levels))
        per_level = {lvl: base + (1 if i < extra else 0) for i, lvl in enumerate(levels)}
    else:
        for i in range(n):
            lvl = levels[i * len(levels) // n]
            per_level[lvl] = per_level.get(lvl, 0) + 1
    slots = [(lvl, k) for lvl in levels for k in range(per_level.get(lvl, 0))]
    base, extra = divmod(students, len(slots))
    return [(lvl, k, base + (1 if i < extra else 0)) for i, (lvl, k) in enumerate(slots)]


def class_name(level: int, k: int) -> str:
    letters = len(CLASS_LETTERS)
    suffix = CLASS_LETTERS[k % letters] + (str(k // letters + 1) if k >= letters else "")
    return f"{level}-{suffix}"


# --- steps --------------------------------------------------------------------


def step_school(b: SchoolBuild) -> None:
    """The tenant through the service (standard scales, audit), plus journal defaults."""
    number = b.index + 1
    b.school = create_school(
        acting_user=None,
        slug=b.slug,
        name=f"Ліцей № {number} Печерського району м. Києва",
        short_name=f"Ліцей № {number}",
        kind=SchoolKind.LYCEUM,
        address=f"м. Київ, вул. Шовковична, {10 + number * 2}",
        phone=f"+380 44 2{number:02d} 1{number % 10}0 00",
        email=f"lyceum{number}@example.com",
    )
    b.scales = {s.kind: s for s in MarkingScale.objects.filter(school=b.school)}
    # Newer code creates the journal defaults on the school_created signal; only fill the gap.
    if not WorkType.objects.filter(school=b.school).exists():
        create_journal_defaults(b.school)


def step_calendar(b: SchoolBuild) -> None:
    """Academic year 2026/2027, its two semesters and the days off.

    Semesters as Kyiv schools set them: I 1 Sep - 26 Dec, II 11 Jan (the Monday after the
    winter vacation) - 30 May; June is for the state final attestation. Public holidays under
    the Labour Code (Christmas 25 Dec, Defenders' Day 1 Oct, ...); Easter and Trinity 2027
    by the Julian paschalion (2 May, 20 June).
    """
    school = b.school
    assert school is not None
    year = AcademicYear(school=school, name=YEAR_NAME, start=YEAR_START, end=YEAR_END, is_current=True)
    b.bulk(AcademicYear, [year])
    b.year = year
    whole = StudyPeriod(
        school=school, year=year, kind=PeriodKind.YEAR, name="Навчальний рік", start=YEAR_START, end=YEAR_END
    )
    b.bulk(StudyPeriod, [whole])
    semesters = [
        StudyPeriod(
            school=school,
            year=year,
            parent=whole,
            kind=PeriodKind.SEMESTER,
            name="I семестр",
            ordinal=1,
            start=dt.date(2026, 9, 1),
            end=dt.date(2026, 12, 26),
        ),
        StudyPeriod(
            school=school,
            year=year,
            parent=whole,
            kind=PeriodKind.SEMESTER,
            name="II семестр",
            ordinal=2,
            start=dt.date(2027, 1, 11),
            end=dt.date(2027, 5, 30),
        ),
    ]
    b.bulk(StudyPeriod, semesters)
    b.periods = [whole, *semesters]
    days = [
        (DayKind.HOLIDAY, "День захисників і захисниць України", dt.date(2026, 10, 1), dt.date(2026, 10, 1)),
        (DayKind.VACATION, "Осінні канікули", dt.date(2026, 10, 26), dt.date(2026, 11, 1)),
        (DayKind.HOLIDAY, "Різдво Христове", dt.date(2026, 12, 25), dt.date(2026, 12, 25)),
        (DayKind.VACATION, "Зимові канікули", dt.date(2026, 12, 27), dt.date(2027, 1, 10)),
        (DayKind.HOLIDAY, "Новий рік", dt.date(2027, 1, 1), dt.date(2027, 1, 1)),
        (DayKind.HOLIDAY, "Міжнародний жіночий день", dt.date(2027, 3, 8), dt.date(2027, 3, 8)),
        (DayKind.VACATION, "Весняні канікули", dt.date(2027, 3, 22), dt.date(2027, 3, 28)),
        (DayKind.HOLIDAY, "День праці", dt.date(2027, 5, 1), dt.date(2027, 5, 1)),
        (DayKind.HOLIDAY, "Великдень", dt.date(2027, 5, 2), dt.date(2027, 5, 3)),
        (DayKind.HOLIDAY, "День пам'яті та перемоги над нацизмом", dt.date(2027, 5, 8), dt.date(2027, 5, 8)),
        (DayKind.HOLIDAY, "Трійця", dt.date(2027, 6, 20), dt.date(2027, 6, 21)),
        (DayKind.HOLIDAY, "День Конституції України", dt.date(2027, 6, 28), dt.date(2027, 6, 28)),
    ]
    b.bulk(SpecialDay, (SpecialDay(school=school, year=year, kind=k, name=n, start=s, end=e) for k, n, s, e in days))


def step_structure(b: SchoolBuild) -> None:
    """Year levels 1-11 (verbal scale in primary), classes, subgroups, subjects and rooms."""
    school, year = b.school, b.year
    assert school is not None and year is not None
    verbal = b.scales.get(ScaleKind.VERBAL)
    b.levels = {
        n: YearLevel(school=school, number=n, name=f"{n} клас", scale=verbal if n in curriculum.VERBAL_LEVELS else None)
        for n in curriculum.LEVELS
    }
    b.bulk(YearLevel, b.levels.values())

    rng = b.rng("structure")
    plan = plan_classes(b.students_wanted)
    sizes = [size for _, _, size in plan]
    base = b.students_wanted // len(sizes)
    # A little variation in class sizes (28-32 rather than all 30), the total unchanged.
    for _ in range(len(sizes)):
        i, j = rng.randrange(len(sizes)), rng.randrange(len(sizes))
        if i != j and sizes[i] > base - 2 and sizes[j] < base + 2 and sizes[i] > 1:
            sizes[i] -= 1
            sizes[j] += 1
    b.classes = [
        SchoolClass(school=school, year=year, year_level=b.levels[lvl], name=class_name(lvl, k)) for lvl, k, _ in plan
    ]
    b.class_sizes = {c.name: size for c, size in zip(b.classes, sizes, strict=True)}
    b.bulk(SchoolClass, b.classes)
    subgroups = [
        Subgroup(school=school, school_class=c, name=f"Група {g}")
        for c in b.classes
        if c.year_level.number >= curriculum.SPLIT_FROM_LEVEL
        for g in (1, 2)
    ]
    b.bulk(Subgroup, subgroups)
    for sg in subgroups:
        b.subgroups.setdefault(sg.school_class.name, []).append(sg)

    taught = {name for c in b.classes for name in curriculum.level_hours(c.year_level.number)}
    pass_fail = b.scales.get(ScaleKind.PASS_FAIL)
    b.subjects = {
        info.name: Subject(
            school=school,
            name=info.name,
            short_name=info.short_name,
            scale=pass_fail if info.pass_fail else None,
        )
        for info in curriculum.SUBJECTS.values()
        if info.name in taught
    }
    b.bulk(Subject, b.subjects.values())

    special = [
        ("Спортивна зала", 60),
        ("Актова зала", 200),
        ("Бібліотека", 30),
        ("Кабінет фізики", 32),
        ("Кабінет хімії", 32),
        ("Кабінет біології", 32),
        ("Комп'ютерний клас № 1", 16),
        ("Комп'ютерний клас № 2", 16),
        ("Майстерня", 16),
        ("Кабінет мистецтва", 32),
    ]
    numbered = [(f"{1 + i // 12}{i % 12 + 1:02d}", 32) for i in range(len(b.classes))]
    b.rooms = b.bulk(Room, (Room(school=school, name=n, capacity=cap) for n, cap in [*numbered, *special]))


def _teaching_units(b: SchoolBuild) -> dict[str, list[Unit]]:
    units: dict[str, list[Unit]] = defaultdict(list)
    for c in b.classes:
        level = c.year_level.number
        whole: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        split: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        for subject, hours in curriculum.level_hours(level).items():
            spec = curriculum.spec_for(subject, level)
            (split if curriculum.is_split(subject, level) else whole)[spec].append((subject, hours))
        for spec, items in whole.items():
            units[spec].append(Unit(c, None, items))
        for spec, items in split.items():
            for sg in b.subgroups.get(c.name, []):
                units[spec].append(Unit(c, sg, list(items)))
    # Small schools: a subject with a few hours goes to the teacher of a related one.
    changed = True
    while changed:
        changed = False
        for spec in sorted(units, key=lambda s: (sum(u.hours for u in units[s]), s)):
            partner = curriculum.PARTNER_SPEC.get(spec)
            total = sum(u.hours for u in units[spec])
            if partner and units.get(partner) and total < MIN_SPEC_HOURS:
                units[partner].extend(units.pop(spec))
                changed = True
                break
    return dict(units)


def _distribute(units: list[Unit], teachers: list[TeacherPlan]) -> None:
    """Largest units first to the least loaded teacher (balanced loads); two subgroups of a
    class go to two different teachers when there are two. A heap keeps it O(n log n)."""
    order = sorted(units, key=lambda u: (-u.hours, u.school_class.name, u.subgroup.name if u.subgroup else ""))
    heap = [(Decimal(0), i) for i in range(len(teachers))]
    split_classes: list[set[int]] = [set() for _ in teachers]
    for unit in order:
        key = id(unit.school_class)
        skipped = []
        load, i = heapq.heappop(heap)
        while unit.subgroup is not None and key in split_classes[i] and heap:
            skipped.append((load, i))
            load, i = heapq.heappop(heap)
        if unit.subgroup is not None and key in split_classes[i] and skipped:
            # Every teacher already has the other subgroup: the least loaded takes both.
            skipped.append((load, i))
            skipped.sort()
            load, i = skipped.pop(0)
        teachers[i].units.append(unit)
        if unit.subgroup is not None:
            split_classes[i].add(key)
        heapq.heappush(heap, (load + unit.hours, i))
        for item in skipped:
            heapq.heappush(heap, item)


def step_staff(b: SchoolBuild) -> None:
    """Administration, teachers with their workload (teaching assignments), class teachers."""
    school, year = b.school, b.year
    assert school is not None and year is not None
    rng = b.rng("staff")
    run = b.run

    # Administration: the director, deputies (about one per 400 students), secretary, administrator.
    admin_posts = [
        (Role.DIRECTOR, "director", "директор"),
        (Role.DEPUTY, "deputy", "заступник директора з навчальної роботи"),
    ]
    extra_deputies = [
        "заступник директора з виховної роботи",
        "заступник директора з навчальної роботи (початкова школа)",
        "заступник директора з навчальної роботи (старша школа)",
    ]
    for post in extra_deputies[: max(0, min(3, round(b.students_wanted / 400) - 1))]:
        admin_posts.append((Role.DEPUTY, "", post))
    admin_posts += [
        (Role.SECRETARY, "secretary", "секретар"),
        (Role.ADMIN, "admin", "адміністратор електронного журналу"),
    ]
    admin_people: list[tuple[str, str, str, User, dt.date]] = []
    for role, login, position in admin_posts:
        gender = Gender.FEMALE if rng.random() < 0.75 else Gender.MALE
        person = _adult(rng, gender, 1965, 1992)
        user = run.new_user(
            person.last,
            person.first,
            person.patronymic,
            username=b.demo_username(login) if login else "",
            phone=_phone(rng),
            email="",
        )
        admin_people.append((role, login, position, user, _hired_on(rng, person)))

    # Teachers: one primary teacher per primary class; other specializations by their total hours.
    units = _teaching_units(b)
    for spec in sorted(units, key=lambda s: list(curriculum.SPECIALIZATIONS).index(s)):
        spec_units = units[spec]
        total = sum((u.hours for u in spec_units), Decimal(0))
        if spec == "primary":
            count = sum(1 for c in b.classes if c.year_level.number <= 4) or 1
        else:
            count = max(1, int((total / TARGET_LOAD).to_integral_value()))
            # Fewer, fuller posts rather than teachers under the 18-hour rate, but never over 30 hours.
            while count > 1 and total / count < MIN_LOAD:
                count -= 1
            count = max(count, math.ceil(total / MAX_LOAD))
        share = curriculum.FEMALE_SHARE.get(spec, curriculum.DEFAULT_FEMALE_SHARE)
        plans = []
        for _ in range(count):
            gender = Gender.FEMALE if rng.random() < share else Gender.MALE
            plans.append(TeacherPlan(_adult(rng, gender, 1962, 1999), spec))
        _distribute(spec_units, plans)
        b.teachers.extend(p for p in plans if p.units)

    # Class teachers: a primary class's own teacher; otherwise the teacher with most hours in the class.
    hours_in: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for i, t in enumerate(b.teachers):
        for u in t.units:
            hours_in[id(u.school_class)][i] += u.hours
    free = set(range(len(b.teachers)))
    homeroom_teacher: dict[int, TeacherPlan] = {}
    for c in b.classes:
        in_class = hours_in[id(c)]
        candidates = [i for i in in_class if i in free] or sorted(free)[:1] or list(range(len(b.teachers)))[:1]
        chosen = max(candidates, key=lambda i: (in_class.get(i, Decimal(0)), -i))
        best = b.teachers[chosen]
        if best.homeroom is None:
            best.homeroom = c
            free.discard(chosen)
        homeroom_teacher[id(c)] = best

    # The demo teacher: class teacher of the first 5th-grade class (teaches several classes too).
    demo_class = next((c for c in b.classes if c.year_level.number == 5), b.classes[0] if b.classes else None)
    demo_teacher = homeroom_teacher[id(demo_class)] if demo_class else None
    if demo_teacher is not None:
        # First in every list, so ``demo_logins`` finds it as the first teacher by id.
        b.teachers.remove(demo_teacher)
        b.teachers.insert(0, demo_teacher)
    for t in b.teachers:
        p = t.person
        login = b.demo_username("teacher") if t is demo_teacher else ""
        t.user = run.new_user(p.last, p.first, p.patronymic, username=login, phone=_phone(rng))

    b.bulk(User, [u for _, _, _, u, _ in admin_people] + [t.user for t in b.teachers if t.user])
    b.staff = {login: u for _, login, _, u, _ in admin_people if login}
    if demo_teacher is not None and demo_teacher.user is not None:
        b.staff["teacher"] = demo_teacher.user
    school.director_name = next(u.full_name for r, _, _, u, _ in admin_people if r == Role.DIRECTOR)
    school.save(update_fields=["director_name"])

    memberships = [
        Membership(
            school=school,
            user=u,
            role=role,
            position=pos,
            since=since,
        )
        for role, _, pos, u, since in admin_people
    ]
    memberships += [
        Membership(
            school=school,
            user=t.user,
            role=Role.TEACHER,
            position=curriculum.SPECIALIZATIONS[t.spec],
            since=_hired_on(rng, t.person),
        )
        for t in b.teachers
    ]
    b.bulk(Membership, memberships)

    for c in b.classes:
        c.class_teacher = homeroom_teacher[id(c)].user
    SchoolClass.objects.bulk_update(b.classes, ["class_teacher"], batch_size=BATCH_SIZE)

    b.assignments = [
        TeachingAssignment(
            school=school,
            year=year,
            teacher=t.user,
            school_class=u.school_class,
            subgroup=u.subgroup,
            subject=b.subjects[name],
            hours_per_week=hours,
        )
        for t in b.teachers
        for u in t.units
        for name, hours in u.items
    ]
    b.bulk(TeachingAssignment, b.assignments)


def _children_count(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.8 else 2 if r < 0.97 else 3


def step_students(b: SchoolBuild) -> None:
    """Students in families: siblings share surname, patronymic and address; 1-2 parents each."""
    school = b.school
    assert school is not None
    rng = b.rng("students")
    run = b.run

    # Seats per year level, shuffled, so siblings land in different levels.
    seats: dict[int, list[SchoolClass]] = defaultdict(list)
    for c in b.classes:
        seats[c.year_level.number].extend([c] * b.class_sizes[c.name])
    for lvl in seats:
        rng.shuffle(seats[lvl])
    demo_teacher = b.staff.get("teacher")
    demo_class = next((c for c in b.classes if demo_teacher and c.class_teacher is demo_teacher), None)

    students: list[Student] = []
    users: list[User] = []
    serial = 0
    while any(seats.values()):
        first_family = not b.families
        k = 2 if first_family else _children_count(rng)
        family = Family(
            surname=rng.choice(SURNAMES),
            father_name=rng.choice(MALE_NAMES),
            address=_address(rng),
        )
        chosen: list[SchoolClass] = []
        if first_family and demo_class is not None:
            seats[demo_class.year_level.number].remove(demo_class)
            chosen.append(demo_class)
        while len(chosen) < k:
            taken = {c.year_level.number for c in chosen}
            open_levels = [lvl for lvl in sorted(seats) if seats[lvl] and lvl not in taken]
            if not open_levels:
                break
            lvl = rng.choices(open_levels, weights=[len(seats[lvl]) for lvl in open_levels])[0]
            chosen.append(seats[lvl].pop())
        used_names: set[str] = set()
        for c in chosen:
            level = c.year_level.number
            gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
            pool = BOY_NAMES if gender == Gender.MALE else GIRL_NAMES
            first = rng.choice([n for n in pool if n not in used_names])
            used_names.add(first)
            last = family.surname[0 if gender == Gender.MALE else 1]
            patronymic = family.father_name[1 if gender == Gender.MALE else 2]
            # Grade 1 in September 2026: born September 2019 - August 2020; a few are a year older.
            born_from = dt.date(2020 - level, 9, 1)
            if rng.random() < 0.04:
                born_from = born_from.replace(year=born_from.year - 1)
            birth = _date_between(rng, born_from, born_from.replace(year=born_from.year + 1) - dt.timedelta(days=1))
            serial += 1
            login = b.demo_username("student") if first_family and c is demo_class else ""
            user = run.new_user(last, first, patronymic, username=login, phone=_phone(rng) if level >= 3 else "")
            student = Student(
                school=school,
                user=user,
                birth_date=birth,
                gender=gender,
                address=family.address,
                phone=user.phone,
                personal_file_number=f"{last[0]}-{serial:04d}",
            )
            users.append(user)
            students.append(student)
            family.children.append(student)
            b.student_class[id(student)] = c
        b.families.append(family)

    b.bulk(User, users)
    b.bulk(Student, students)
    b.students = students
    b.student_class = {s.pk: b.student_class[id(s)] for s in students}

    # Students who started in grade 1 here have been members since; about 15% came later.
    memberships = []
    for s in students:
        level = b.student_class[s.pk].year_level.number
        since = (
            dt.date(2027 - level, 9, 1)
            if rng.random() < 0.85
            else _date_between(rng, dt.date(2027 - level, 9, 1), YEAR_START)
        )
        b.member_since[s.pk] = since
        memberships.append(Membership(school=school, user=s.user, role=Role.STUDENT, since=since))
    b.bulk(Membership, memberships)
    b.bulk(
        Enrolment,
        (Enrolment(school=school, student=s, school_class=b.student_class[s.pk], start=YEAR_START) for s in students),
    )

    # Subgroups: the class list in alphabetical order, first half in group 1 (as schools split it).
    by_class: dict[str, list[Student]] = defaultdict(list)
    for s in students:
        by_class[b.student_class[s.pk].name].append(s)
    through = Subgroup.students.through
    links = []
    for name, groups in b.subgroups.items():
        roster = sorted(by_class.get(name, []), key=lambda s: (s.user.last_name, s.user.first_name, s.user.patronymic))
        half = (len(roster) + 1) // 2
        for i, s in enumerate(roster):
            links.append(through(subgroup_id=groups[0 if i < half else 1].pk, student_id=s.pk))
    b.bulk(through, links)

    _families(b, rng)


def _families(b: SchoolBuild, rng: random.Random) -> None:
    """Parents (mother and father, or one of them, or a guardian) and their guardian links."""
    school = b.school
    assert school is not None
    run = b.run
    parent_users: list[User] = []
    for i, family in enumerate(b.families):
        r = rng.random()
        both = i == 0 or r < 0.75
        mother = both or r < 0.95
        father = both or (not mother and r < 0.98)
        if mother:
            p = _adult(rng, Gender.FEMALE, 1972, 1998, family.surname)
            login = b.demo_username("parent") if i == 0 else ""
            user = run.new_user(p.last, p.first, p.patronymic, username=login, phone=_phone(rng))
            family.guardians.append((user, "мати"))
        if father:
            dad = family.father_name
            patronymic = rng.choice(MALE_NAMES)[1]
            user = run.new_user(family.surname[0], dad[0], patronymic, phone=_phone(rng))
            family.guardians.append((user, "батько"))
        if not family.guardians:
            # A grandmother as the legal guardian.
            p = _adult(rng, Gender.FEMALE, 1950, 1966, family.surname if rng.random() < 0.5 else None)
            user = run.new_user(p.last, p.first, p.patronymic, phone=_phone(rng))
            family.guardians.append((user, "опікун"))
        for user, _ in family.guardians:
            if rng.random() < 0.7:
                user.email = f"{user.username}@example.com"
            parent_users.append(user)
    b.bulk(User, parent_users)
    b.parents = parent_users

    memberships, links = [], []
    for i, family in enumerate(b.families):
        # A parent has been a member since their eldest child's first day here.
        since = min(b.member_since[child.pk] for child in family.children)
        for user, relation in family.guardians:
            memberships.append(Membership(school=school, user=user, role=Role.PARENT, since=since))
            # Now and then a court restricts a father's access to the child's data.
            may_see = not (i > 0 and relation == "батько" and rng.random() < 0.01)
            links += [
                GuardianLink(school=school, guardian=user, student=child, relation=relation, may_see=may_see)
                for child in family.children
            ]
    b.bulk(Membership, memberships)
    b.bulk(GuardianLink, links)


def step_consents(b: SchoolBuild) -> None:
    """Personal-data consents for most students (about 7% missing, for the consent report)."""
    school = b.school
    assert school is not None
    rng = b.rng("consents")
    recorder = b.staff.get("secretary") or b.staff.get("admin")
    assert recorder is not None
    consents = []
    number = 0
    for i, family in enumerate(b.families):
        given_by = family.guardians[0][0].full_name
        for child in family.children:
            number += 1
            given_on = _date_between(rng, dt.date(2026, 8, 20), dt.date(2026, 9, 10))
            purposes = []
            if i == 0 or rng.random() < 0.93:
                purposes.append(ConsentPurpose.PERSONAL_DATA)
                if rng.random() < 0.85:
                    purposes.append(ConsentPurpose.NOTIFICATIONS)
                if rng.random() < 0.6:
                    purposes.append(ConsentPurpose.PHOTO)
            consents += [
                Consent(
                    school=school,
                    student=child,
                    purpose=purpose,
                    given_by=given_by,
                    given_on=given_on,
                    document_ref=f"заява № {number}",
                    recorded_by=recorder,
                )
                for purpose in purposes
            ]
    b.bulk(Consent, consents)


# The generation steps, in order. Later capabilities append theirs.
STEPS: list[Step] = [
    step_school,
    step_calendar,
    step_structure,
    step_staff,
    step_students,
    step_consents,
    step_timetable,  # bells, weekly timetable, the year's lessons, substitutions
    step_journal,  # topics, homework, register, absences, marks, remarks up to today (with audit rows)
    step_planning,  # calendar-thematic plans bound to the year's lessons, a few teachers late
    step_messaging,  # a few conversations (one unanswered for 5 days), announcements, a forum topic
]


def _authority(run: DemoRun, schools: Sequence[School]) -> None:
    """An education authority over the demo schools with a read-only viewer (R1.1)."""
    authority, created = EducationAuthority.objects.get_or_create(name=AUTHORITY_NAME)
    authority.schools.add(*schools)
    if created:
        rng = random.Random(f"{run.options.seed}:authority")
        p = _adult(rng, Gender.FEMALE, 1970, 1985)
        viewer = run.new_user(p.last, p.first, p.patronymic, username=run.username("viewer"), phone=_phone(rng))
        run.bulk(User, [viewer])
        run.bulk(AuthorityViewer, [AuthorityViewer(authority=authority, user=viewer)])


def existing_slugs(options: DemoOptions) -> list[str]:
    return list(School.objects.filter(slug__in=options.slugs()).values_list("slug", flat=True))


@transaction.atomic
def generate(options: DemoOptions, steps: Sequence[Step] | None = None) -> DemoSummary:
    """Create ``options.scale`` demo schools in one transaction and return what was created."""
    started = time.perf_counter()
    run = DemoRun(options)
    summary = DemoSummary(schools=options.slugs())
    schools = []
    for index, slug in enumerate(options.slugs()):
        build = SchoolBuild(run=run, index=index, slug=slug, students_wanted=options.students)
        for step in steps if steps is not None else STEPS:
            step(build)
        assert build.school is not None
        schools.append(build.school)
        log_action(
            "demo.school.seeded",
            actor=None,
            school=build.school,
            obj=build.school,
            data={"seed": options.seed, "students": options.students},
        )
        summary.students += len(build.students)
        summary.classes += len(build.classes)
        summary.parents += len(build.parents)
    _authority(run, schools)
    summary.staff = (
        Membership.objects.filter(
            school__in=schools, role__in=[Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.SECRETARY, Role.TEACHER]
        )
        .values("user")
        .distinct()
        .count()
    )
    summary.rows = run.rows
    summary.seconds = time.perf_counter() - started
    return summary
