"""Benchmark the usage report (docs/reports.md, "Usage (R9.2)") on a seeded demo school.

Run from the repository root against a database that ``seed_demo`` filled, as for ``reports_attendance.py``:

    .venv/bin/python bench/reports_usage.py --runs 7 --weeks 16

It WRITES synthetic activity into that database first (``--fill``, once): a login a week for half of the
school's members and a diary look a week for half of the students and parents (rows tagged by their days, so
``--fill`` again adds nothing twice), then times the report as the director reads it (whole school) and as
a class teacher reads it, and prints the median and best wall time, the CPU time, the number of queries, the
``SELECT 1`` floor and a raw-SQL floor (the distinct (person, week) pairs of logins and of diary views, the
two reads the report cannot avoid), with the ratios, and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from _bootstrap import analyze, setup_existing

IS_POSTGRES = setup_existing()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

RAW_FLOOR = """
SELECT count(*) FROM (
  SELECT DISTINCT subject_id, date_trunc('week', at) FROM core_auditentry
  WHERE school_id IS NULL AND action = 'people.login' AND at >= %s AND at < %s
) l;
SELECT count(*) FROM (
  SELECT DISTINCT viewer_id, student_id, as_parent, date_trunc('week', day) FROM diary_diaryview
  WHERE school_id = %s AND day BETWEEN %s AND %s
) v;
"""


def timed(fn, runs: int) -> tuple[float, float, int, float]:
    fn()  # warm
    times, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), len(captured), statistics.median(cpu)


def fill(school, start: dt.date, weeks: int) -> None:
    from django.utils import timezone

    from classbook.core.models import AuditEntry
    from classbook.diary.models import DiaryView
    from classbook.people.models import GuardianLink, Membership, Student

    if DiaryView.objects.filter(school=school, day=start).exists():
        return
    tz = timezone.get_current_timezone()
    members = list(Membership.objects.filter(school=school).values_list("user_id", flat=True).distinct())[::2]
    students = list(Student.objects.filter(school=school).values_list("pk", "user_id"))[::2]
    links = list(GuardianLink.objects.filter(school=school, may_see=True).values_list("guardian_id", "student_id"))
    for n in range(weeks):
        day = start + dt.timedelta(weeks=n)
        at = dt.datetime.combine(day, dt.time(18), tzinfo=tz)
        AuditEntry.objects.bulk_create(
            AuditEntry(school=None, actor_id=u, subject_id=u, action="people.login", data={}) for u in members
        )
        AuditEntry.objects.filter(school=None, action="people.login", at__date=dt.date.today()).update(at=at)
        DiaryView.objects.bulk_create(
            [DiaryView(school=school, viewer_id=u, student_id=s, day=day, as_parent=False) for s, u in students]
            + [DiaryView(school=school, viewer_id=g, student_id=s, day=day, as_parent=True) for g, s in links[::2]],
            ignore_conflicts=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--weeks", type=int, default=16)
    parser.add_argument("--school", default="")
    parser.add_argument("--no-fill", action="store_true")
    args = parser.parse_args()

    from classbook.access.context import build_context
    from classbook.access.reports import usage_classes
    from classbook.people.models import Membership, Role
    from classbook.reports.usage import usage_report
    from classbook.schools.models import School, SchoolClass

    school = School.objects.get(slug=args.school) if args.school else School.objects.order_by("pk").first()
    start = dt.date(2026, 9, 7)  # a Monday of the demo's first semester
    end = start + dt.timedelta(weeks=args.weeks) - dt.timedelta(days=1)
    if not args.no_fill:
        fill(school, start, args.weeks)
    analyze()  # the planner's statistics after seeding and filling (as autovacuum keeps them on a live database)
    director = Membership.objects.filter(school=school, role=Role.DIRECTOR).select_related("user").first()
    ctx = build_context(director.user, school)
    busiest = SchoolClass.objects.filter(school=school, class_teacher__isnull=False).order_by("pk").first()
    teacher_ctx = build_context(busiest.class_teacher, school)

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def raw_floor() -> None:
        first, second = (part for part in RAW_FLOOR.split(";") if part.strip())
        with connection.cursor() as cursor:
            cursor.execute(first, [start, end + dt.timedelta(days=1)])
            cursor.fetchall()
            cursor.execute(second, [school.pk, start, end])
            cursor.fetchall()

    one, _, _, _ = timed(floor, args.runs * 5)
    raw, raw_best, _, _cpu = timed(raw_floor, args.runs)
    print(f"{connection.vendor}; {school}; {args.weeks} weeks from {start}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"floor: SELECT 1 = {one * 1000:.2f} ms; raw SQL, distinct (person, week) of logins and views = median "
          f"{raw * 1000:.0f} ms, best {raw_best * 1000:.0f} ms")  # fmt: skip
    cases = {
        "usage, whole school (director)": lambda: usage_report(
            usage_classes(ctx), school.pk, start, end, whole_school=True
        ),
        "usage, one class (class teacher)": lambda: usage_report(
            usage_classes(teacher_ctx), school.pk, start, end, whole_school=False
        ),
    }
    for name, fn in cases.items():
        median, best, queries, cpu = timed(fn, args.runs)
        print(
            f"{name}: median {median * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms), best {best * 1000:.0f} ms, "
            f"{queries} queries, {median / (one * max(queries, 1)):.0f}x SELECT-1 floor, "
            f"{median / raw:.1f}x raw-SQL floor"
        )


if __name__ == "__main__":
    main()
