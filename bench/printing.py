"""Benchmark printing a class's subject journal as a PDF (docs/printing.md, issue 12: ≤ 5 s) on a seeded demo school.

Run from the repository root against a database that ``seed_demo`` filled (it is read, never written):

    export DATABASE_URL=sqlite:////tmp/print_bench.sqlite3        # or postgres://...
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_demo --seed 1 --students 1000
    .venv/bin/python bench/printing.py --runs 5

It picks the journal with the most marks in the school's first study period and prints its subject pages
(the left and right pages of the whole period, ``sections=("subjects",)``) as the director would, timing the
read model (``printing.queries.class_journal``), the HTML and the PDF (WeasyPrint) separately, and the whole
class journal (every subject and section) once. The floor is the least any PDF of the same cells costs: a raw
SQL read of the journal's marks plus WeasyPrint rendering a bare table of the same students × lessons with
the same texts (no layout, head or foot); the ratio of our time to that floor is printed with the load average.
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
from django.utils import timezone  # noqa: E402

RAW_MARKS = """
SELECT m.student_id, l.id, l.date, v.code FROM journal_mark m
JOIN journal_lesson l ON l.id = m.lesson_id LEFT JOIN schools_scalevalue v ON v.id = m.value_id
WHERE l.assignment_id = %s AND l.date BETWEEN %s AND %s
"""


CPU: dict[str, float] = {}


def timed(fn, runs: int, name: str = "") -> tuple[float, float, int, object]:
    """Median and best wall time, queries, the last result; the median CPU time of this process in ``CPU``
    (on a loaded machine compare CPU and the ratio to the floor, not wall time)."""
    out = fn()  # warm (WeasyPrint's import and fonts are not counted)
    times, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            c0, t0 = time.process_time(), time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    CPU[name] = statistics.median(cpu)
    return statistics.median(times), min(times), len(captured), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--school", default="")
    args = parser.parse_args()

    from classbook.access.context import build_context
    from classbook.access.printing import printable_assignments
    from classbook.journal.models import Mark
    from classbook.people.models import Membership, Role
    from classbook.printing import documents
    from classbook.printing.queries import class_journal
    from classbook.printing.services import page_count
    from classbook.schools.models import School, StudyPeriod, TeachingAssignment

    school = School.objects.get(slug=args.school) if args.school else School.objects.order_by("pk").first()
    director = Membership.objects.filter(school=school, role=Role.DIRECTOR).select_related("user").first()
    ctx = build_context(director.user, school)
    periods = StudyPeriod.objects.filter(school=school).order_by("start", "-end")
    year_long = periods.first()
    period = periods.exclude(pk=year_long.pk).order_by("start", "-end").first() or year_long
    busiest = (
        Mark.objects.filter(school=school, lesson__date__range=(period.start, period.end))
        .values("lesson__assignment_id")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    journal = TeachingAssignment.objects.select_related("school_class__school", "subject").get(
        pk=busiest["lesson__assignment_id"]
    )
    school_class = journal.school_class
    assignments = printable_assignments(ctx, school_class)
    footer = documents.PrintFooter(code="BENC-H001", generated_at=timezone.now())
    print(
        f"{connection.vendor}; {school}; {school_class.name} {journal.subject.name}; {period.name} "
        f"{period.start}..{period.end}; {busiest['n']} marks"
    )

    def read():
        return class_journal(
            ctx, school_class, assignments, start=period.start, end=period.end, assignment_ids=[journal.pk],
            sections=("subjects",),
        )  # fmt: skip

    read_s, _, read_q, model = timed(read, args.runs, "read")
    html_s, _, _, html = timed(lambda: documents.journal_html(model, footer), args.runs, "html")
    pdf_s, pdf_best, _, pdf = timed(lambda: documents.render_pdf(html), args.runs, "pdf")
    total = read_s + html_s + pdf_s
    pages = page_count(pdf)
    lessons = [c.lesson for part in model.parts for s in part.spreads for c in s.columns]
    students = len(model.parts[0].spreads[0].rows) if model.parts else 0

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(RAW_MARKS, [journal.pk, period.start, period.end])
            rows = cursor.fetchall()
        cells: dict[tuple[int, int], str] = {(r[0], r[1]): r[3] or "" for r in rows}
        ids = sorted({r[0] for r in rows})
        body = "".join(
            "<tr>" + "".join(f"<td>{cells.get((s, lesson.id), '')}</td>" for lesson in lessons) + "</tr>" for s in ids
        )
        return documents.render_pdf(f"<table>{body}</table>")  # the browser's default (auto) table layout

    floor_s, floor_best, _, _ = timed(floor, args.runs, "floor")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{students} students x {len(lessons)} dated columns, {pages} pages")
    print(f"read model: median {read_s * 1000:.0f} ms (CPU {CPU['read'] * 1000:.0f} ms), {read_q} queries")
    print(f"HTML: median {html_s * 1000:.0f} ms (CPU {CPU['html'] * 1000:.0f} ms)")
    print(
        f"PDF (WeasyPrint): median {pdf_s * 1000:.0f} ms (CPU {CPU['pdf'] * 1000:.0f} ms), "
        f"best {pdf_best * 1000:.0f} ms, {len(pdf) // 1024} KiB"
    )
    cpu_total = CPU["read"] + CPU["html"] + CPU["pdf"]
    print(f"subject journal total: {total:.2f} s wall, {cpu_total:.2f} s CPU (target 5 s)")
    print(
        f"floor (raw SQL + WeasyPrint, bare table of the same cells): median {floor_s * 1000:.0f} ms "
        f"(CPU {CPU['floor'] * 1000:.0f} ms), best {floor_best * 1000:.0f} ms; ratio {total / floor_s:.1f}x wall, "
        f"{cpu_total / CPU['floor']:.1f}x CPU"
    )

    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        whole = class_journal(ctx, school_class, assignments, start=year_long.start, end=period.end)
        whole_pdf = documents.render_pdf(documents.journal_html(whole, footer))
    whole_s = time.perf_counter() - t0
    whole_pages = page_count(whole_pdf)
    print(
        f"whole class journal ({len(whole.parts)} subject parts, every section, to {period.end}): {whole_s:.1f} s, "
        f"{len(captured)} queries, {whole_pages} pages"
    )


if __name__ == "__main__":
    main()
