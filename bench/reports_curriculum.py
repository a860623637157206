"""Benchmark the curriculum statistics (R6.4) on the 1,000-student demo school (docs/reports.md).

Run from the repository root:

    .venv/bin/python bench/reports_curriculum.py                      # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=wt_curriculum_bench \
        .venv/bin/python bench/reports_curriculum.py

Builds the demo school (``seed_demo --seed 1 --students 1000``: timetable lessons of the year, calendar-thematic
plans bound to them, every tenth lesson a control work with control marks), then, ``--runs`` times each:

- ``reports.curriculum.curriculum_report`` for the first semester as the director reads it, by class, journal,
  teacher and for the school: ms and the number of queries;
- the page (test client: session, access, filters, charts, template);
- a raw-SQL floor: two hand-written ``GROUP BY`` over the same rows (the semester's lessons per journal with
  their type, and the control-type marks per class), through the cursor, so the ratio report / floor says what
  the plan bindings, cancellations, the departed-student check and the progress figures cost on top.

Prints median and min (ms); the ratios use the minimums (the least noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bootstrap import analyze, bench_database, bootstrap

IS_POSTGRES = bootstrap("bench_reports_curriculum")

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

FLOOR_LESSONS = """
SELECT l.assignment_id, l.lesson_type, COUNT(*)
FROM journal_lesson l
WHERE l.school_id = %s AND l.date >= %s AND l.date <= %s
GROUP BY l.assignment_id, l.lesson_type
"""
FLOOR_MARKS = """
SELECT a.school_class_id, COUNT(DISTINCT m.student_id), COUNT(*), SUM(v.numeric)
FROM journal_mark m
JOIN journal_lesson l ON l.id = m.lesson_id
JOIN schools_teachingassignment a ON a.id = l.assignment_id
JOIN journal_worktype w ON w.id = m.work_type_id
JOIN schools_scalevalue v ON v.id = m.value_id
WHERE m.school_id = %s AND l.date >= %s AND l.date <= %s AND w.is_control
GROUP BY a.school_class_id
"""


def timed(fn, runs: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    fn()
    with CaptureQueriesContext(connection) as ctx:
        fn()
    queries = len(ctx.captured_queries)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples), min(samples), queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with bench_database():
        run(args)


def run(args: argparse.Namespace) -> None:
    from classbook.demo.generator import DemoOptions, generate
    from classbook.journal.models import Lesson, Mark
    from classbook.people.models import Membership, Role
    from classbook.planning.models import LessonBinding
    from classbook.schools.models import AcademicYear, School, StudyPeriod

    t0 = time.perf_counter()
    generate(DemoOptions(seed=1, students=args.students))
    analyze()
    school = School.objects.order_by("pk").first()
    assert school is not None
    year = AcademicYear.objects.get(school=school, is_current=True)
    semester = StudyPeriod.objects.filter(school=school, year=year, kind="semester").order_by("start").first()
    assert semester is not None
    director = Membership.objects.filter(school=school, role=Role.DIRECTOR).select_related("user").first().user
    print(
        f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}; built in {time.perf_counter() - t0:.1f} s: "
        f"{Lesson.objects.filter(school=school).count()} lessons, "
        f"{LessonBinding.objects.filter(school=school).count()} plan bindings, "
        f"{Mark.objects.filter(school=school).count()} marks; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )

    from django.utils import timezone

    from classbook.access.context import build_context
    from classbook.access.reports import curriculum_assignments
    from classbook.reports import curriculum, queries

    ctx = build_context(director, school)
    settings = queries.report_settings(school)
    scope = queries.Scope(year=year, period=semester)
    today = timezone.localdate()
    until = min(semester.end, today)

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_LESSONS, [school.pk, semester.start, until])
            cursor.fetchall()
            cursor.execute(FLOOR_MARKS, [school.pk, semester.start, until])
            cursor.fetchall()

    floor_med, floor_min, _ = timed(floor, args.runs)
    print(
        f"raw-SQL floor (lessons per journal and type; control marks per class): median {floor_med:.1f} ms, "
        f"min {floor_min:.1f} ms"
    )
    for lines in ("class", "journal", "teacher", "school"):
        med, low, n = timed(
            lambda g=lines: curriculum.curriculum_report(
                curriculum_assignments(ctx), scope, g, settings, school, today=today
            ),
            args.runs,
        )
        print(
            f"curriculum_report by {lines:8}: median {med:7.1f} ms, min {low:7.1f} ms, {n} queries, "
            f"ratio to floor (min) {low / floor_min:.1f}"
        )
    with CaptureQueriesContext(connection) as captured:
        curriculum.curriculum_report(curriculum_assignments(ctx), scope, "class", settings, school, today=today)
    for i, q in enumerate(captured.captured_queries):
        print(f"  query {i + 1}: {float(q['time']) * 1000:.0f} ms  {q['sql'][:90]}")
    client = Client(HTTP_HOST="localhost")
    client.force_login(director)

    def page() -> None:
        response = client.get(f"/s/{school.slug}/reports/curriculum/?period=p{semester.pk}&group_by=class")
        assert response.status_code == 200, response.status_code

    med, low, n = timed(page, args.runs)
    print(f"curriculum page (whole school, by class): median {med:.1f} ms, min {low:.1f} ms, {n} queries")


if __name__ == "__main__":
    main()
