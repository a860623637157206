"""Demo steps: the school, its calendar and its structure.

- ``step_school``: the tenant through the service ``schools.services.create_school`` (the standard
  scales, the ``school.created`` audit row, the ``school_created`` signal on which the journal creates
  its default work types and attendance codes).
- ``step_calendar``: the academic year 2026/2027, its two semesters nested in the year, and the days off.
- ``step_structure``: year levels 1-11, classes, subgroups, subjects, rooms.

Bulk writer: ``SchoolBuild.bulk`` (``bulk_create``, see ``classbook.demo.bulk``) for the calendar and
structure rows, ~100 rows per school. It keeps the rules the structure services
(``schools.services.create_row``) check, by construction: every row's ``school`` is the built school,
periods lie inside their year and semesters inside the whole-year period, subgroups belong to their
class, class names are unique per year, a year level's scale is a scale of the school. ``tests/demo``
runs ``full_clean`` on a sample of every model and checks every row points to objects of its own
school. No audit row per structure row: the data is written by the system, not by a person; one
``demo.school.seeded`` entry records the whole run.
"""

from __future__ import annotations

import datetime as dt

from classbook.demo import curriculum
from classbook.demo.build import YEAR_END, YEAR_NAME, YEAR_START, SchoolBuild
from classbook.schools.models import (
    AcademicYear,
    DayKind,
    MarkingScale,
    PeriodKind,
    Room,
    ScaleKind,
    SchoolClass,
    SchoolKind,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    Subject,
    YearLevel,
)
from classbook.schools.services import create_school

CLASS_SIZE = 30  # the legal maximum class size in Ukraine
CLASS_LETTERS = "АБВГДЕЄЖЗИІКЛМНОПРСТУФХЦЧШЩЮЯ"


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


def step_school(b: SchoolBuild) -> None:
    """The tenant through the service: standard scales, audit, the journal's defaults (by its signal)."""
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
    # The journal's default work types and attendance codes come with it (the ``school_created`` signal).


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
