"""Benchmark opening a school year (R4.3) on the demo school: preview and run (docs/performance.md).

Run from the repository root:

    .venv/bin/python bench/year_opening.py                 # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/year_opening.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_year_opening``.
Options: --students 1000 --runs 5. Each run opens the year inside a transaction that is rolled back,
so every run starts from the same demo school.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_year_opening")

from django.db import connection, connections, transaction  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from django.core.management import call_command
    from django.db.models import Count

    from classbook.people.models import Membership, Role
    from classbook.schools import opening
    from classbook.schools.models import School, SchoolClass, TeachingAssignment
    from classbook.timetable.models import TimetableEntry

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        call_command("seed_demo", "--students", str(args.students), stdout=open(os.devnull, "w"))  # noqa: SIM115
        school = School.objects.get(slug="demo")
        admin = Membership.objects.filter(school=school, role=Role.ADMIN).first().user
        print(
            f"database: {connection.vendor}; demo seeded in {time.perf_counter() - t0:.1f} s; "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        print(
            f"data: {SchoolClass.objects.filter(school=school).count()} classes, "
            f"{TeachingAssignment.objects.filter(school=school).count()} assignments, "
            f"{TimetableEntry.objects.filter(school=school).count()} timetable entries"
        )
        defaults = opening.defaults(school)
        data = opening.OpeningInput(name=defaults["name"], start=defaults["start"], end=defaults["end"])

        previews = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            plan = opening.plan_opening(acting_user=admin, school=school, data=data)
            previews.append(time.perf_counter() - t0)
        print(
            f"preview ({args.runs} runs): median {statistics.median(previews):.2f} s, min {min(previews):.2f} s; "
            f"{len(plan.classes)} classes, {len(plan.students)} students carried, "
            f"{sum(n for _name, n in plan.graduating)} graduates"
        )

        runs, counts = [], {}
        for _ in range(args.runs):
            try:
                with transaction.atomic():
                    t0 = time.perf_counter()
                    result = opening.open_year(acting_user=admin, school=school, data=data)
                    runs.append(time.perf_counter() - t0)
                    counts = result.counts
                    raise Rollback
            except Rollback:
                pass
        print(
            f"open the year ({args.runs} runs, each rolled back): median {statistics.median(runs):.2f} s, "
            f"min {min(runs):.2f} s; created {counts}"
        )
        per_class = (
            SchoolClass.objects.filter(school=school).annotate(n=Count("enrolments")).values_list("n", flat=True)
        )
        print(f"students per class: {min(per_class)}-{max(per_class)}")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
