"""Benchmark notifications (docs/performance.md): what a journal save pays, and what the worker does.

Run from the repository root:

    .venv/bin/python bench/notifications_fanout.py          # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/notifications_fanout.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_notifications``. A class of
--students (30) with two parents each; a whole lesson's marks and absences are saved in one bulk
request (``record_lesson_bulk``) --runs times, with and without the notifications listening; then the
database worker (``db_worker --batch``) fans out and sends (e-mail to the locmem backend).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap(
    "bench_notifications", EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", TASKS_BACKEND="database"
)

from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

DAY = dt.date(2026, 10, 5)


def build(students: int, runs: int) -> dict:
    from classbook.journal import services
    from classbook.journal.defaults import create_journal_defaults
    from classbook.people.models import Role
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    create_journal_defaults(school)
    year = f.YearFactory(school=school)
    f.PeriodFactory(year=year)
    school_class = f.SchoolClassFactory(year=year, name="5-А")
    teacher = f.make_member(school, Role.TEACHER, username="bench-teacher")
    assignment = f.make_assignment(teacher, school_class, f.SubjectFactory(school=school, name="Математика"))
    people = []
    for i in range(students):
        student = f.make_student(school_class, user=f.UserFactory(username=f"s{i}", email=f"s{i}@example.org"))
        for p in range(2):
            f.make_parent(student, username=f"p{i}-{p}", email=f"p{i}-{p}@example.org")
        people.append(student)
    lessons = [
        services.create_lesson(acting_user=teacher, assignment=assignment, date=DAY, number=n)
        for n in range(1, 2 * runs + 1)
    ]
    return {"teacher": teacher, "students": people, "lessons": lessons}


def save_lesson(setup: dict, lesson) -> CaptureQueriesContext:
    from classbook.journal import services
    from classbook.journal.models import Lesson

    lesson = Lesson.objects.select_related("assignment", "school").get(pk=lesson.pk)
    students = setup["students"]
    with CaptureQueriesContext(connection) as captured:
        services.record_lesson_bulk(
            acting_user=setup["teacher"],
            lesson=lesson,
            marks=[{"student": s.pk, "text": str(7 + i % 5), "expected_version": 0} for i, s in enumerate(students)],
            attendance=[{"student": s.pk, "text": "н", "expected_version": 0} for s in students[:3]],
        )
    return captured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    import time_machine

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        with time_machine.travel(dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)):
            run(args)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def run(args: argparse.Namespace) -> None:
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from classbook.journal.events import journal_changed
    from classbook.journal.models import JournalChange
    from classbook.notifications import receivers
    from classbook.notifications.models import Delivery, Notification

    setup = build(args.students, args.runs)
    print(f"database: {connection.vendor}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    lessons = list(setup["lessons"])
    n = len(setup["students"])
    print(f"data: {n} students, {2 * n} parents; one request = {n} marks + 3 absences")

    journal_changed.disconnect(receivers.on_journal_changed)
    quiet = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        captured = save_lesson(setup, lessons.pop())
        quiet.append((time.perf_counter() - t0) * 1000)
    quiet_statements = len(captured.captured_queries)
    # The quiet saves' changes wait in the journal's outbox (issue 10): take them out, as if announced.
    JournalChange.objects.filter(announced_at__isnull=True).update(announced_at=timezone.now())
    journal_changed.connect(receivers.on_journal_changed)
    Notification.objects.all().delete()
    DBTaskResult.objects.all().delete()
    loud = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        captured = save_lesson(setup, lessons.pop())
        loud.append((time.perf_counter() - t0) * 1000)
    tasks_rows = [q for q in captured.captured_queries if "dbtaskresult" in q["sql"].lower()]
    print(f"bulk save without notifications: median {statistics.median(quiet):.1f} ms, {quiet_statements} statements")
    print(
        f"bulk save with notifications:    median {statistics.median(loud):.1f} ms, "
        f"{len(captured.captured_queries)} statements "
        f"({len(tasks_rows)} after COMMIT: is a drain waiting, and its INSERT if none)"
    )
    print(f"tasks queued by {args.runs} saves: {DBTaskResult.objects.count()}")
    mail.outbox = []
    t0 = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    elapsed = time.perf_counter() - t0
    print(
        f"worker: {elapsed:.2f} s for {DBTaskResult.objects.count()} tasks -> {Notification.objects.count()} "
        f"notifications, {Delivery.objects.count()} deliveries ({Delivery.objects.filter(digest=False).count()} "
        f"at once), {len(mail.outbox)} e-mails sent"
    )


if __name__ == "__main__":
    main()
