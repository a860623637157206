"""Benchmark lesson generation: a whole school's lessons for a year from the timetable (docs/performance.md).

Run from the repository root:

    .venv/bin/python bench/timetable_generate.py            # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/timetable_generate.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_timetable``.
Options: --classes 30 --per-week 30 --runs 3. Target (issue 4): at most 10 s on SQLite for 30 classes
with about 30 lessons a week each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_timetable")

from django.db import connection, connections  # noqa: E402

DAYS = 5
SUBJECTS = 10


def build(classes: int, per_week: int) -> dict:
    """A school with ``classes`` classes of ``per_week`` weekly lessons, 40 teachers, 3 vacations.

    Entries are bulk-inserted (the generator is measured, not the clash check; that is timed apart).
    Every class also has one numerator/denominator pair so parity is exercised.
    """
    from classbook.people.models import Role
    from classbook.schools.models import SpecialDay, TeachingAssignment
    from classbook.timetable.models import TimetableEntry
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    admin = f.make_member(school, Role.ADMIN, username="bench-admin")
    year = f.YearFactory(school=school)
    for name, start, end in (
        ("Осінні канікули", dt.date(2026, 10, 26), dt.date(2026, 11, 1)),
        ("Зимові канікули", dt.date(2026, 12, 28), dt.date(2027, 1, 10)),
        ("Весняні канікули", dt.date(2027, 3, 22), dt.date(2027, 3, 28)),
        ("День Незалежності", dt.date(2026, 8, 24), dt.date(2026, 8, 24)),
    ):
        if start >= year.start:
            SpecialDay.objects.create(school=school, year=year, kind="vacation", name=name, start=start, end=end)
    teachers = [f.make_member(school, Role.TEACHER, username=f"bench-t{i}") for i in range(40)]
    subjects = [f.SubjectFactory(school=school, name=f"Предмет {i}") for i in range(SUBJECTS)]
    rooms = [f.RoomFactory(school=school, name=f"R{i}") for i in range(classes)]
    entries = []
    for c in range(classes):
        school_class = f.SchoolClassFactory(year=year, name=f"{5 + c // 4}-{c}")
        assignments = TeachingAssignment.objects.bulk_create(
            [
                TeachingAssignment(
                    school=school,
                    year=year,
                    teacher=teachers[(c * SUBJECTS + s) % len(teachers)],
                    school_class=school_class,
                    subject=subjects[s],
                    hours_per_week=3,
                )
                for s in range(SUBJECTS)
            ]
        )
        for k in range(per_week):
            weekday, number = k % DAYS + 1, k // DAYS + 1
            parity = "every"
            if k == per_week - 1:
                parity = "odd"
            entries.append(
                TimetableEntry(
                    school=school,
                    year=year,
                    assignment=assignments[k % SUBJECTS],
                    weekday=weekday,
                    number=number,
                    room=rooms[c],
                    parity=parity,
                    valid_from=year.start,
                    valid_until=year.end,
                    created_by=admin,
                )
            )
            if parity == "odd":
                entries.append(
                    TimetableEntry(
                        school=school,
                        year=year,
                        assignment=assignments[(k + 1) % SUBJECTS],
                        weekday=weekday,
                        number=number,
                        room=rooms[c],
                        parity="even",
                        valid_from=year.start,
                        valid_until=year.end,
                        created_by=admin,
                    )
                )
    TimetableEntry.objects.bulk_create(entries)
    return {"school": school, "admin": admin, "year": year, "entries": len(entries), "subjects": subjects}


def wipe() -> None:
    from classbook.journal.models import Lesson
    from classbook.timetable.models import GeneratedLesson, GenerationRun

    GeneratedLesson.objects.all().delete()
    Lesson.objects.all().delete()
    GenerationRun.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=30)
    parser.add_argument("--per-week", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from classbook.journal.models import Lesson
    from classbook.timetable import services

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        setup = build(args.classes, args.per_week)
        print(
            f"database: {connection.vendor}; built in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        print(f"data: {args.classes} classes, {setup['entries']} timetable entries, year {setup['year']}")
        year = setup["year"]
        timings = []
        created = 0
        for _ in range(args.runs):
            wipe()
            t0 = time.perf_counter()
            result = services.generate_lessons(
                acting_user=setup["admin"], school=setup["school"], start=year.start, end=year.end
            )
            timings.append(time.perf_counter() - t0)
            created = result.created
        print(
            f"generate a year ({args.runs} runs): median {statistics.median(timings):.2f} s, "
            f"min {min(timings):.2f} s; {created} lessons created, "
            f"{len(result.skipped_days)} holiday days skipped; {Lesson.objects.count()} lessons in the database"
        )
        t0 = time.perf_counter()
        again = services.generate_lessons(
            acting_user=setup["admin"], school=setup["school"], start=year.start, end=year.end
        )
        print(f"generate again (idempotent): {time.perf_counter() - t0:.2f} s, {again.created} created")

        # The clash check as the deputy meets it: add one more entry through the service.
        from classbook.schools.models import TeachingAssignment

        assignment = TeachingAssignment.objects.filter(school=setup["school"]).first()
        checks = []
        for number in range(7, 12):
            t0 = time.perf_counter()
            services.add_entry(acting_user=setup["admin"], assignment=assignment, weekday=1, number=number)
            checks.append((time.perf_counter() - t0) * 1000)
        print(f"add_entry with its clash check: median {statistics.median(checks):.1f} ms")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
