"""Benchmark the diary: the week page, the marks page and the week's read model (docs/performance.md).

Run from the repository root:

    .venv/bin/python bench/diary_week.py                      # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/diary_week.py

Builds the demo school (``--students 1000``, journal filled up to today) in a fresh database, then, for
the demo parent's two children and ``--sample`` other students, times the diary's week page (last
week: a full week of the journal with marks, topics, homework and changes), the marks page of the
current period and ``build_week`` alone, ``--runs`` times each, through Django's test client
(routing, session, middleware, template: the server's time without the network). On PostgreSQL it
creates (and drops afterwards) the database ``bench_diary`` (BENCH_DB_NAME names another).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_diary")

from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(students: int, sample: int) -> dict:
    from classbook.demo.generator import DemoOptions, generate
    from classbook.demo.logins import find_demo_logins
    from classbook.people.models import GuardianLink, Student, User
    from classbook.schools.models import School

    generate(DemoOptions(seed=1, students=students))
    school = School.objects.order_by("pk").first()
    logins = {login.key: login for login in find_demo_logins(school)}
    parent = User.objects.get(username=logins["parent"].username)
    children = list(GuardianLink.objects.filter(guardian=parent, may_see=True).values_list("student_id", flat=True))
    rng = random.Random(1)
    others = rng.sample(list(Student.objects.filter(school=school).select_related("user")), sample)
    return {"school": school, "parent": parent, "children": children, "students": others}


def _time(client: Client, url: str, runs: int) -> tuple[list[float], list[float], int]:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        client.get(url)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return wall, cpu, len(response.content)


def count_queries(client: Client, url: str) -> int:
    executed: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    return len(executed)


def bench(setup: dict, runs: int) -> dict:
    from classbook.access.context import resolve_school
    from classbook.diary import queries

    school = setup["school"]
    last_week = timezone.localdate() - dt.timedelta(days=7)
    visits = [(setup["parent"], sid) for sid in setup["children"]]
    visits += [(s.user, s.pk) for s in setup["students"]]
    week_wall, week_cpu, marks_wall, build_ms, sizes, lessons = [], [], [], [], [], []
    queries_seen: set[int] = set()
    for user, sid in visits:
        client = Client()
        client.force_login(user)
        url = reverse("diary:week", args=[school.slug, sid, last_week.isoformat()])
        wall, cpu, size = _time(client, url, runs)
        week_wall += wall
        week_cpu += cpu
        sizes.append(size)
        queries_seen.add(count_queries(client, url))
        marks_wall += _time(client, reverse("diary:marks", args=[school.slug, sid]), max(5, runs // 4))[0]
        ctx = resolve_school(user, school.slug)
        person = queries.pick(queries.diary_people(ctx), sid)
        for _ in range(runs):
            t0 = time.perf_counter()
            week = queries.build_week(ctx, person, last_week)
            build_ms.append((time.perf_counter() - t0) * 1000)
        lessons.append(sum(len(d.lessons) for d in week.days))
    return {
        "visits": len(visits),
        "week_median_ms": statistics.median(week_wall),
        "week_p95_ms": percentile(week_wall, 0.95),
        "week_cpu_median_ms": statistics.median(week_cpu),
        "marks_median_ms": statistics.median(marks_wall),
        "build_median_ms": statistics.median(build_ms),
        "queries": sorted(queries_seen),
        "kib": statistics.median(sizes) / 1024,
        "lessons": statistics.median(lessons),
    }


def profile(setup: dict) -> None:
    import cProfile
    import pstats

    client = Client()
    client.force_login(setup["parent"])
    day = timezone.localdate() - dt.timedelta(days=7)
    url = reverse("diary:week", args=[setup["school"].slug, setup["children"][0], day.isoformat()])
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        client.get(url)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000, help="demo school size")
    parser.add_argument("--sample", type=int, default=8, help="students whose own diary is timed, besides the children")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of 20 week pages and stop")
    args = parser.parse_args()

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        setup = build(args.students, args.sample)
        print(
            f"database: {connection.vendor}; demo of {args.students} students built in "
            f"{time.perf_counter() - t0:.1f} s; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
        )
        if args.profile:
            profile(setup)
            return
        r = bench(setup, args.runs)
        print(
            f"diary week page ({r['visits']} diaries × {args.runs} runs, {r['lessons']:.0f} lessons a week): "
            f"median {r['week_median_ms']:.1f} ms, p95 {r['week_p95_ms']:.1f} ms, "
            f"CPU median {r['week_cpu_median_ms']:.1f} ms, queries {r['queries']}, {r['kib']:.1f} KiB; "
            f"build_week alone median {r['build_median_ms']:.2f} ms"
        )
        print(f"marks page (current period): median {r['marks_median_ms']:.1f} ms")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
