"""Mixed load of a school day on a region's deployment (issue 15): locust against gunicorn + PostgreSQL + Redis.

    .venv/bin/python -m pip install -e ".[dev,bench]"          # locust (docs/dependencies.md), once
    .venv/bin/python bench/region_load.py                        # quick: 2 schools of 200 students, 20 users, 60 s
    .venv/bin/python bench/region_load.py --scale 10 --students 1000 --users 60 --seconds 120 --keep   # the figure
    .venv/bin/python bench/region_load.py --db bench_region_load --reuse --users 60 --seconds 120      # again

What it does (docs/performance.md, "A region's school day under load"):

1. creates the PostgreSQL database ``--db`` (DROPPED first if it exists; ``--reuse`` takes one a ``--keep`` run
   left) on the server of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``), migrates
   it, runs ``seed_demo --scale N --students S`` (N schools, journal up to today) and ``ANALYZE`` (a reused one is
   migrated and ``ANALYZE``d again, so both runs of a comparison start alike);
2. starts gunicorn (``--workers`` sync workers, persistent connections, ``DB_SERVER_SIDE_BINDING`` as in
   production), Redis as cache and sessions (``--redis``; a database number of its own, flushed first) and the
   task worker (``manage.py worker``), all on 127.0.0.1;
3. picks personas in every school — teachers with a recent lesson of their own, class teachers, parents with
   their children, students, a deputy — and makes each a session as a login would (``force_login``: no
   password hash, whose cost ``bench/login_storm.py`` measures; ``--login-form`` logs in over the form instead);
   then opens every persona's pages once, unmeasured (``--no-warm-up`` skips it): ten schools have ten times the
   personas, and without it the ten-school run measured ten times as many first visits (cold diary cache, buffers);
4. runs locust headless for ``--seconds`` with ``--users`` users (``bench/region_locust.py``: teachers saving
   marks and attendance through the grid's save endpoint and opening the grid, class teachers on absences,
   parents and students on diaries and messages, deputies on reports; 0.5-2 s of thinking between requests);
5. prints per request kind: count, failures, p50/p95/p99 (ms), and the requests per second; the CPU seconds used
   by the gunicorn workers, PostgreSQL's backends of this database, Redis, the task worker and locust; the
   database's transactions, rows written, rows returned (sequential scans and index entries) and fetched (by
   index), cache hits over the run; the machine's load average;
6. stops everything and drops the database (``--keep`` keeps it).

Before the run the journal outbox is emptied (the demo's changes marked announced): a live deployment's task
worker drains it as changes come, so only the run's own saves are fanned out to parents.

Loopback only: every server listens on 127.0.0.1 and locust targets it. Bounded: locust stops after
``--seconds`` (and its users after 10 s more at most); the script's own wait for it is bounded too.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from diary_load import cpu_of_others, cpu_seconds, free_port, recreate_database, run, server_env, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent

ANALYZE = "from django.db import connection; connection.cursor().execute('ANALYZE')"

# Printed by ``manage.py shell``: the personas of every school as one JSON line.
PERSONAS = r"""
import datetime as dt, json
from django.utils import timezone
from classbook.demo.generator import DEMO_PASSWORD
from classbook.journal.models import Attendance, Lesson, Mark
from classbook.people.models import Enrolment, GuardianLink, Membership, Role, Student
from classbook.schools.models import School, SchoolClass
today = timezone.localdate()
week = today - dt.timedelta(days=today.weekday())
if today.weekday() >= 5 or today == week:
    week -= dt.timedelta(days=7)
out = {"password": DEMO_PASSWORD, "week": week.isoformat(), "teachers": [], "class_teachers": [], "families": [],
       "deputies": []}
for school in School.objects.order_by("pk"):
    s = f"/s/{school.slug}"
    seen = set()
    lessons = (Lesson.objects.filter(school=school, date__lte=today, date__gte=today - dt.timedelta(days=21),
               assignment__subgroup__isnull=True).exclude(topic="")
               .select_related("assignment").order_by("-date", "pk"))
    for lesson in lessons:
        teacher = lesson.conducted_by_id or lesson.assignment.teacher_id
        if teacher != lesson.assignment.teacher_id or teacher in seen:
            continue
        students = list(Enrolment.objects.filter(school_class_id=lesson.assignment.school_class_id,
                        end__isnull=True).values_list("student_id", flat=True))
        marks = {m[0]: m[1] for m in Mark.objects.filter(lesson=lesson, slot=0).values_list("student_id", "version")}
        # A cleared absence (code NULL, left by an earlier run of a kept database) is a present student: without
        # this a reused database's teachers had no cells left for attendance. The cell's token carries its version.
        kept = dict(Attendance.objects.filter(lesson=lesson).values_list("student_id", "version"))
        absent = set(Attendance.objects.filter(lesson=lesson, code__isnull=False).values_list("student_id", flat=True))
        free = [sid for sid in students if sid not in absent]
        if len(free) < 6:
            continue
        scale = lesson.assignment.effective_scale()
        values = [v.code for v in scale.values.filter(period_only=False).order_by("ordinal")] if scale else []
        if not values:
            continue
        seen.add(teacher)
        half = len(free) // 2
        out["teachers"].append({
            "username": lesson.assignment.teacher.username, "school": school.slug,
            "save": f"{s}/journal/{lesson.assignment_id}/cell/", "grid": f"{s}/journal/{lesson.assignment_id}/",
            "values": values,
            "mark_cells": [[lesson.pk, sid, marks.get(sid, 0), kept.get(sid, 0)] for sid in free[:half]],
            "attendance_cells": [[lesson.pk, sid, 0, kept.get(sid, 0)] for sid in free[half:] if sid not in marks],
        })
        if len(seen) >= PER["teachers"]:
            break
    for c in SchoolClass.objects.filter(school=school, class_teacher__isnull=False, year__is_current=True).order_by(
            "pk").select_related("class_teacher")[: PER["class_teachers"]]:
        out["class_teachers"].append({"username": c.class_teacher.username, "school": school.slug,
                                      "absences": f"{s}/appeals/absences/?class={c.pk}"})
    parents = {}
    for link in GuardianLink.objects.filter(school=school, may_see=True).select_related("guardian").order_by("pk"):
        parents.setdefault(link.guardian.username, []).append(link.student_id)
        if len(parents) > PER["parents"]:
            break
    for username, children in list(parents.items())[: PER["parents"]]:
        out["families"].append({"username": username, "school": school.slug, "messages": f"{s}/messages/",
                                "diaries": [f"{s}/diary/{c}/week/{week}/" for c in children]})
    for st in Student.objects.filter(school=school, user__isnull=False).select_related("user").order_by("pk")[
            : PER["students"]]:
        out["families"].append({"username": st.user.username, "school": school.slug, "messages": f"{s}/messages/",
                                "diaries": [f"{s}/diary/{st.pk}/week/{week}/"]})
    for m in Membership.objects.filter(school=school, role=Role.DEPUTY, is_active=True).select_related("user")[:1]:
        out["deputies"].append({"username": m.user.username, "school": school.slug,
                                "progress": f"{s}/reports/progress/", "attendance": f"{s}/reports/attendance/"})
if FORCE_LOGIN:  # sessions made here, as the login form would (no password hash: login_storm.py measures those)
    from django.conf import settings
    from django.test import Client
    from django.utils.crypto import get_random_string
    from classbook.people.models import User
    for kind in ("teachers", "class_teachers", "families", "deputies"):
        for p in out[kind]:
            client = Client()
            client.force_login(User.objects.get(username=p["username"]))
            csrf = get_random_string(32)
            p["cookie"] = (f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}; "
                           f"{settings.CSRF_COOKIE_NAME}={csrf}")
            p["csrf"] = csrf
print("JSON " + json.dumps(out))
"""


def login(base: str, username: str, password: str) -> tuple[str, str]:
    """Log in over the login form (waiting out 429s as a browser's user would); the cookie header and CSRF token."""
    for _ in range(30):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        url = f"{base}/accounts/login/"
        page = opener.open(url, timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert token, "no CSRF token on the login page"
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
        ).encode()
        request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310 - http://127.0.0.1
        try:
            opener.open(request, timeout=60).read()
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                time.sleep(float(exc.headers.get("Retry-After", "2")))
                continue
            raise
        cookies = {c.name: c.value for c in jar}
        assert "sessionid" in cookies, f"login of {username} failed"
        return "; ".join(f"{k}={v}" for k, v in cookies.items()), cookies.get("csrftoken", "")
    raise RuntimeError(f"login of {username}: 429 thirty times")


def warm_up(base: str, personas: list[dict[str, Any]]) -> int:
    """Open every page of every persona once (not measured): the diary's cached weeks, the database's buffers and
    the workers' first requests are then as warm for ten schools' personas as for one school's — without it
    the ten-school run measured ten times as many first visits (a cold Redis, 21,000 blocks read from disk
    against 500)."""
    urls = []
    for p in personas:
        for key in ("grid", "absences", "messages", "progress", "attendance"):
            if key in p:
                urls.append((p["cookie"], p[key]))
        urls += [(p["cookie"], u) for u in p.get("diaries", [])]

    def get(item: tuple[str, str]) -> None:
        cookie, path = item
        request = urllib.request.Request(base + path, headers={"Cookie": cookie})  # noqa: S310 - http://127.0.0.1
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            answer.read()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(get, urls))
    return len(urls)


def pg_stats(env: dict[str, str], db: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted,"
            " blks_read, blks_hit FROM pg_stat_database WHERE datname = %s",
            [db],
        ).fetchone()
    names = ["commits", "rollbacks", "returned", "fetched", "inserted", "updated", "deleted", "blks_read", "blks_hit"]
    return dict(zip(names, row or [0] * len(names), strict=True))


def cpu_of_pids(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2, help="schools (seed_demo --scale); 10 for the region figure")
    parser.add_argument("--students", type=int, default=200, help="students per school (1000 for the figure)")
    parser.add_argument("--users", type=int, default=20, help="locust users at once")
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    # 20 teachers a school: with one school, 60 users hold ~17 teachers at once, and four teachers shared by them
    # saved the same cells at the same moments (409s no school sees: a teacher is one person).
    parser.add_argument("--per-school", default="teachers=20,class_teachers=2,parents=4,students=4")
    parser.add_argument("--db", default="bench_region_load")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9", help="REDIS_URL (its database is FLUSHED)")
    parser.add_argument(
        "--login-form",
        action="store_true",
        help="log the personas in over the login form (a password hash each) instead of making their sessions",
    )
    parser.add_argument(
        "--no-warm-up",
        action="store_true",
        help="skip opening every persona's pages once before the measured run (the caches and buffers start cold)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    parser.add_argument(
        "--locust", default=str(BIN / "locust"), help="the locust executable (default: this venv's; any venv's will do)"
    )
    args = parser.parse_args()
    if not Path(args.locust).exists():
        sys.exit('locust is not installed: .venv/bin/python -m pip install -e ".[dev,bench]" (or pass --locust)')

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    tmp = Path(tempfile.mkdtemp(prefix="classbook-region-"))
    env = server_env(base_url, args.db, tmp, args.redis, REQUEST_LOG_LEVEL="WARNING")
    if not args.reuse:
        recreate_database(base_url, args.db)
    procs: list[subprocess.Popen] = []
    try:
        if not args.reuse:
            t0 = time.perf_counter()
            run([PYTHON, "manage.py", "migrate", "--noinput"], env)
            t1 = time.perf_counter()
            run([PYTHON, "manage.py", "seed_demo", "--scale", str(args.scale), "--students", str(args.students)], env)
            t2 = time.perf_counter()
            run([PYTHON, "manage.py", "shell", "-c", ANALYZE], env)
            print(
                f"built: migrate {t1 - t0:.0f} s, seed_demo --scale {args.scale} --students {args.students} "
                f"{t2 - t1:.0f} s, ANALYZE {time.perf_counter() - t2:.0f} s (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        else:  # a kept database gets the code's migrations (a new index, planner statistics) and fresh statistics
            run([PYTHON, "manage.py", "migrate", "--noinput"], env)
            run([PYTHON, "manage.py", "shell", "-c", ANALYZE], env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput"], env)
        # The demo's journal history is not news: a live school's worker drains the outbox as changes come, so the
        # run starts with it empty (else the task worker spends the run notifying parents of September's marks).
        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            pending = conn.execute(
                "UPDATE journal_journalchange SET announced_at = now() WHERE announced_at IS NULL"
            ).rowcount
        print(f"journal outbox: {pending} seeded changes marked announced before the run", flush=True)
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        per = dict((k, int(v)) for k, v in (p.split("=") for p in args.per_school.split(",")))
        preamble = f"PER = {per!r}\nFORCE_LOGIN = {not args.login_form}\n"
        out = run([PYTHON, "manage.py", "shell", "-c", preamble + PERSONAS], env)
        targets = json.loads(re.search(r"^JSON (.+)$", out, re.M).group(1))  # type: ignore[union-attr]

        port = free_port()
        log = open(tmp / "servers.log", "w")  # noqa: SIM115 - lives as long as the servers
        gunicorn = subprocess.Popen(  # noqa: S603 - our own gunicorn
            [str(BIN / "gunicorn"), "classbook.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.workers), "--timeout", "60"],
            env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        worker = subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "worker", "--interval", "1", "--no-reload"],
            env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        procs += [gunicorn, worker]
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base)

        t0 = time.perf_counter()
        personas = [p for kind in ("teachers", "class_teachers", "families", "deputies") for p in targets[kind]]
        if args.login_form:
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                logins = pool.map(lambda p: login(base, p["username"], targets["password"]), personas)
                for p, (cookie, csrf) in zip(personas, logins, strict=True):
                    p["cookie"], p["csrf"] = cookie, csrf
        print(
            f"{len(personas)} personas logged in{' over the login form' if args.login_form else ''} "
            f"in {time.perf_counter() - t0:.0f} s: "
            + ", ".join(f"{len(targets[k])} {k}" for k in ("teachers", "class_teachers", "families", "deputies")),
            flush=True,
        )
        (tmp / "targets.json").write_text(json.dumps(targets))
        if not args.no_warm_up:
            t0 = time.perf_counter()
            pages = warm_up(base, personas)
            print(f"warm-up: every persona's pages once, {pages} pages in {time.perf_counter() - t0:.0f} s", flush=True)

        load0 = os.getloadavg()
        cpu0 = cpu_seconds(gunicorn.pid)
        others0 = cpu_of_others(args.db)
        worker0 = cpu_of_pids([worker.pid])
        db0 = pg_stats(env, args.db)
        started = time.perf_counter()
        locust = subprocess.run(  # noqa: S603
            [
                args.locust, "-f", str(ROOT / "bench" / "region_locust.py"), "--headless",
                "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.seconds}s",
                "--stop-timeout", "10", "--host", base, "--csv", str(tmp / "locust"), "--only-summary",
                "--loglevel", "WARNING",
            ],
            env={**env, "REGION_TARGETS": str(tmp / "targets.json")},
            cwd=ROOT, capture_output=True, text=True, timeout=args.seconds + 120, check=False,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(gunicorn.pid) - cpu0
        others1 = cpu_of_others(args.db)
        worker_cpu = cpu_of_pids([worker.pid]) - worker0
        db1 = pg_stats(env, args.db)
        load1 = os.getloadavg()

        rows = list(csv.DictReader((tmp / "locust_stats.csv").open()))
        total = next((r for r in rows if r["Name"] == "Aggregated"), None)
        print(
            f"\n{args.scale} schools × {args.students} students; gunicorn {args.workers} sync workers, Redis, task "
            f"worker; locust {args.users} users for {args.seconds} s (0.5-2 s think time); {os.cpu_count()} CPUs; "
            f"load average {load0[0]:.1f} before / {load1[0]:.1f} after — a shared machine, not a quiet-machine figure"
        )
        print(f"{'kind':20} {'requests':>9} {'failed':>7} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
        for r in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Name"])):
            name = "ALL" if r["Name"] == "Aggregated" else r["Name"]
            print(
                f"{name:20} {int(r['Request Count']):>9} {int(r['Failure Count']):>7} "
                f"{float(r['Requests/s']):>7.1f} {r['50%']:>6} {r['95%']:>6} {r['99%']:>6}"
            )
        failures = list(csv.DictReader((tmp / "locust_failures.csv").open()))
        for f in failures[:10]:
            print(f"  failure: {f['Method']} {f['Name']}: {f['Error'][:150]} × {f['Occurrences']}")
        done = int(total["Request Count"]) if total else 0
        if done:
            per_req = {k: (others1[k] - others0[k]) * 1000 / done for k in ("postgres", "redis-server", "wrk")}
            print(
                f"CPU over {elapsed:.0f} s: gunicorn workers {cpu:.1f} s ({cpu * 1000 / done:.1f} ms/request), "
                f"PostgreSQL backends {others1['postgres'] - others0['postgres']:.1f} s "
                f"({per_req['postgres']:.1f} ms/request), "
                f"Redis {others1['redis-server'] - others0['redis-server']:.1f} s, "
                f"task worker {worker_cpu:.1f} s, locust {others1['wrk'] - others0['wrk']:.1f} s"
            )
        d = {k: db1[k] - db0[k] for k in db0}
        hit = d["blks_hit"] / max(d["blks_hit"] + d["blks_read"], 1)
        print(
            f"database: {d['commits']} commits ({d['commits'] / elapsed:.0f}/s), {d['rollbacks']} rollbacks, "
            f"rows inserted {d['inserted']} / updated {d['updated']} / deleted {d['deleted']}, "
            f"rows returned {d['returned']} (by sequential scans and index entries) / fetched {d['fetched']} (by "
            f"index), "
            f"cache hits {hit:.1%} ({d['blks_read']} blocks read)"
        )
        if locust.returncode not in (0, 1):  # 1: some requests failed
            print(locust.stderr[-3000:])
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
        if args.keep:
            print(f"kept: database {args.db}, files in {tmp}")
        else:
            recreate_database(base_url, args.db, drop_only=True)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
