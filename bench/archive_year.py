"""Benchmark the year archive (issue 12, R6.7) of the 1,000-student demo school (docs/performance.md, docs/archive.md).

Run from the repository root:

    .venv/bin/python bench/archive_year.py                     # a fresh SQLite file in a temporary folder
    .venv/bin/python bench/archive_year.py --sign              # with a (test) certificate: every file signed
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_DB_NAME=wt_archive_bench \\
        .venv/bin/python bench/archive_year.py

Builds the demo school (``--students 1000``: its journal is filled up to the demo's "today"), then queues the
school's **year archive** as the schedule does (``services.start_build``: the database task backend), runs its
first task (the fan-out into one task per class) with ``manage.py worker --batch --max-tasks 1`` and then
``--workers`` (default 2) real worker processes (``manage.py worker --batch``) side by side until the queue is
empty: every class's journal in the official layout as PDF/A-3b with ``journal.json`` embedded, and every
class's summary sheet, chained by the last class's task (and signed with ``--sign``). Prints the machine's
load before and after, the wall time (target ≤ 10 min on this 2-core machine; the demo's journal changes are
marked as announced first, so the workers do not spend the time on their notifications), the workers' CPU time
(user + system of the worker processes: what a quiet machine would need, divided by the CPUs the workers can
use), the documents and their total size, and a floor: the same rows read with one raw ``SELECT`` per table
(lessons, marks, attendance, period grades, the audit trail of the year) plus one ``write_pdf`` of a page of
text per document — the reading and the PDF engine's fixed cost the archive cannot avoid. Then it verifies the
chain (``verify.verify``) and prints that time too.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

from _bootstrap import ROOT, bootstrap

IS_POSTGRES = bootstrap("bench_archive", TASKS_BACKEND="database")

from django.db import connection  # noqa: E402

FLOOR_SQL = [
    "SELECT id, date, topic, homework FROM journal_lesson WHERE school_id = %s",
    "SELECT m.id, m.lesson_id, m.student_id, m.value_id FROM journal_mark m WHERE m.school_id = %s",
    "SELECT a.id, a.lesson_id, a.student_id, a.code_id FROM journal_attendance a WHERE a.school_id = %s",
    "SELECT g.id, g.student_id, g.value_id FROM journal_periodgrade g WHERE g.school_id = %s",
    "SELECT c.id, c.old_value, c.new_value FROM journal_journalchange c WHERE c.school_id = %s",
]


def seed(students: int):
    from classbook.demo.generator import DemoOptions, generate
    from classbook.schools.models import AcademicYear, School

    started = time.perf_counter()
    generate(DemoOptions(seed=1, students=students))
    school = School.objects.order_by("pk").first()
    print(f"demo school seeded in {time.perf_counter() - started:.1f} s")
    return school, AcademicYear.objects.get(school=school, is_current=True)


def certify(school) -> None:
    """A test certificate (the signing tests' CA and leaf) uploaded as the school's administrator would."""
    from classbook.people.models import Membership, Role
    from classbook.signing import services as signing
    from tests.signing.conftest import PASSWORD, make_certs

    admin = Membership.objects.filter(school=school, role=Role.ADMIN).select_related("user").first().user
    signing.upload_certificate(acting_user=admin, school=school, data=make_certs().leaf.p12, password=PASSWORD)


def skip_notifications() -> None:
    """The demo's journal changes wait in the notification outbox (``journal/outbox.py``); draining them is the
    notifications' benchmark, not this one: they are marked announced so the worker runs only the archive."""
    from django.utils import timezone

    from classbook.journal.models import JournalChange

    JournalChange.objects.filter(announced_at__isnull=True).update(announced_at=timezone.now())


def floor(school, documents: int) -> float:
    from classbook.archive import files

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in FLOOR_SQL:
            cursor.execute(sql, [school.pk])
            cursor.fetchall()
    html = "<p>" + "Тема уроку, домашнє завдання. " * 200 + "</p>"
    for _ in range(documents):
        files.write_pdfa(html, base_url="/", attachments={"data.json": (b"{}", "data")})
    return time.perf_counter() - started


def _worker_environment() -> dict[str, str]:
    """The environment of a worker process: this process's, with the bench's database as ``DATABASE_URL``."""
    name = connection.settings_dict["NAME"]
    environment = dict(os.environ)
    if IS_POSTGRES:
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        environment["DATABASE_URL"] = f"{base}/{name}"
    else:
        environment["DATABASE_URL"] = f"sqlite:///{name}"
    return environment


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace) -> None:
    from classbook.archive import services, verify
    from classbook.archive.models import ArchiveKind, ArchiveRecord, BuildStatus, DocumentKind

    school, year = seed(args.students)
    if args.sign:
        certify(school)
    skip_notifications()
    build = services.start_build(school=school, kind=ArchiveKind.YEAR, year=year, start=year.start, end=year.end)
    assert build is not None and build.status == BuildStatus.QUEUED
    load_before = os.getloadavg()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    worker = [sys.executable, "manage.py", "worker", "--batch", "--interval", "0", "--no-startup-delay"]
    environment = _worker_environment()
    subprocess.run(  # noqa: S603 (our own manage.py with fixed arguments)
        [*worker, "--max-tasks", "1"], cwd=ROOT, env=environment, check=True, stdout=subprocess.DEVNULL
    )
    processes = [
        subprocess.Popen(worker, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL)  # noqa: S603 (as above)
        for _ in range(args.workers)
    ]
    for process in processes:
        process.wait()
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    load_after = os.getloadavg()
    build.refresh_from_db()
    records = list(ArchiveRecord.objects.filter(build=build).order_by("sequence"))
    size = sum(r.size for r in records)
    journals = sum(r.document == DocumentKind.JOURNAL for r in records)
    signed = sum(r.signature == "signed" for r in records)
    print(
        f"year archive of {args.students} students on {connection.vendor}, {os.cpu_count()} CPUs, "
        f"{args.workers} workers: status {build.status} ({build.done} of {build.total} classes), "
        f"{len(records)} documents ({journals} class journals, {len(records) - journals} summary sheets, "
        f"{signed} signed), {size / 1e6:.1f} MB"
    )
    print(
        f"load average (1, 5, 15 min) before {', '.join(f'{x:.1f}' for x in load_before)}, "
        f"after {', '.join(f'{x:.1f}' for x in load_after)}"
    )
    print(f"wall time: {wall:.1f} s (target 600 s); workers' CPU {cpu:.1f} s, {cpu / max(journals, 1):.1f} s a class")
    print(
        f"quiet-machine estimate (the CPU shared by {min(args.workers, os.cpu_count() or 1)} CPUs): "
        f"{cpu / min(args.workers, os.cpu_count() or 1):.0f} s"
    )
    low = floor(school, len(records))
    print(f"floor (raw reads + one page of PDF/A per document): {low:.1f} s; ratio archive / floor: {wall / low:.1f}")
    started = time.perf_counter()
    result = verify.verify(school)
    print(
        f"verify: {time.perf_counter() - started:.1f} s, {result.records} records, {result.signatures} signatures, "
        f"{len(result.problems)} problems"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--sign", action="store_true", help="sign every file with a test certificate")
    parser.add_argument("--workers", type=int, default=2, help="worker processes side by side (default 2)")
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
