"""Benchmark the offline queue's batch sync (issue 17, docs/offline.md): 40 students × 5 lessons entered offline.

Run from the repository root:

    .venv/bin/python bench/offline_sync.py                     # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/offline_sync.py

Each run makes 5 new lessons of one journal and sends 200 queued entries (a mark, or an absence for every
seventh student) through ``POST /api/v1/schools/{school}/journal/offline-sync`` as the grid does (session
login), each entry through the journal's own write service with its version check and audit row. The floor is
the same rows (the cells and their audit rows) written with plain SQL in one transaction, in the same run,
interleaved. Prints the median times and the ratio; the target is the sync under 2 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time

from _bootstrap import bench_database, bootstrap

IS_POSTGRES = bootstrap("bench_offline")

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402


def build(students: int) -> dict:
    from classbook.people.models import Role
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    year = f.YearFactory(school=school, start=timezone.localdate() - dt.timedelta(days=30))
    school_class = f.SchoolClassFactory(year=year, name="7-А")
    teacher = f.make_member(school, Role.TEACHER, username="bench-teacher")
    assignment = f.make_assignment(teacher, school_class, f.SubjectFactory(school=school, name="Алгебра"))
    f.make_grid(assignment, students=students, lessons=0, start=year.start)
    return {"school": school, "teacher": teacher, "assignment": assignment}


def new_lessons(setup: dict, count: int) -> list:
    from classbook.journal import services

    today = timezone.localdate()
    return [
        services.create_lesson(acting_user=setup["teacher"], assignment=setup["assignment"], date=today, number=n)
        for n in range(1, count + 1)
    ]


def students_of(setup: dict) -> list[int]:
    from classbook.people.models import Student

    return list(
        Student.objects.filter(enrolments__school_class_id=setup["assignment"].school_class_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def entries(lessons: list, students: list[int]) -> list[dict]:
    made = (timezone.now() - dt.timedelta(minutes=30)).isoformat()
    return [
        {
            "id": f"{lesson.pk}:{student}",
            "kind": "cell",
            "lesson": lesson.pk,
            "student": student,
            "value": "н" if i % 7 == 0 else str(4 + i % 9),
            "version": "0.0",
            "device_at": made,
        }
        for lesson in lessons
        for i, student in enumerate(students)
    ]


def sync(client: Client, setup: dict, batch: list[dict]) -> float:
    url = f"/api/v1/schools/{setup['school'].slug}/journal/offline-sync"
    started = time.perf_counter()
    res = client.post(url, data=json.dumps({"entries": batch}), content_type="application/json")
    took = time.perf_counter() - started
    assert res.status_code == 200, res.content[:300]
    statuses = {r["status"] for r in res.json()["results"]}
    assert statuses == {"applied"}, statuses
    return took


def floor(setup: dict, lessons: list, students: list[int]) -> float:
    """The same cells and audit rows written with plain SQL, in one transaction: no checks, no versions."""
    from classbook.journal.models import Attendance, AttendanceCode, JournalChange, Mark, WorkType
    from classbook.schools.models import ScaleValue

    school = setup["school"]
    wt = WorkType.objects.filter(school=school, is_active=True).order_by("ordinal", "id").first()
    absent = AttendanceCode.objects.filter(school=school, code="н").first()
    values = {v.code: v.pk for v in ScaleValue.objects.filter(scale=setup["assignment"].effective_scale())}
    user, now = setup["teacher"].pk, timezone.now()
    marks, atts, changes = [], [], []
    for lesson in lessons:
        for i, student in enumerate(students):
            if i % 7 == 0:
                atts.append((school.pk, lesson.pk, student, absent.pk, 1, False, "", user, now))
                kind, new = "attendance", "н"
            else:
                code = str(4 + i % 9)
                marks.append(
                    (school.pk, lesson.pk, student, wt.pk, 0, values[code], "", False, 1, user, user, now, now)
                )
                kind, new = "mark", code
            changes.append((school.pk, now, user, kind, setup["assignment"].pk, lesson.pk, student, "", new, "", False))
    q = connection.ops.quote_name
    m, a, c = (q(x._meta.db_table) for x in (Mark, Attendance, JournalChange))
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {m} (school_id, lesson_id, student_id, work_type_id, slot, value_id, comment, is_late, "  # noqa: S608
            "version, created_by_id, updated_by_id, created_at, updated_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            marks,
        )
        cursor.executemany(
            f"INSERT INTO {a} (school_id, lesson_id, student_id, code_id, version, is_late, reason, "  # noqa: S608
            "recorded_by_id, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            atts,
        )
        cursor.executemany(
            f"INSERT INTO {c} (school_id, at, actor_id, kind, assignment_id, lesson_id, student_id, old_value, "  # noqa: S608
            "new_value, reason, is_late) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            changes,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--lessons", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with bench_database():
        setup = build(args.students)
        students = students_of(setup)
        client = Client(HTTP_HOST="localhost")
        client.force_login(setup["teacher"])
        sync(client, setup, entries(new_lessons(setup, 1), students[:2]))  # warm: imports, the session
        synced, floors = [], []
        for _ in range(args.runs):
            synced.append(sync(client, setup, entries(new_lessons(setup, args.lessons), students)))
            floors.append(floor(setup, new_lessons(setup, args.lessons), students))
    n = args.lessons * len(students)
    s, fl = statistics.median(synced), statistics.median(floors)
    database = "PostgreSQL" if IS_POSTGRES else "SQLite"
    print(f"{database}: {n} offline entries ({len(students)} students × {args.lessons} lessons)")
    print(f"  sync through the endpoint  median {s:.3f} s  (max {max(synced):.3f} s; target <= 2 s)")
    print(f"  floor (plain SQL inserts)  median {fl:.3f} s")
    print(f"  ratio {s / fl:.1f}x; {'OK' if max(synced) <= 2 else 'OVER the 2 s target'}")


if __name__ == "__main__":
    main()
