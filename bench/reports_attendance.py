"""Benchmark the attendance reports (docs/reports.md#attendance-reports-r62) on a seeded demo school.

Run from the repository root against a database that ``seed_demo`` filled (it is read, never written):

    createdb -h 127.0.0.1 -U postgres wt_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --seed 1 --students 1000
    .venv/bin/python bench/reports_attendance.py --runs 7

It times the read models as the director reads them (the school's first study period, its busiest class;
``BENCH_WHOLE_YEAR=1``: the whole year) and prints, per report, the median and best wall time, the number
of queries, the CPU time of this process, and the ratios of the median to two in-run floors: ``SELECT 1``
round trips x the report's queries, and a raw-SQL pass over the period's attendance rows grouped per student,
class and day (``RAW_FLOOR``: the least any whole-school report with whole days can read), with the load
average, so a loaded machine shows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from _bootstrap import analyze, setup_existing

IS_POSTGRES = setup_existing()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float, int, float]:
    """Median and best wall time, queries, and the median CPU time of this process (Python's share: the
    database's work is the rest; on a loaded machine compare CPU and the ratio to the floor, not wall time)."""
    fn()  # warm
    times, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), len(captured), statistics.median(cpu)


# The least any whole-school attendance report can cost: one pass over the period's attendance rows with
# their lesson, assignment and code, grouped per student, class and day, in raw SQL (no ORM, no Python work).
RAW_FLOOR = """
SELECT a.student_id, ta.school_class_id, l.date,
       count(*) FILTER (WHERE c.counts_as_absent) AS missed,
       count(*) FILTER (WHERE c.counts_as_absent AND (c.is_excused OR a.reason_excused)) AS excused,
       count(*) FILTER (WHERE c.is_late) AS late
FROM journal_attendance a
JOIN journal_lesson l ON l.id = a.lesson_id
JOIN schools_teachingassignment ta ON ta.id = l.assignment_id
JOIN journal_attendancecode c ON c.id = a.code_id
WHERE a.school_id = %s AND l.date BETWEEN %s AND %s AND (c.counts_as_absent OR c.is_late)
GROUP BY a.student_id, ta.school_class_id, l.date
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--school", default="")
    args = parser.parse_args()
    analyze()  # the planner's statistics after ``seed_demo`` (as autovacuum keeps them on a live database)

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
    first = StudyPeriod.objects.filter(school=school, year__is_current=True).order_by("start", "-end")
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

    def raw_floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(RAW_FLOOR, [school.pk, period.start, period.end])
            cursor.fetchall()

    one, _, _, _ = timed(floor, args.runs * 5)
    raw, raw_best, _, _cpu = timed(raw_floor, args.runs)
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
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"floor: SELECT 1 = {one * 1000:.2f} ms; raw SQL, one pass over the rows = median {raw * 1000:.0f} ms, "
          f"best {raw_best * 1000:.0f} ms")  # fmt: skip
    for name, fn in cases.items():
        median, best, queries, cpu = timed(fn, args.runs)
        ratio = median / (one * max(queries, 1))
        print(
            f"{name}: median {median * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms), best {best * 1000:.0f} ms, "
            f"{queries} queries, {ratio:.0f}x SELECT-1 floor, {median / raw:.1f}x raw-SQL floor"
        )


if __name__ == "__main__":
    main()
