"""How good is the forecast of period grades (R6.5)? And what do the demo's grades and the forecast cost?

Run from the repository root:

    .venv/bin/python bench/forecast_accuracy.py                  # SQLite, 1,000 students, seed 1
    .venv/bin/python bench/forecast_accuracy.py --students 300 --seed 2 --at 0.25,0.5,0.75
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=wt_forecast_bench \
        .venv/bin/python bench/forecast_accuracy.py

1. Builds the demo school as of 10 July 2027 (``time_machine``: the academic year is over), so the journal has
   a year of marks and the grades step (``demo/steps/grades.py``) gives both semesters' grades and the annual
   grades; the generator's total time and the grades step's own time are printed.
2. For each semester and each point of it (``--at``: shares of the semester's days, default the middle), makes
   the forecast of every journal from the marks up to that day (``reports.forecast.forecasts``) and compares it
   with the period grade the grades step gave. Only grades with a number on both sides (a forecast exists and
   the final grade is neither "н/а" nor "звільн."). Prints: exact hits, within ±1, mean absolute error, the share
   of finals inside the stated range, and the same split by the number of marks the forecast had.
3. Times the school's at-risk list (``reports.forecast.at_risk`` over every journal) against a floor: the one
   grouped statement of the journal × student sums it decides from (``journal.stats.journal_tallies``'s SQL),
   raw through the cursor, and the ratio; for scale, the time of reading every mark row of the period raw (what
   the list read before it summed in the database). ``--timing-only`` skips the accuracy figures.

**Circularity.** The demo's final grade is itself the grade of the full period's average of marks — the same
rule the forecast applies — so the forecast at mid-period differs from the final only by the marks of the
second half. The figures measure how much a half-period of marks tells about the whole period's average
under the demo's model of marks (a stable ability per student plus noise), not how teachers grade; a real
school's finals (teachers' judgement, retakes, trends) would score lower. Nothing is asserted: a benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections import defaultdict

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_forecast")

import time_machine  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

AFTER_THE_YEAR = dt.datetime(2027, 7, 10, 12, 0, tzinfo=dt.UTC)


def build(seed: int, students: int) -> dict[str, float]:
    from classbook.demo.generator import STEPS, DemoOptions, generate
    from classbook.demo.steps.grades import step_grades

    timings: dict[str, float] = {}

    def timed_grades(build):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        step_grades(build)
        timings["grades_step"] = time.perf_counter() - started

    steps = [timed_grades if s is step_grades else s for s in STEPS]
    started = time.perf_counter()
    with time_machine.travel(AFTER_THE_YEAR, tick=False):
        generate(DemoOptions(seed=seed, students=students), steps=steps)
    timings["generate"] = time.perf_counter() - started
    return timings


def accuracy(at: list[float]) -> None:
    from classbook.journal.models import GradeKind, PeriodGrade
    from classbook.reports import forecast
    from classbook.schools.models import PeriodKind, School, StudyPeriod, TeachingAssignment

    school = School.objects.order_by("pk").first()
    assert school is not None
    # The running year: the demo's previous year has period grades but no marks to forecast from.
    journals = forecast.journal_assignments(TeachingAssignment.objects.filter(school=school, year__is_current=True))
    semesters = list(
        StudyPeriod.objects.filter(school=school, year__is_current=True).exclude(kind=PeriodKind.YEAR).order_by("start")
    )
    finals: dict[tuple[int, int, int], tuple[str, object]] = {
        (a, s, p): (code, num)
        for a, s, p, code, num in PeriodGrade.objects.filter(school=school, kind=GradeKind.PERIOD).values_list(
            "assignment_id", "student_id", "period_id", "value__code", "value__numeric"
        )
    }
    print(f"final period grades: {len(finals)}")
    print()
    print("semester        point  day         pairs  exact  within±1   MAE  in range  mean width")
    for period in semesters:
        days = (period.end - period.start).days
        for share in at:
            day = period.start + dt.timedelta(days=round(days * share))
            found = forecast.forecasts(journals, period, day, school=school)
            pairs, exact, near, errors, inside, widths = 0, 0, 0, [], 0, []
            by_marks: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # pairs, exact, near, inside
            for a in journals:
                for f in found.get(a.pk, []):
                    final = finals.get((a.pk, f.student_id, period.pk))
                    if not f.grade or final is None or final[1] is None:
                        continue
                    got, want = int(f.grade), int(final[1])  # type: ignore[call-overload]
                    low, high = int(f.low), int(f.high)
                    pairs += 1
                    exact += got == want
                    near += abs(got - want) <= 1
                    inside += low <= want <= high
                    errors.append(abs(got - want))
                    widths.append(high - low)
                    bucket = "1-2" if f.count <= 2 else "3-4" if f.count <= 4 else "5-7" if f.count <= 7 else "8+"
                    b = by_marks[bucket]
                    b[0] += 1
                    b[1] += got == want
                    b[2] += abs(got - want) <= 1
                    b[3] += low <= want <= high
            if not pairs:
                print(f"{period.name:14}  {share:5.2f}  {day}  no pairs")
                continue
            print(
                f"{period.name:14}  {share:5.2f}  {day}  {pairs:5}  {exact / pairs:5.1%}  {near / pairs:8.1%}"
                f"  {statistics.mean(errors):4.2f}  {inside / pairs:8.1%}  {statistics.mean(widths):10.2f}"
            )
            for bucket in ("1-2", "3-4", "5-7", "8+"):
                n, e, w, i = by_marks.get(bucket, [0, 0, 0, 0])
                if n:
                    print(
                        f"    {bucket:>4} marks so far: {n:5} pairs, exact {e / n:5.1%}, ±1 {w / n:5.1%}, "
                        f"in range {i / n:5.1%}"
                    )


def timing(runs: int) -> None:
    from classbook.reports import forecast
    from classbook.schools.models import School, StudyPeriod, TeachingAssignment

    school = School.objects.order_by("pk").first()
    assert school is not None
    period = StudyPeriod.objects.filter(school=school, year__is_current=True, kind="semester").order_by("start").first()
    assert period is not None
    day = dt.date(2026, 11, 20)
    journals = forecast.journal_assignments(TeachingAssignment.objects.filter(school=school, year__is_current=True))
    from classbook.journal.models import Lesson, Mark, WorkType
    from classbook.journal.rules import policy_or_default
    from classbook.journal.stats import _sums_sql
    from classbook.schools.models import ScaleValue

    qn = connection.ops.quote_name
    t = {m.__name__: qn(m._meta.db_table) for m in (Mark, Lesson, ScaleValue, WorkType)}
    # Only table and column names from model metadata go into the text; every value is a parameter.
    select = f"SELECT l.assignment_id, m.student_id, m.id, l.{qn('date')}, v.code, v.{qn('numeric')}, w.weight, w.name"
    joins = (
        f"FROM {t['Mark']} m JOIN {t['Lesson']} l ON l.id = m.lesson_id "
        f"JOIN {t['ScaleValue']} v ON v.id = m.value_id JOIN {t['WorkType']} w ON w.id = m.work_type_id"
    )
    where = f"WHERE l.school_id = %s AND l.{qn('date')} >= %s AND l.{qn('date')} <= %s"
    rows_sql = " ".join((select, joins, where))
    # The floor: the one grouped statement the list's decision needs (``journal.stats.journal_tallies``'s text),
    # raw through the cursor, no Python after it.
    ids = sorted(a.pk for a in journals)
    sums_sql = _sums_sql(len(ids), False, policy_or_default(school.pk).weighted_averages)
    sums_params = {"start": period.start, "end": day, **{f"a{i}": pk for i, pk in enumerate(ids)}}
    if IS_POSTGRES:  # the planner's statistics, as autovacuum keeps them on a live database (not after the seed)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    risk_ms, floor_ms, rows_ms, queries, flagged, rows, groups = [], [], [], 0, 0, 0, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            lines = forecast.at_risk(journals, period, day, school=school)
            risk_ms.append((time.perf_counter() - started) * 1000)
        queries, flagged = len(captured), len(lines)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sums_sql, sums_params)
            groups = len(cursor.fetchall())
        floor_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(rows_sql, [school.pk, period.start, day])
            rows = len(cursor.fetchall())
        rows_ms.append((time.perf_counter() - started) * 1000)
    print()
    print(
        f"at-risk list, whole school, {period.name} up to {day}: {len(journals)} journals, {rows} marks, "
        f"{groups} journal × student sums"
    )
    print(
        f"  at risk (sums, then the marks of those at risk): median {statistics.median(risk_ms):.0f} ms, "
        f"min {min(risk_ms):.0f} ms, {queries} queries"
    )
    print(
        f"  floor (the grouped sums, one raw SELECT): median {statistics.median(floor_ms):.0f} ms, "
        f"min {min(floor_ms):.0f} ms"
    )
    print(
        f"  ratio (min / min): {min(risk_ms) / max(min(floor_ms), 0.001):.1f}; students × subjects at risk: {flagged}"
    )
    print(
        f"  for scale: every mark row of the period, one raw SELECT (the old path's floor): "
        f"median {statistics.median(rows_ms):.0f} ms, min {min(rows_ms):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--at", default="0.5", help="points of each semester, shares of its days (default 0.5)")
    parser.add_argument("--timing-only", action="store_true", help="skip the accuracy figures (the at-risk timing)")
    args = parser.parse_args()
    old = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        timings = build(args.seed, args.students)
        print(
            f"database: {connection.vendor}; demo as of {AFTER_THE_YEAR.date()}, seed {args.seed}, "
            f"{args.students} students"
        )
        print(
            f"seed_demo (generate): {timings['generate']:.1f} s, "
            f"of which the grades step {timings.get('grades_step', 0):.2f} s"
        )
        if not args.timing_only:
            accuracy([float(x) for x in args.at.split(",") if x.strip()])
        timing(args.runs)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
