"""Benchmark the journal grid: page time and queries, one mark save, concurrent saves (docs/performance.md).

Run from the repository root:

    .venv/bin/python bench/journal_grid.py                      # a fresh SQLite file in a temporary folder
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/journal_grid.py

The page is measured beside its floor (``floor_html``: the same cells read with raw SQL and written as an
HTML table with f-strings, same process, same run, interleaved run by run), the JSON API's grid and the
smallest journal page (the site around the grid); the page/floor ratio is printed (target <= 2x).

On PostgreSQL it creates (and drops afterwards) the database ``bench_journal`` and also measures
20 concurrent writer threads, in one process and spread over 2 and 4 processes
(--processes 2,4; one process has one GIL, a server runs several workers). Options: --students 40
--lessons 100 --runs 50 --saves 200 --seconds 10; BENCH_DB_NAME names the PostgreSQL database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import threading
import time

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_journal")

from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(students: int, lessons: int) -> dict:
    from classbook.people.models import Role
    from tests import factories as f

    school = f.SchoolFactory(slug="bench", name="Bench lyceum")
    year = f.YearFactory(school=school)
    school_class = f.SchoolClassFactory(year=year, name="7-А")
    teacher = f.make_member(school, Role.TEACHER, username="bench-teacher")
    assignment = f.make_assignment(teacher, school_class, f.SubjectFactory(school=school, name="Алгебра"))
    start = timezone.localdate() - dt.timedelta(days=lessons - 1)
    # Keep every lesson inside one study period around today.
    from classbook.schools.models import AcademicYear, StudyPeriod

    AcademicYear.objects.filter(pk=year.pk).update(start=min(year.start, start))
    year.refresh_from_db()
    StudyPeriod.objects.create(
        school=school, year=year, kind="semester", name="Bench", ordinal=1, start=start, end=timezone.localdate()
    )
    data = f.make_grid(assignment, students=students, lessons=lessons, fill=0.6, start=start)
    return {"school": school, "teacher": teacher, "assignment": assignment, **data}


def bench_page(setup: dict, runs: int, freeze: bool = True) -> dict:
    """The grid page, the API's grid and the floor, interleaved run by run (the same load for all three)."""
    from classbook.journal.models import WorkType
    from classbook.schools.models import StudyPeriod

    client = Client(HTTP_HOST="localhost")  # in ALLOWED_HOSTS by default (testserver is not)
    client.force_login(setup["teacher"])
    school, assignment = setup["school"], setup["assignment"]
    url = reverse("journal:grid", args=[school.slug, assignment.pk])
    period = StudyPeriod.objects.get(school=school, name="Bench")
    api_url = f"/api/v1/schools/{school.slug}/journal/assignments/{assignment.pk}/grid?period={period.pk}"
    default_wt = WorkType.objects.filter(school=school, is_active=True).order_by("ordinal", "id").first()
    floor_args = (assignment.pk, assignment.school_class_id, default_wt.pk, period.start, period.end)
    for _ in range(3):
        assert client.get(url).status_code == 200
        assert client.get(api_url).status_code == 200
        floor_html(*floor_args)
    # The server's process freezes its startup objects out of the garbage collector's way once the
    # application is loaded (classbook/wsgi.py, core/startup.py); the benchmark's process does the same
    # here, after the warm-up (--no-freeze measures without: full collections then walk ~150,000 objects).
    frozen = 0
    if freeze:
        from classbook.core.startup import freeze_startup_objects

        frozen = freeze_startup_objects()
    executed: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        executed.append(sql)
        return execute(sql, params, many, context)

    # The connection may be reopened per request (CONN_MAX_AGE=0 on SQLite): count at the cursor.
    with connection.execute_wrapper(count):
        response = client.get(url)
    page_queries = len(executed)
    executed.clear()
    with connection.execute_wrapper(count):
        api_response = client.get(api_url)
    api_queries = len(executed)
    etag = api_response["ETag"]
    executed.clear()
    with connection.execute_wrapper(count):
        assert client.get(api_url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    api_304_queries = len(executed)
    floor = floor_html(*floor_args)
    # The same cells: every student × lesson cell of the page is in the floor's table.
    assert len(re.findall(r"<td [^>]*data-l=", floor)) == len(re.findall(rb"<td [^>]*data-l=", response.content))
    # The site around every journal page (session, user, school context, middleware, base template and
    # menus): the journal index of a teacher with one journal, the smallest page through the same doors.
    index_url = reverse("journal:index", args=[school.slug])
    client.get(index_url)
    timings: dict[str, list[float]] = {k: [] for k in ("page", "api", "api_304", "floor", "site")}
    cpu: dict[str, list[float]] = {k: [] for k in timings}

    def timed(name: str, call) -> None:  # type: ignore[no-untyped-def]
        t0, c0 = time.perf_counter(), time.process_time()
        call()
        timings[name].append((time.perf_counter() - t0) * 1000)
        cpu[name].append((time.process_time() - c0) * 1000)

    for _ in range(runs):
        timed("page", lambda: client.get(url))
        timed("api", lambda: client.get(api_url))
        timed("api_304", lambda: client.get(api_url, HTTP_IF_NONE_MATCH=etag))  # revalidation (issue 18)
        timed("floor", lambda: floor_html(*floor_args))
        timed("site", lambda: client.get(index_url))

    from classbook.access.context import resolve_school
    from classbook.journal import grid as journal_grid
    from classbook.journal import queries as jq

    ctx = resolve_school(setup["teacher"], school.slug)
    readable = jq.readable_assignment(ctx, assignment.pk)
    build_timings = []
    for _ in range(runs):
        t0 = time.perf_counter()
        journal_grid.read_grid(ctx, readable)
        build_timings.append((time.perf_counter() - t0) * 1000)
    medians = {k: statistics.median(v) for k, v in timings.items()}
    cpu_medians = {k: statistics.median(v) for k, v in cpu.items()}
    return {
        "page_median_ms": medians["page"],
        "page_p95_ms": percentile(timings["page"], 0.95),
        "page_cpu_median_ms": cpu_medians["page"],
        "api_median_ms": medians["api"],
        "api_cpu_median_ms": cpu_medians["api"],
        "api_304_median_ms": medians["api_304"],
        "api_304_cpu_median_ms": cpu_medians["api_304"],
        "api_304_floor_ratio": medians["api_304"] / medians["floor"],
        "api_304_queries": api_304_queries,
        "floor_median_ms": medians["floor"],
        "floor_cpu_median_ms": cpu_medians["floor"],
        "site_median_ms": medians["site"],
        "site_cpu_median_ms": cpu_medians["site"],
        "page_floor_ratio": medians["page"] / medians["floor"],
        "api_floor_ratio": medians["api"] / medians["floor"],
        "page_floor_cpu_ratio": cpu_medians["page"] / cpu_medians["floor"],
        "api_floor_cpu_ratio": cpu_medians["api"] / cpu_medians["floor"],
        "build_median_ms": statistics.median(build_timings),
        "queries": page_queries,
        "api_queries": api_queries,
        "bytes": len(response.content),
        "api_bytes": len(api_response.content),
        "floor_bytes": len(floor),
        "frozen": frozen,
    }


def floor_html(assignment_id: int, class_id: int, work_type_id: int, start: dt.date, end: dt.date) -> str:
    """The floor the grid page is measured against: the same cells read with raw SQL and written as an
    HTML table with f-strings (issue 10). Two queries: the students and the lessons (one UNION ALL), then
    every cell (the default work type's mark and the attendance code, with versions and the late flag).

    No framework on the way: no ORM, no template, no request; what the page costs above this is the price
    of the framework, the site around the grid and the read model.
    """
    from html import escape

    from classbook.journal.models import Attendance, AttendanceCode, Lesson, Mark
    from classbook.people.models import Enrolment, Student, User
    from classbook.schools.models import ScaleValue

    q = connection.ops.quote_name
    models = (Attendance, AttendanceCode, Lesson, Mark, Enrolment, Student, User, ScaleValue)
    t = {m.__name__: q(m._meta.db_table) for m in models}
    heads_sql = f"""
SELECT 0, s.id, u.last_name, u.first_name, u.patronymic FROM {t["Enrolment"]} e
JOIN {t["Student"]} s ON s.id = e.student_id JOIN {t["User"]} u ON u.id = s.user_id
WHERE e.school_class_id = %(cls)s AND e.start <= %(end)s AND (e.{q("end")} IS NULL OR e.{q("end")} >= %(start)s)
UNION ALL
SELECT 1, l.id, CAST(l.{q("date")} AS VARCHAR(10)), '', '' FROM {t["Lesson"]} l
WHERE l.assignment_id = %(a)s AND l.{q("date")} >= %(start)s AND l.{q("date")} <= %(end)s"""  # noqa: S608
    cells_sql = f"""
SELECT 0, m.lesson_id, m.student_id, v.code, m.version, m.is_late FROM {t["Mark"]} m
JOIN {t["Lesson"]} l ON l.id = m.lesson_id LEFT JOIN {t["ScaleValue"]} v ON v.id = m.value_id
WHERE l.assignment_id = %(a)s AND l.{q("date")} >= %(start)s AND l.{q("date")} <= %(end)s
  AND m.work_type_id = %(wt)s AND m.slot = 0
UNION ALL
SELECT 1, a.lesson_id, a.student_id, c.code, a.version, a.is_late FROM {t["Attendance"]} a
JOIN {t["Lesson"]} l ON l.id = a.lesson_id LEFT JOIN {t["AttendanceCode"]} c ON c.id = a.code_id
WHERE l.assignment_id = %(a)s AND l.{q("date")} >= %(start)s AND l.{q("date")} <= %(end)s"""  # noqa: S608
    params = {"a": assignment_id, "cls": class_id, "wt": work_type_id, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(heads_sql, params)
        heads = cursor.fetchall()
        cursor.execute(cells_sql, params)
        facts = cursor.fetchall()
    students = sorted((h for h in heads if h[0] == 0), key=lambda h: (h[2], h[3], h[4]))
    lessons = sorted((h[2], h[1]) for h in heads if h[0] == 1)
    marks: dict[tuple[int, int], tuple[str, int, bool]] = {}
    absences: dict[tuple[int, int], tuple[str, int, bool]] = {}
    for kind, lesson, student, code, version, late in facts:
        (marks if kind == 0 else absences)[(student, lesson)] = (code or "", version, bool(late))
    out = ["<table><thead><tr><th>Student</th>"]
    out.extend(f'<th data-l="{lid}">{day[8:10]}.{day[5:7]}</th>' for day, lid in lessons)
    out.append("</tr></thead><tbody>")
    empty = ("", 0, False)
    for _kind, sid, last, first, patronymic in students:
        out.append(f'<tr data-s="{sid}"><th>{escape(f"{last} {first} {patronymic}")}</th>')
        for _day, lid in lessons:
            m = marks.get((sid, lid), empty)
            a = absences.get((sid, lid), empty)
            late = " late" if m[2] or a[2] else ""
            text = f"{a[0]} {m[0]}" if a[0] and m[0] else a[0] or m[0]
            out.append(f'<td class="c{late}" data-l="{lid}" data-s="{sid}" data-v="{m[1]}.{a[1]}">{escape(text)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _cells(setup: dict, students: list, lesson_limit: int | None = None) -> list:
    """The cells a writer types marks into: not where the student is absent (one entry per cell, issue 10)."""
    from classbook.journal.models import Attendance, Lesson

    today = timezone.localdate()
    lessons = list(
        Lesson.objects.filter(assignment=setup["assignment"], date__lte=today)
        .select_related("school", "assignment__subject__scale", "assignment__school_class__year_level__scale")
        .order_by("-date")[:lesson_limit]
    )
    absent = set(
        Attendance.objects.filter(lesson__in=lessons, code__counts_as_absent=True, code__is_late=False).values_list(
            "lesson_id", "student_id"
        )
    )
    return [(lesson, student) for student in students for lesson in lessons if (lesson.pk, student.pk) not in absent]


def bench_save(setup: dict, saves: int) -> dict:
    from classbook.journal import services
    from classbook.journal.models import Mark
    from classbook.people.models import Student

    students = list(Student.objects.filter(enrolments__school_class=setup["assignment"].school_class))
    cells = _cells(setup, students)
    versions = {
        (m.lesson_id, m.student_id): m.version
        for m in Mark.objects.filter(lesson__assignment=setup["assignment"], work_type__ordinal=0, slot=0)
    }
    teacher = setup["teacher"]
    timings = []
    cpu = []
    pid = _backend_pid() if connection.vendor == "postgresql" else None
    server0 = _backend_cpu([pid]) if pid else None
    for i in range(saves):
        lesson, student = cells[i % len(cells)]
        key = (lesson.pk, student.pk)
        t0, c0 = time.perf_counter(), time.process_time()
        mark = services.record_mark(
            acting_user=teacher,
            lesson=lesson,
            student=student,
            text=str(1 + i % 12),
            expected_version=versions.get(key, 0),
        )
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        versions[key] = mark.version
    server1 = _backend_cpu([pid]) if pid else None
    # The same through the page's endpoint (routing, access, the cell state it answers with).
    client = Client(HTTP_HOST="localhost")  # in ALLOWED_HOSTS by default (testserver is not)
    client.force_login(teacher)
    url = reverse("journal:save_cell", args=[setup["school"].slug, setup["assignment"].pk])
    from classbook.journal.queries import cell_state

    http = []
    refused = 0
    tokens = {}
    for lesson, student in cells[: min(saves, 100)]:
        tokens[(lesson.pk, student.pk)] = cell_state(lesson, student.pk).version
    for i in range(min(saves, 100)):
        lesson, student = cells[i]
        key = (lesson.pk, student.pk)
        t0 = time.perf_counter()
        response = client.post(
            url, {"lesson": lesson.pk, "student": student.pk, "value": str(12 - i % 12), "version": tokens[key]}
        )
        http.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            refused += 1
    return {
        "save_median_ms": statistics.median(timings),
        "save_p95_ms": percentile(timings, 0.95),
        "save_cpu_median_ms": statistics.median(cpu),
        "save_server_cpu_ms": None if server0 is None or server1 is None else (server1 - server0) * 1000 / saves,
        "http_refused": refused,
        "http_save_median_ms": statistics.median(http),
    }


def _backend_cpu(pids: list[int]) -> float | None:
    """CPU seconds (user + system) the PostgreSQL backends ``pids`` used so far; None if the server is not local."""
    total = 0.0
    try:
        for pid in pids:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_text(code: str | None) -> str:
    """The next mark 1..12 after ``code``: every save really changes the cell (an unchanged one writes nothing)."""
    return str(int(code) % 12 + 1) if code and code.isdigit() else "1"


_FLOOR_WRITE = """WITH w AS (UPDATE journal_mark SET value_id = %s, version = version + 1, updated_at = now()
  WHERE id = %s RETURNING id, lesson_id, student_id)
INSERT INTO journal_journalchange (school_id, at, actor_id, kind, assignment_id, lesson_id, student_id, object_id,
  old_value, new_value, reason, is_late)
SELECT %s, now(), %s, 'mark', %s, w.lesson_id, w.student_id, w.id, %s, %s, '', false FROM w"""


def _floor_save(setup: dict, mark_id: int, values: dict, old: str, new: str) -> None:
    """The writers' floor: the same durable effect as a save (the mark changed, its audit row) as one raw
    statement in its own transaction, with no check, no service and no ORM: what the database alone costs."""
    assignment = setup["assignment"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _FLOOR_WRITE, [values[new], mark_id, assignment.school_id, setup["teacher"].pk, assignment.pk, old, new]
        )


def bench_concurrent(
    setup: dict,
    threads: int,
    seconds: float,
    part: tuple[int, int] = (0, 1),
    start_at: float | None = None,
    floor: bool = False,
) -> dict:
    """Writers on their own connections, each on its own cells, for ``seconds``: sustained saves/s.

    ``part`` = (this process, processes): with several processes each takes its share of the students.
    Every save changes its cell (the next mark after the stored one: a save of the same value writes
    nothing). Afterwards every written cell is read back and must hold the writer's last value and
    version, and the audit rows written must be one per save: ``lost`` counts the differences
    (lost updates), which must be 0. CPU per save: this process's ``time.process_time()`` and, when the
    server is on this machine, its writer backends' CPU from ``/proc``.
    """
    from classbook.core.errors import ConflictError
    from classbook.journal import services
    from classbook.journal.models import JournalChange, Mark
    from classbook.people.models import Student
    from classbook.schools.models import ScaleValue

    students = list(Student.objects.filter(enrolments__school_class=setup["assignment"].school_class).order_by("pk"))
    writers = threads * part[1]
    per_thread = [students[part[0] * threads + i :: writers] for i in range(threads)]
    mine = [s.pk for group in per_thread for s in group]
    last_change = JournalChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
    counts = [0] * threads
    conflicts = [0] * threads
    expected: list[dict] = [{} for _ in range(threads)]
    pids = [0] * threads
    server_end: list[float | None] = [None] * threads
    errors: list[BaseException] = []
    start_barrier = threading.Barrier(threads + 1)
    go = threading.Event()
    stop_at = [0.0]

    def writer(n: int) -> None:
        try:
            cells = _cells(setup, per_thread[n], lesson_limit=30)
            state = {
                (lesson_id, student_id): (code, version)
                for lesson_id, student_id, code, version in Mark.objects.filter(
                    lesson__assignment=setup["assignment"], student__in=per_thread[n], work_type__ordinal=0, slot=0
                ).values_list("lesson_id", "student_id", "value__code", "version")
            }
            if floor:  # the floor changes existing marks only (no insert path, no checks)
                ids = dict(
                    ((lesson_id, student_id), pk)
                    for lesson_id, student_id, pk in Mark.objects.filter(
                        lesson__assignment=setup["assignment"], student__in=per_thread[n], work_type__ordinal=0, slot=0
                    ).values_list("lesson_id", "student_id", "pk")
                )
                cells = [c for c in cells if (c[0].pk, c[1].pk) in ids and (state[(c[0].pk, c[1].pk)][0] or "")]
                values = dict(
                    ScaleValue.objects.filter(scale_id=cells[0][0].assignment.effective_scale().pk).values_list(
                        "code", "pk"
                    )
                )
            pids[n] = _backend_pid()
            teacher = setup["teacher"]
            start_barrier.wait()
            go.wait()
            i = 0
            while time.perf_counter() < stop_at[0]:
                lesson, student = cells[i % len(cells)]
                key = (lesson.pk, student.pk)
                code, version = state.get(key, (None, 0))
                text = _next_text(code)
                if floor:
                    _floor_save(setup, ids[key], values, code or "", text)
                    state[key] = (text, version + 1)
                    counts[n] += 1
                    i += 1
                    continue
                try:
                    mark = services.record_mark(
                        acting_user=teacher, lesson=lesson, student=student, text=text, expected_version=version
                    )
                    state[key] = (text, mark.version)
                    counts[n] += 1
                except ConflictError as exc:
                    conflicts[n] += 1
                    state[key] = (exc.current.value, exc.current.version)
                i += 1
            expected[n] = state
            server_end[n] = _backend_cpu([pids[n]])  # before the connection (and its backend) goes
        except BaseException as exc:  # reported below; a silent thread would flatter the figure
            errors.append(exc)
            if not start_barrier.broken:
                start_barrier.abort()
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    start_barrier.wait()
    if start_at is not None:  # all processes start together
        time.sleep(max(0.0, start_at - time.time()))
    server0, cpu0 = _backend_cpu(pids), time.process_time()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    go.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if errors:
        raise errors[0]
    saves = sum(counts)
    server1 = None if None in server_end else sum(server_end)  # type: ignore[arg-type]
    # The check: what each writer last saw accepted is what the database holds, and one audit row per save.
    stored = {
        (lesson_id, student_id): (code, version)
        for lesson_id, student_id, code, version in Mark.objects.filter(
            lesson__assignment=setup["assignment"], student__in=mine, work_type__ordinal=0, slot=0
        ).values_list("lesson_id", "student_id", "value__code", "version")
    }
    lost = sum(1 for state in expected for key, value in state.items() if stored.get(key) != value)
    audited = JournalChange.objects.filter(id__gt=last_change, kind="mark", student__in=mine).count()
    lost += abs(audited - saves)
    connections.close_all()
    return {
        "threads": threads,
        "seconds": round(elapsed, 2),
        "saves": saves,
        "saves_per_second": saves / elapsed,
        "conflicts": sum(conflicts),
        "lost": lost,
        "client_cpu_ms": cpu * 1000 / max(saves, 1),
        "server_cpu_ms": None if server0 is None or server1 is None else (server1 - server0) * 1000 / max(saves, 1),
    }


def bench_processes(setup: dict, threads: int, processes: int, seconds: float, floor: bool = False) -> dict:
    """The same writers spread over processes (a server runs several workers; one process has one GIL)."""
    import multiprocessing

    mp = multiprocessing.get_context("fork")
    connections.close_all()
    results = mp.Queue()
    start_at = time.time() + 5

    def run(n: int) -> None:
        results.put(bench_concurrent(setup, threads, seconds, part=(n, processes), start_at=start_at, floor=floor))

    workers = [mp.Process(target=run, args=(n,)) for n in range(processes)]
    for w in workers:
        w.start()
    parts = [results.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    saves = sum(p["saves"] for p in parts)
    elapsed = max(p["seconds"] for p in parts)
    return {
        "threads": threads * processes,
        "processes": processes,
        "seconds": elapsed,
        "saves": saves,
        "saves_per_second": saves / elapsed,
        "conflicts": sum(p["conflicts"] for p in parts),
        "lost": sum(p["lost"] for p in parts),
        "client_cpu_ms": sum(p["client_cpu_ms"] * p["saves"] for p in parts) / max(saves, 1),
        "server_cpu_ms": None
        if any(p["server_cpu_ms"] is None for p in parts)
        else sum(p["server_cpu_ms"] * p["saves"] for p in parts) / max(saves, 1),
    }


def _writers_line(result: dict) -> str:
    server = result["server_cpu_ms"]
    cpu = f"CPU per save: client {result['client_cpu_ms']:.2f} ms" + (
        f", server {server:.2f} ms" if server is not None else ""
    )
    return (
        f"for {result['seconds']} s: {result['saves_per_second']:.0f} saves/s ({result['saves']} saves, "
        f"{result['conflicts']} conflicts, {result['lost']} lost updates); {cpu}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--lessons", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--processes",
        default="2,4",
        help="also run the writers spread over N processes (comma-separated list), as gunicorn workers would be",
    )
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="do not freeze the process's objects before measuring (classbook/wsgi.py freezes them in a server)",
    )
    parser.add_argument(
        "--parts", default="page,save,concurrent", help="what to measure (comma-separated: page, save, concurrent)"
    )
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",")}

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        t0 = time.perf_counter()
        setup = build(args.students, args.lessons)
        load = os.getloadavg()[0]
        print(
            f"database: {connection.vendor}; built in {time.perf_counter() - t0:.1f} s; "
            f"{os.cpu_count()} CPUs, load {load:.1f}"
        )
        print(
            f"data: {args.students} students × {args.lessons} lessons, "
            f"{setup['marks']} marks, {setup['absences']} absences"
        )
        if "page" in parts:
            page = bench_page(setup, args.runs, freeze=not args.no_freeze)
            print(
                f"grid page ({args.runs} runs): median {page['page_median_ms']:.1f} ms, "
                f"p95 {page['page_p95_ms']:.1f} ms, "
                f"CPU median {page['page_cpu_median_ms']:.1f} ms, "
                f"{page['queries']} queries, {page['bytes'] // 1024} KiB; "
                f"read_grid alone median {page['build_median_ms']:.1f} ms"
            )
            print(
                f"floor (raw SQL, 2 queries, f-string table, {page['floor_bytes'] // 1024} KiB): "
                f"median {page['floor_median_ms']:.1f} ms (CPU {page['floor_cpu_median_ms']:.1f} ms); "
                f"API grid (JSON, {page['api_queries']} queries, {page['api_bytes'] // 1024} KiB): "
                f"median {page['api_median_ms']:.1f} ms (CPU {page['api_cpu_median_ms']:.1f} ms); "
                f"site alone (journal index): median {page['site_median_ms']:.1f} ms "
                f"(CPU {page['site_cpu_median_ms']:.1f} ms)"
            )
            print(
                f"garbage collector: {page['frozen']} objects frozen before measuring (as classbook/wsgi.py does)"
                if page["frozen"]
                else "garbage collector: nothing frozen (--no-freeze)"
            )
            print(
                f"ratio to the floor (wall / CPU): page {page['page_floor_ratio']:.2f}x / "
                f"{page['page_floor_cpu_ratio']:.2f}x, API grid {page['api_floor_ratio']:.2f}x / "
                f"{page['api_floor_cpu_ratio']:.2f}x (target <= 2x)"
            )
            print(
                f"API grid revalidated (If-None-Match, 304, {page['api_304_queries']} queries): "
                f"median {page['api_304_median_ms']:.1f} ms (CPU {page['api_304_cpu_median_ms']:.1f} ms), "
                f"{page['api_304_floor_ratio']:.2f}x the floor, "
                f"{page['api_304_median_ms'] / page['api_median_ms']:.2f}x the full answer (CPU "
                f"{page['api_304_cpu_median_ms'] / page['api_cpu_median_ms']:.2f}x)"
            )
        if "save" in parts:
            save = bench_save(setup, args.saves)
            print(
                f"record_mark ({args.saves} runs, with its audit row): median {save['save_median_ms']:.2f} ms, "
                f"p95 {save['save_p95_ms']:.2f} ms, CPU median {save['save_cpu_median_ms']:.2f} ms"
                + (
                    f" (+ server {save['save_server_cpu_ms']:.2f} ms mean)"
                    if save["save_server_cpu_ms"] is not None
                    else ""
                )
                + "; "
                f"through the page's save endpoint: median {save['http_save_median_ms']:.2f} ms "
                f"({save['http_refused']} refused)"
            )
        if connection.vendor == "postgresql" and "concurrent" in parts:
            connection.close()
            lost = 0
            result = bench_concurrent(setup, args.threads, args.seconds)
            lost += result["lost"]
            print(f"concurrent: {result['threads']} writer threads in one process {_writers_line(result)}")
            for processes in [int(p) for p in args.processes.split(",") if p.strip()]:
                if processes < 2:
                    continue
                result = bench_processes(setup, args.threads // processes, processes, args.seconds)
                lost += result["lost"]
                print(
                    f"concurrent: {result['threads']} writer threads in {result['processes']} processes "
                    f"{_writers_line(result)}"
                )
                # The floor: the same writers doing only the write and its audit row in raw SQL (issue 10).
                floor = bench_processes(setup, args.threads // processes, processes, args.seconds, floor=True)
                lost += floor["lost"]
                print(
                    f"floor (raw SQL: the write and its audit row, one statement per transaction): "
                    f"{floor['threads']} writers in {floor['processes']} processes {_writers_line(floor)}; "
                    f"saves/s ratio service/floor {result['saves_per_second'] / max(floor['saves_per_second'], 1):.2f}"
                )
            if lost:
                raise SystemExit(f"{lost} lost updates: a writer's accepted save is not what the database holds")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


if __name__ == "__main__":
    main()
