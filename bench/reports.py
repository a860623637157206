"""Benchmark the reports (R6.1, R6.2) on the 1,000-student demo school (docs/performance.md, docs/reports.md).

Run from the repository root:

    .venv/bin/python bench/reports.py                      # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=wt_reports_bench \
        .venv/bin/python bench/reports.py

Builds the demo school (``--students 1000``), then gives every student a first-semester grade in every
subject they are taught (the demo generator gives marks, not period grades): values drawn from the
assignment's scale, about 2 % "н/а", 1 % exempt, 3 % of the grades corrected by a recorded correction
row. Bulk-inserted (bench data, not a history). Then, ``--runs`` times each:

- the whole-school progress report for the semester, by class, subject, teacher and for the school
  (``reports.queries.progress_report`` as the director reads it): ms and the number of queries;
- the same report through the page (test client: session, access, filters, charts, template);
- a class's summary sheet (``reports.queries.summary_sheet``) and its page;
- a raw-SQL floor: one hand-written ``GROUP BY`` over the same grade rows (period grades of the
  semester, their values and assignments, counting distinct students), through the cursor, so the
  ratio report / floor says what the ORM, the cumulative counts, corrections and the enrolment check
  cost on top of reading the rows.

Prints median and min (ms); the ratios use the minimums (the least noisy on a shared machine).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from _bootstrap import analyze, bench_database, bootstrap

IS_POSTGRES = bootstrap("bench_reports")

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def build(students: int) -> dict:
    from classbook.demo.generator import DemoOptions, generate
    from classbook.journal.models import GradeKind, PeriodGrade
    from classbook.people.models import Enrolment, Membership, Role
    from classbook.schools.models import AcademicYear, ScaleValue, School, StudyPeriod, TeachingAssignment

    generate(DemoOptions(seed=1, students=students))
    school = School.objects.order_by("pk").first()
    year = AcademicYear.objects.get(school=school, is_current=True)
    semester = StudyPeriod.objects.filter(school=school, year=year, kind="semester").order_by("start").first()
    director = Membership.objects.filter(school=school, role=Role.DIRECTOR).select_related("user").first().user
    rng = random.Random(1)
    values: dict[int, tuple[list[ScaleValue], ScaleValue | None, ScaleValue | None]] = {}
    rows: list[PeriodGrade] = []
    corrected: list[PeriodGrade] = []
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
            exempt = next((v for v in all_values if v.period_only and v.is_passing), None)
            values[scale.pk] = (plain, na, exempt)
        plain, na, exempt = values[scale.pk]
        who = (
            list(a.subgroup.students.values_list("pk", flat=True))
            if a.subgroup_id
            else class_students.get(a.school_class_id, [])
        )
        for student_id in who:
            roll = rng.random()
            value = (
                na if roll < 0.02 and na else exempt if roll < 0.03 and exempt else rng.choice(plain[len(plain) // 4 :])
            )
            grade = PeriodGrade(
                school=school,
                assignment=a,
                student_id=student_id,
                period=semester,
                kind=GradeKind.PERIOD,
                value=value,
                set_by=a.teacher,
            )
            rows.append(grade)
            if rng.random() < 0.03 and not value.period_only:
                corrected.append(
                    PeriodGrade(
                        school=school,
                        assignment=a,
                        student_id=student_id,
                        period=semester,
                        kind=GradeKind.CORRECTED,
                        value=rng.choice(plain),
                        set_by=director,
                    )
                )
    PeriodGrade.objects.bulk_create(rows + corrected, batch_size=2000)
    analyze()
    return {
        "school": school,
        "year": year,
        "semester": semester,
        "director": director,
        "grades": len(rows),
        "corrected": len(corrected),
    }


def timed(fn, runs: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    fn()
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


FLOOR_SQL = """
SELECT a.school_class_id, COUNT(DISTINCT g.student_id), COUNT(*), SUM(v.numeric),
       SUM(CASE WHEN v.level = 'high' THEN 1 ELSE 0 END)
FROM journal_periodgrade g
JOIN schools_teachingassignment a ON a.id = g.assignment_id
JOIN schools_scalevalue v ON v.id = g.value_id
WHERE g.school_id = %s AND g.period_id = %s AND g.ordinal = 0 AND g.kind IN ('period', 'corrected')
GROUP BY a.school_class_id
"""


def explain(ctx, scope, settings) -> None:  # type: ignore[no-untyped-def]
    from classbook.access.reports import report_assignments
    from classbook.reports import queries

    with CaptureQueriesContext(connection) as captured:
        queries.progress_report(report_assignments(ctx), scope, "class", settings, ctx.school)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + captured.captured_queries[0]["sql"])
        print("\n".join(row[0] for row in cursor.fetchall()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--explain", action="store_true", help="print how PostgreSQL runs the report by class, then stop"
    )
    args = parser.parse_args()

    with bench_database():
        run(args)


def run(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    data = build(args.students)
    print(
        f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'}; built in {time.perf_counter() - t0:.1f} s: "
        f"{data['grades']} semester grades, {data['corrected']} corrected; {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}"
    )

    from classbook.access.context import build_context
    from classbook.access.reports import report_assignments
    from classbook.reports import queries

    school, year, semester = data["school"], data["year"], data["semester"]
    ctx = build_context(data["director"], school)
    settings = queries.report_settings(school)
    scope = queries.Scope(year=year, period=semester)

    def floor() -> None:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, [school.pk, semester.pk])
            cursor.fetchall()

    if args.explain and IS_POSTGRES:
        explain(ctx, scope, settings)
        return
    floor_med, floor_min, _ = timed(floor, args.runs)
    print(f"raw-SQL floor (one GROUP BY over the semester's grades): median {floor_med:.1f} ms, min {floor_min:.1f} ms")
    for group_by in ("class", "subject", "teacher", "school"):
        med, low, n = timed(
            lambda g=group_by: queries.progress_report(report_assignments(ctx), scope, g, settings, school), args.runs
        )
        print(
            f"progress_report by {group_by:8}: median {med:7.1f} ms, min {low:7.1f} ms, {n} queries, "
            f"ratio to floor (min) {low / floor_min:.1f}"
        )
    client = Client(HTTP_HOST="localhost")  # in ALLOWED_HOSTS by default (testserver is not)
    client.force_login(data["director"])

    def page(url: str):  # type: ignore[no-untyped-def]
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    url = f"/s/{school.slug}/reports/progress/?period=p{semester.pk}&group_by=class"
    med, low, n = timed(page(url), args.runs)
    print(f"progress page (whole school, by class): median {med:.1f} ms, min {low:.1f} ms, {n} queries")
    from classbook.access.reports import summary_classes

    one = summary_classes(ctx).filter(year=year).order_by("-pk").first()
    med, low, n = timed(lambda: queries.summary_sheet(report_assignments(ctx), one, scope, settings, school), args.runs)
    print(f"summary_sheet ({one}): median {med:.1f} ms, min {low:.1f} ms, {n} queries")
    url = f"/s/{school.slug}/reports/summary/?period=p{semester.pk}&school_class={one.pk}"
    med, low, n = timed(page(url), args.runs)
    print(f"summary page ({one}): median {med:.1f} ms, min {low:.1f} ms, {n} queries")


if __name__ == "__main__":
    main()
