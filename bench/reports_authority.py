"""Benchmark the authority's comparison of its schools (issue 11: ten schools in ≤ 5 s, docs/reports.md).

Run from the repository root:

    .venv/bin/python bench/reports_authority.py --schools 2 --students 200     # quick, SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=wt_longreports_bench \
        .venv/bin/python bench/reports_authority.py --schools 10 --students 1000

Builds ``--schools`` demo schools (``seed_demo --scale N``: the demo's authority oversees all of them, with
its viewer), gives every student a first-semester grade in every subject taught to them (bulk-inserted, as
``bench/reports.py``: the demo gives marks, not period grades), then, ``--runs`` times each, as the
authority's viewer:

- ``reports.authority.compare`` for the first semester (every school's progress total and attendance
  counts): ms and queries;
- the same through the API (``GET /api/v1/authorities/{id}/reports/compare``: session, access, JSON);
- the XLSX export built in the background (``runs.start_authority_run`` with the immediate backend);
- a raw-SQL floor: per school, one hand-written ``GROUP BY`` over the same semester grades (distinct students,
  grades, sum of numbers, grades of the lowest level) and one ``COUNT`` of the attendance rows of the
  semester's days — what reading the rows costs.

Prints median and min (ms), the number of queries, the ratios (on the minimums) and the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from _bootstrap import analyze, bench_database, bootstrap

IS_POSTGRES = bootstrap("bench_reports_authority", TASKS_BACKEND="database")

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def build(schools: int, students: int) -> None:
    from classbook.demo.generator import DemoOptions, generate
    from classbook.journal.models import GradeKind, PeriodGrade
    from classbook.people.models import Enrolment
    from classbook.schools.models import AcademicYear, EducationAuthority, ScaleValue, StudyPeriod, TeachingAssignment

    generate(DemoOptions(seed=1, students=students, scale=schools))
    authority = EducationAuthority.objects.get()
    rng = random.Random(1)
    values: dict[int, tuple[list[ScaleValue], ScaleValue | None]] = {}
    rows: list[PeriodGrade] = []
    semesters = {}
    for school in authority.schools.all():
        year = AcademicYear.objects.get(school=school, is_current=True)
        semester = StudyPeriod.objects.filter(school=school, year=year, kind="semester").order_by("start").first()
        semesters[school.pk] = semester
        class_students: dict[int, list[int]] = {}
        for e in Enrolment.objects.filter(school=school, end__isnull=True).values("school_class_id", "student_id"):
            class_students.setdefault(e["school_class_id"], []).append(e["student_id"])
        assignments = TeachingAssignment.objects.filter(school=school, year=year).select_related(
            "subject__scale", "school_class__year_level__scale", "scale", "school__default_scale"
        )
        for a in assignments:
            scale = a.effective_scale()
            if scale is None:
                continue
            if scale.pk not in values:
                all_values = list(ScaleValue.objects.filter(scale=scale))
                plain = [v for v in all_values if not v.period_only]
                na = next((v for v in all_values if v.period_only and not v.is_passing), None)
                values[scale.pk] = (plain, na)
            plain, na = values[scale.pk]
            who = (
                list(a.subgroup.students.values_list("pk", flat=True))
                if a.subgroup_id
                else class_students.get(a.school_class_id, [])
            )
            for student_id in who:
                value = na if rng.random() < 0.02 and na else rng.choice(plain[len(plain) // 4 :])
                rows.append(
                    PeriodGrade(
                        school=school,
                        assignment=a,
                        student_id=student_id,
                        period=semester,
                        kind=GradeKind.PERIOD,
                        value=value,
                        set_by=a.teacher,
                    )
                )
    PeriodGrade.objects.bulk_create(rows, batch_size=2000)
    analyze()


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


FLOOR_GRADES = """
SELECT COUNT(DISTINCT g.student_id), COUNT(*), SUM(v.numeric),
       SUM(CASE WHEN v.level IN ('initial', 'fail') THEN 1 ELSE 0 END)
FROM journal_periodgrade g JOIN schools_scalevalue v ON v.id = g.value_id
WHERE g.school_id = %s AND g.period_id = %s AND g.ordinal = 0 AND g.kind IN ('period', 'corrected')
"""
FLOOR_ATTENDANCE = """
SELECT COUNT(*) FROM journal_attendance a JOIN journal_lesson l ON l.id = a.lesson_id
WHERE a.school_id = %s AND l.date BETWEEN %s AND %s
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=10)
    parser.add_argument("--students", type=int, default=1000, help="per school")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database if seeded, keep it after")
    parser.add_argument("--build-only", action="store_true", help="seed (with --keep) and stop")
    args = parser.parse_args()
    with bench_database(keep=args.keep) as seeded:
        t0 = time.perf_counter()
        if not seeded:
            build(args.schools, args.students)
        print(f"seeded in {time.perf_counter() - t0:.0f} s" + (" (reused)" if seeded else ""), flush=True)
        if not args.build_only:
            run(args)


def run(args: argparse.Namespace) -> None:
    from django.conf import settings

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from django_tasks.signals import clear_tasks_handlers

    clear_tasks_handlers(setting="TASKS")
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]

    t0 = time.perf_counter()
    data = build(args.schools, args.students)
    from classbook.access.report_runs import compared_schools
    from classbook.journal.models import Attendance
    from classbook.reports import authority, runs
    from classbook.reports.models import RunStatus

    auth, viewer = data["authority"], data["viewer"]
    schools = list(compared_schools(viewer, auth))
    print(
        f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}; built in {time.perf_counter() - t0:.0f} s: "
        f"{len(schools)} schools, {args.students} students each, {data['grades']} semester grades, "
        f"{Attendance.objects.count()} attendance rows; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    cal = authority.calendars(schools)
    key = cal.default()
    choice = next(c for c in cal.choices() if c.key == key)

    def compare() -> None:
        authority.compare(viewer, schools, cal, choice)

    client = Client()
    client.force_login(viewer)
    url = f"/api/v1/authorities/{auth.pk}/reports/compare?period={key}"

    def api() -> None:
        assert client.get(url).status_code == 200

    def background() -> None:
        result = runs.start_authority_run(acting_user=viewer, authority=auth, fmt="xlsx", params={"period": key})
        assert result.status == RunStatus.DONE, result.error

    def floor() -> None:
        with connection.cursor() as cursor:
            for school in schools:
                semester = data["semesters"][school.pk]
                cursor.execute(FLOOR_GRADES, [school.pk, semester.pk])
                cursor.fetchall()
                cursor.execute(FLOOR_ATTENDANCE, [school.pk, semester.start, semester.end])
                cursor.fetchall()

    f_med, f_min, f_q = timed(floor, args.runs)
    print(f"{'what':<44} {'median ms':>10} {'min ms':>9} {'queries':>8} {'ratio':>7}")
    print(f"{'raw-SQL floor (2 statements per school)':<44} {f_med:>10.1f} {f_min:>9.1f} {f_q:>8} {'1.0':>7}")
    for name, fn in [
        ("authority.compare (read model)", compare),
        ("GET /api/v1/authorities/{id}/reports/compare", api),
        ("XLSX built as a background run", background),
    ]:
        med, low, q = timed(fn, args.runs)
        print(f"{name:<44} {med:>10.1f} {low:>9.1f} {q:>8} {low / f_min:>7.1f}")
    print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
