"""Benchmark an announcement to a whole school (docs/performance.md): what publishing pays, what the worker does.

Run from the repository root:

    .venv/bin/python bench/notifications_announcement.py          # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/notifications_announcement.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_announcement``. A school of
--students (1000) in classes of 30, --parents (1400) linked to them ("may see"), --staff (80), all with
e-mail; the director publishes a whole-school announcement (the database task backend: the request
enqueues one task after COMMIT), then the worker's fan-out tells everyone (``sources.from_messaging``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_announcement", TASKS_BACKEND="database")

from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def build(students: int, parents: int, staff: int):
    from classbook.people.models import Enrolment, GuardianLink, Membership, Role, Student, User
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    year = f.YearFactory(school=school)
    classes = [f.SchoolClassFactory(year=year, name=f"{5 + i // 4}-{i % 4}") for i in range((students + 29) // 30)]
    director = f.make_member(school, Role.DIRECTOR, username="bench-director", email="d@example.org")

    def users(prefix: str, n: int) -> list:
        return User.objects.bulk_create(
            [
                User(username=f"{prefix}{i}", first_name=prefix, last_name=str(i), email=f"{prefix}{i}@example.org")
                for i in range(n)
            ]
        )

    student_users, parent_users, staff_users = users("s", students), users("p", parents), users("t", staff)
    rows = Student.objects.bulk_create(
        [Student(school=school, user=u, birth_date=dt.date(2012, 1, 1)) for u in student_users]
    )
    Membership.objects.bulk_create(
        [Membership(school=school, user=u, role=Role.STUDENT) for u in student_users]
        + [Membership(school=school, user=u, role=Role.PARENT) for u in parent_users]
        + [Membership(school=school, user=u, role=Role.TEACHER) for u in staff_users]
    )
    Enrolment.objects.bulk_create(
        [
            Enrolment(school=school, student=s, school_class=classes[i // 30], start=year.start)
            for i, s in enumerate(rows)
        ]
    )
    GuardianLink.objects.bulk_create(
        [GuardianLink(school=school, guardian=p, student=rows[i % len(rows)]) for i, p in enumerate(parent_users)]
    )
    if connection.vendor == "postgresql":  # a live database is analysed by autovacuum; bulk-made tables not yet
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return school, director


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--parents", type=int, default=1400)
    parser.add_argument("--staff", type=int, default=80)
    args = parser.parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        run(args)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def run(args: argparse.Namespace) -> None:
    from django_tasks_db.models import DBTaskResult

    from classbook.access.context import build_context
    from classbook.messaging import services
    from classbook.messaging.models import Audience
    from classbook.notifications import sources
    from classbook.notifications.models import Delivery, Notification

    school, director = build(args.students, args.parents, args.staff)
    print(f"database: {connection.vendor}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(f"data: {args.students} students, {args.parents} parents, {args.staff + 1} staff")
    ctx = build_context(director, school)
    # A worker process loads the URLconf once (about 3 s here: the API's schemas); do it before timing.
    from django.urls import reverse

    reverse("messaging:inbox", args=[school.slug])
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        announcement = services.publish_announcement(
            ctx, audience=Audience.SCHOOL, title="Свято", body="У п'ятницю о 12:00 — свято в актовій залі."
        )
    publish_ms = (time.perf_counter() - t0) * 1000
    queued = [q for q in captured.captured_queries if "dbtaskresult" in q["sql"].lower()]
    print(
        f"publish (request): {publish_ms:.1f} ms, {len(captured.captured_queries)} statements "
        f"({len(queued)} for the task queue, after COMMIT); tasks queued: {DBTaskResult.objects.count()}"
    )
    from django.db import transaction

    from classbook.notifications import audiences

    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        found = audiences.announcement_audience(announcement)
    print(
        f"audience query: {(time.perf_counter() - t0) * 1000:.1f} ms, {len(captured.captured_queries)} statement(s)"
        f" -> {len(found)} people"
    )
    t0 = time.perf_counter()
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        sources.from_messaging([{"event": "announcement", "id": announcement.pk}])
    worker_ms = (time.perf_counter() - t0) * 1000
    print(
        f"worker fan-out: {worker_ms:.1f} ms, {len(captured.captured_queries)} statements (not counting the "
        f"after-commit send task) -> {Notification.objects.count()} notifications, "
        f"{Delivery.objects.count()} deliveries"
    )


if __name__ == "__main__":
    main()
