"""Benchmark the class teacher's absences page and bulk reasons (docs/performance.md, R2.8).

Run from the repository root:

    .venv/bin/python bench/appeals_absences.py                  # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/appeals_absences.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_appeals`` (BENCH_DB_NAME).
Options: --students 30 --subjects 6 --lessons 100 --runs 30 --bulk 30.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_appeals")

from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402


def build(students: int, subjects: int, lessons: int) -> dict:
    from classbook.people.models import Role
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    year = f.YearFactory(school=school)
    school_class = f.SchoolClassFactory(year=year, name="7-А")
    class_teacher = f.make_member(school, Role.TEACHER, username="bench-class-teacher")
    school_class.class_teacher = class_teacher
    school_class.save()
    start = dt.date(2026, 9, 1)
    absences = 0
    for i in range(subjects):
        teacher = f.make_member(school, Role.TEACHER, username=f"bench-teacher-{i}")
        assignment = f.make_assignment(teacher, school_class, f.SubjectFactory(school=school, name=f"Предмет {i}"))
        made = f.make_grid(assignment, students=students if i == 0 else 0, lessons=lessons, start=start, seed=i)
        absences += made["absences"]
    return {
        "school": school,
        "class": school_class,
        "class_teacher": class_teacher,
        "start": start,
        "end": start + dt.timedelta(days=lessons - 1),
        "absences": absences,
    }


def time_page(client: Client, url: str, runs: int) -> tuple[float, float, int, int]:
    timings = []
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    queries = len(ctx.captured_queries)
    size = len(response.content)
    for _ in range(runs):
        t0 = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - t0) * 1000)
        reset_queries()
    timings.sort()
    return statistics.median(timings), timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))], queries, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--subjects", type=int, default=6)
    parser.add_argument("--lessons", type=int, default=100)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--bulk", type=int, default=30)
    args = parser.parse_args()

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        setup = build(args.students, args.subjects, args.lessons)
        print(
            f"database: {connection.vendor}; built in {time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs, "
            f"load {os.getloadavg()[0]:.1f}; {args.students} students, {args.subjects} subjects × "
            f"{args.lessons} lessons, {setup['absences']} absences"
        )
        client = Client()
        client.force_login(setup["class_teacher"])
        base = reverse("appeals:absences", args=[setup["school"].slug]) + f"?class={setup['class'].pk}"
        week_start = setup["end"] - dt.timedelta(days=6)
        for label, start in (("one week", week_start), ("the whole range", setup["start"])):
            url = f"{base}&from={start.isoformat()}&to={setup['end'].isoformat()}"
            median, p95, queries, size = time_page(client, url, args.runs)
            print(
                f"absences page, {label}: median {median:.1f} ms, p95 {p95:.1f} ms, "
                f"{queries} queries, {size // 1024} KiB"
            )

        from classbook.access.context import build_context
        from classbook.access.journal import attendance
        from classbook.appeals import services

        ctx = build_context(setup["class_teacher"], setup["school"])
        rows = list(attendance(ctx).filter(reason="").order_by("pk")[: args.bulk])
        t0 = time.perf_counter()
        services.record_absence_reasons(
            acting_user=setup["class_teacher"],
            absences=[(r, r.version) for r in rows],
            kind="illness",
            text="довідка",
            excused=True,
        )
        elapsed = (time.perf_counter() - t0) * 1000
        print(
            f"record_absence_reasons, {len(rows)} absences with their audit rows: {elapsed:.1f} ms "
            f"({elapsed / max(1, len(rows)):.2f} ms per absence)"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
