"""Benchmark the class-list import (R7.1): a whole school's students with their guardians from one file.

Run from the repository root:

    .venv/bin/python bench/roster_import.py                 # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/roster_import.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_roster_import``.
Options: --students 1000 --runs 3. Each run imports the same file into an empty school (the previous
run's rows are deleted first); a check-only run (dry run) is timed too.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_roster_import")

from django.db import connection, connections  # noqa: E402


def make_file(students: int, class_names: list[str]) -> bytes:
    header = "Class;Last name;First name;Patronymic;Birth date;Gender;Phone;"
    header += "Guardian 1: last name;Guardian 1: first name;Guardian 1: phone;Guardian 1: relation"
    rows = [header]
    for i in range(students):
        family = i - i % 3 if i % 10 == 0 else i  # every tenth student shares a parent with a sibling
        rows.append(
            f"{class_names[i % len(class_names)]};Прізвище{i};Ім'я{i};Петрович;{1 + i % 28:02d}.0{1 + i % 9}.2014;"
            f"{'ч' if i % 2 else 'ж'};;Прізвище{family};Мати{family};+38050{family:07d};мати"
        )
    return "\n".join(rows).encode("utf-8-sig")


def wipe(school) -> None:
    from classbook.core.models import AuditEntry
    from classbook.people.models import Enrolment, GuardianLink, Membership, Student, User

    GuardianLink.objects.filter(school=school).delete()
    Enrolment.objects.filter(school=school).delete()
    user_ids = list(
        Membership.objects.filter(school=school, role__in=["student", "parent"]).values_list("user_id", flat=True)
    )
    Membership.objects.filter(school=school, role__in=["student", "parent"]).delete()
    Student.objects.filter(school=school).delete()
    User.objects.filter(pk__in=user_ids).delete()
    AuditEntry.objects.filter(action="roster.students.imported").delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from classbook.people.models import Role
    from classbook.roster import imports
    from tests import factories as f

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        school = f.SchoolFactory(slug="bench", name="Bench lyceum")
        secretary = f.make_member(school, Role.SECRETARY, username="bench-secretary")
        year = f.YearFactory(school=school)
        names = [f"{level}-{letter}" for level in range(1, 12) for letter in "АБВ"]
        for name in names:
            f.SchoolClassFactory(year=year, name=name)
        data = make_file(args.students, names)
        print(
            f"database: {connection.vendor}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
            f"file: {args.students} students in {len(names)} classes, {len(data) // 1024} KiB CSV"
        )

        def once(dry_run: bool) -> tuple[float, imports.ImportReport]:
            t0 = time.perf_counter()
            report = imports.import_students(
                acting_user=secretary, school=school, year=year, file_name="list.csv", data=data, dry_run=dry_run
            )
            return time.perf_counter() - t0, report

        checks = [once(True)[0] for _ in range(args.runs)]
        timings = []
        for _ in range(args.runs):
            wipe(school)
            seconds, report = once(False)
            assert report.ok, report.errors[:3]
            timings.append(seconds)
        print(f"check only: median {statistics.median(checks):.2f} s, min {min(checks):.2f} s")
        print(
            f"import ({args.runs} runs): median {statistics.median(timings):.2f} s, min {min(timings):.2f} s; "
            f"{report.created} students, {report.guardians_created} guardian accounts"
        )
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
