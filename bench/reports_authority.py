"""Benchmark the authority's comparison of its schools (issue 11: ten schools in ≤ 5 s, docs/reports.md).

Run from the repository root:

    .venv/bin/python bench/reports_authority.py --schools 2 --students 200     # quick, SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=wt_longreports_bench \
        .venv/bin/python bench/reports_authority.py --schools 10 --students 1000 --keep --build-only
    DATABASE_URL=... BENCH_DB_NAME=wt_longreports_bench .venv/bin/python bench/reports_authority.py --keep

(``--keep``: the seed, about 18 minutes for ten schools on a loaded machine, is paid once and the database
kept; ``ANALYZE`` after seeding.)

Builds ``--schools`` demo schools (``seed_demo --scale N``: the demo's authority oversees all of them, with
its viewer), gives every student a first-semester grade in every subject taught to them (bulk-inserted, as
``bench/reports.py``: the demo gives marks, not period grades), then, ``--runs`` times each, as the
authority's viewer:

- ``reports.authority.compare`` for the first semester (every school's progress total and attendance
  counts): ms and queries;
- the same through the API (``GET /api/v1/authorities/{id}/reports/compare``: session, access, JSON);
- the page at once (the size rule's threshold raised), and in the background end to end as the viewer goes:
  the page's ``POST`` (303), the database task backend's worker (``db_worker --batch``, in process), the run's
  page with the comparison; the same over the API (``POST …/runs`` 202, the worker, the state, the JSON);
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
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    from classbook.access.report_runs import compared_schools
    from classbook.journal.models import Attendance, PeriodGrade
    from classbook.people.models import AuthorityViewer
    from classbook.reports import authority
    from classbook.reports.models import ReportRun, RunStatus
    from classbook.schools.models import AcademicYear, EducationAuthority, StudyPeriod

    auth = EducationAuthority.objects.get()
    viewer = AuthorityViewer.objects.filter(authority=auth).select_related("user").first().user
    schools = list(compared_schools(viewer, auth))
    semesters = {
        school.pk: StudyPeriod.objects.filter(
            school=school, year=AcademicYear.objects.get(school=school, is_current=True), kind="semester"
        )
        .order_by("start")
        .first()
        for school in schools
    }
    print(
        f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}: {len(schools)} schools, "
        f"{PeriodGrade.objects.count()} period grades, {Attendance.objects.count()} attendance rows; "
        f"{os.cpu_count()} CPUs, load {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    cal = authority.calendars(schools)
    key = cal.default()
    choice = next(c for c in cal.choices() if c.key == key)
    client = Client()
    client.force_login(viewer)
    page = f"/authority/{auth.pk}/reports/compare/"
    api = f"/api/v1/authorities/{auth.pk}/reports"
    client.get(page + "?period=nonsense")  # the session's first request and the URLconf, before timing

    def compare() -> None:
        authority.compare(viewer, schools, cal, choice)

    def api_at_once() -> None:
        assert client.get(f"{api}/compare", {"period": key}).status_code == 200

    def page_at_once() -> None:
        settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 100
        assert client.get(page, {"period": key}).status_code == 200
        settings.REPORTS_AUTHORITY_BACKGROUND_SCHOOLS = 5

    def worker() -> None:
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)

    steps: dict[str, list[float]] = {"POST": [], "worker": [], "result": []}

    def page_in_background() -> None:
        """The viewer's path: the page's button (POST, 303), the worker, the run's page with the comparison."""
        t0 = time.perf_counter()
        started = client.post(page + "run", {"period": key})
        t1 = time.perf_counter()
        worker()
        t2 = time.perf_counter()
        result = client.get(started["Location"])
        t3 = time.perf_counter()
        assert started.status_code == 303 and b"<svg" in result.content
        for name, ms in (("POST", t1 - t0), ("worker", t2 - t1), ("result", t3 - t2)):
            steps[name].append(ms * 1000)

    def api_in_background() -> None:
        started = client.post(f"{api}/runs", {"period": key}, content_type="application/json")
        worker()
        state = client.get(started["Location"]).json()
        assert state["status"] == "done", state
        assert client.get(state["file"]).status_code == 200

    def floor() -> None:
        with connection.cursor() as cursor:
            for school in schools:
                semester = semesters[school.pk]
                cursor.execute(FLOOR_GRADES, [school.pk, semester.pk])
                cursor.fetchall()
                cursor.execute(FLOOR_ATTENDANCE, [school.pk, semester.start, semester.end])
                cursor.fetchall()

    f_med, f_min, f_q = timed(floor, args.runs)
    print(f"{'what':<52} {'median ms':>10} {'min ms':>9} {'queries':>8} {'ratio':>7}")
    print(f"{'raw-SQL floor (2 statements per school)':<52} {f_med:>10.1f} {f_min:>9.1f} {f_q:>8} {'1.0':>7}")
    for name, fn in [
        ("authority.compare (read model)", compare),
        ("GET /api/v1/authorities/{id}/reports/compare", api_at_once),
        ("the page at once (threshold raised)", page_at_once),
        ("the page in the background: POST, worker, result", page_in_background),
        ("the API in the background: POST, worker, state, JSON", api_in_background),
    ]:
        med, low, q = timed(fn, args.runs)
        print(f"{name:<52} {med:>10.1f} {low:>9.1f} {q:>8} {low / f_min:>7.1f}", flush=True)
    for name, samples in steps.items():
        print(f"  of which {name:<8} median {statistics.median(samples):>9.1f} ms, min {min(samples):>9.1f} ms")
    done = ReportRun.objects.filter(status=RunStatus.DONE).count()
    print(f"runs built: {done}; load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
