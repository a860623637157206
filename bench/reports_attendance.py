"""Benchmark the attendance reports (docs/reports.md#attendance-reports-r62) on a seeded demo school.

Run from the repository root against a database that ``seed_demo`` filled (it is read, never written):

    createdb -h 127.0.0.1 -U postgres wt_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --seed 1 --students 1000
    .venv/bin/python bench/reports_attendance.py --runs 7

It times the read models as the director reads them (the school's first study period, its busiest class;
``BENCH_WHOLE_YEAR=1``: the whole year) and prints, per report, the median and best wall time, the number
of queries, and the ratio of the median to the in-run floor (the median of ``SELECT 1`` round trips x the
report's queries), so a loaded machine shows.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float, int]:
    fn()  # warm
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), len(captured)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--school", default="")
    args = parser.parse_args()

    from classbook.access.context import build_context
    from classbook.access.reports import attendance_classes, report_assignments
    from classbook.journal.models import Attendance
    from classbook.people.models import Membership, Role
    from classbook.reports import attendance as q
    from classbook.schools.models import School, StudyPeriod

    school = School.objects.get(slug=args.school) if args.school else School.objects.order_by("pk").first()
    director = Membership.objects.filter(school=school, role=Role.DIRECTOR).select_related("user").first()
    ctx = build_context(director.user, school)
    assignments, classes = report_assignments(ctx), attendance_classes(ctx)
    # the first period of the year that is not the year itself (a semester or a quarter), and the year
    first = StudyPeriod.objects.filter(school=school).order_by("start", "-end")
    year_long = first.first()
    period = first.exclude(pk=year_long.pk).order_by("start", "-end").first() or year_long
    if os.environ.get("BENCH_WHOLE_YEAR"):
        period = year_long
    busiest = (
        Attendance.objects.filter(school=school, lesson__date__range=(period.start, period.end))
        .values("lesson__assignment__school_class_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    school_class = classes.get(pk=busiest["lesson__assignment__school_class_id"])
    rows = Attendance.objects.filter(school=school, lesson__date__range=(period.start, period.end)).count()
    print(f"{connection.vendor}; {school}; {period.name} {period.start}..{period.end}; {rows} attendance rows")

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    one, _, _ = timed(floor, args.runs * 5)
    cases = {
        "summary sheet of attendance, one class": lambda: q.attendance_sheet(
            assignments, school_class, period.start, period.end
        ),
        "attendance by class, whole school": lambda: q.attendance_report(
            assignments, classes, q.Range(period.start, period.end), "class"
        ),
        "attendance by student, whole school": lambda: q.attendance_report(
            assignments, classes, q.Range(period.start, period.end), "student"
        ),
        "consecutive absences (3), whole school": lambda: q.consecutive_absences(
            classes, q.Range(period.start, period.end), 3
        ),
        "registers not taken, one day": lambda: q.registers_not_taken(assignments, period.start),
    }
    print(f"floor: SELECT 1 = {one * 1000:.2f} ms")
    for name, fn in cases.items():
        median, best, queries = timed(fn, args.runs)
        ratio = median / (one * max(queries, 1))
        print(
            f"{name}: median {median * 1000:.0f} ms, best {best * 1000:.0f} ms, {queries} queries, {ratio:.0f}x floor"
        )


if __name__ == "__main__":
    main()
