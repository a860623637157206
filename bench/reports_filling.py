"""Benchmark the journal filling reports (docs/reports.md#journal-filling-and-control-r63-r69-r611) on a
seeded demo school.

Run from the repository root against a database that ``seed_demo`` filled (it is read, never written):

    createdb -h 127.0.0.1 -U postgres wt_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/wt_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --seed 1 --students 1000
    .venv/bin/python bench/reports_filling.py --runs 7

It times the read models as the director reads them — the filling report of the school's first study period
by journal and by teacher (with the accumulation rule and the quality indicator), of its first month, and a
day's user activity — and prints, per report, the median and best wall time (and CPU), the number of queries
and the ratio of the median to an in-run floor: one hand-written ``GROUP BY`` over the same lessons and marks
(lessons, lessons without topic / homework / register, marks, late marks per journal) through the cursor, so
the ratio says what the ORM, the accumulation rule, the remarks and the grouping cost on top of reading rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from _bootstrap import analyze, setup_existing

IS_POSTGRES = setup_existing()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

FLOOR = """
SELECT l.assignment_id, COUNT(*), SUM(CASE WHEN l.topic = '' THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.homework = '' THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.register_taken_at IS NULL THEN 1 ELSE 0 END)
FROM journal_lesson l
WHERE l.school_id = %(school)s AND l.date BETWEEN %(start)s AND %(end)s
GROUP BY l.assignment_id
"""
FLOOR_MARKS = """
SELECT l.assignment_id, COUNT(*), SUM(CASE WHEN m.is_late THEN 1 ELSE 0 END)
FROM journal_mark m JOIN journal_lesson l ON l.id = m.lesson_id
WHERE l.school_id = %(school)s AND l.date BETWEEN %(start)s AND %(end)s AND m.value_id IS NOT NULL
GROUP BY l.assignment_id
"""


def timed(fn, runs: int) -> tuple[float, float, float, int]:
    fn()  # warm
    times, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), statistics.median(cpu), len(captured)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--school", default="")
    args = parser.parse_args()
    analyze()  # the planner's statistics after ``seed_demo`` (as autovacuum keeps them on a live database)

    from classbook.access.context import build_context
    from classbook.access.reports import activity_logins, activity_members, report_assignments
    from classbook.journal.models import Lesson, Mark
    from classbook.people.models import Membership, Role
    from classbook.reports import filling
    from classbook.schools.models import School, StudyPeriod

    school = School.objects.get(slug=args.school) if args.school else School.objects.order_by("pk").first()
    director = Membership.objects.filter(school=school, role=Role.DIRECTOR).select_related("user").first()
    ctx = build_context(director.user, school)
    assignments = report_assignments(ctx)
    first = StudyPeriod.objects.filter(school=school, year__is_current=True).order_by("start", "-end")
    year_long = first.first()
    period = first.exclude(pk=year_long.pk).order_by("start", "-end").first() or year_long
    month_end = (period.start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    month = (period.start, month_end - dt.timedelta(days=1))
    lessons = Lesson.objects.filter(school=school, date__range=(period.start, period.end)).count()
    marks = Mark.objects.filter(school=school, lesson__date__range=(period.start, period.end)).count()
    print(
        f"{connection.vendor}; {school}; {period.name} {period.start}..{period.end}; {assignments.count()} journals, "
        f"{lessons} lessons, {marks} marks"
    )

    def floor(start, end):
        def run() -> None:
            with connection.cursor() as cursor:
                for sql in (FLOOR, FLOOR_MARKS):
                    cursor.execute(sql, {"school": school.pk, "start": start, "end": end})
                    cursor.fetchall()

        return run

    floors = {}
    for label, (start, end) in (("period", (period.start, period.end)), ("month", month)):
        floors[label], best, _cpu, _ = timed(floor(start, end), args.runs)
        print(
            f"floor, {label} (raw GROUP BY of lessons and marks): median {floors[label] * 1000:.1f} ms, "
            f"best {best * 1000:.1f} ms"
        )
    cases = {
        ("period", "filling by journal, period (accumulation, quality)"): lambda: filling.filling_report(
            assignments, school, filling.FillingScope(period.start, period.end, period), "journal"
        ),
        ("period", "filling by teacher, period"): lambda: filling.filling_report(
            assignments, school, filling.FillingScope(period.start, period.end, period), "teacher"
        ),
        ("month", "filling by class, first month"): lambda: filling.filling_report(
            assignments, school, filling.FillingScope(*month), "class"
        ),
        ("month", "user activity, the period's first month"): lambda: filling.user_activity(
            school, activity_logins(ctx), activity_members(ctx), *month
        ),
    }
    for (span, name), fn in cases.items():
        median, best, cpu, queries = timed(fn, args.runs)
        print(
            f"{name}: median {median * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms), best {best * 1000:.0f} ms, "
            f"{queries} queries, {median / floors[span]:.1f}x the {span}'s floor"
        )


if __name__ == "__main__":
    main()
