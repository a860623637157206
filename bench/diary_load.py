"""Load test of the diary: PostgreSQL, gunicorn with several workers, wrk from a second process.

    apt-get install -y wrk      # Debian's wrk, once
    .venv/bin/python bench/diary_load.py
    .venv/bin/python bench/diary_load.py --students 1000 --workers 5 --connections 32 --seconds 30
    .venv/bin/python bench/diary_load.py --redis redis://127.0.0.1:6379/7 --workers 3   # as in production

What it does (docs/performance.md, "Diary under load"):

1. creates the PostgreSQL database ``bench_diary_load`` (``--db``; DROPPED first if it exists) on the server
   of ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``), migrates it and builds the
   demo school (``seed_demo``, journal up to today) and collects the static files into a temporary folder;
2. starts gunicorn (``--workers`` sync workers, persistent database connections) on a free local port;
3. logs in over HTTP like a browser (login form, CSRF cookie, session cookie) as the demo parent of two
   children, the demo student and ``--students-sampled`` other students (all demo users share the demo password);
4. runs wrk (``--threads``, ``--connections``, ``--seconds``) over the diary week pages of all of them (last week:
   a full week of the journal) — each request with its owner's session cookie — and prints requests per
   second and the latency percentiles (p50, p95, p99) wrk measured, plus a check that every answer was 200;
5. stops gunicorn and drops the database (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

LUA = r"""
local paths, cookies, i = {}, {}, 0
init = function(args)
  for line in io.lines(args[1]) do
    local path, cookie = line:match("^(%S+) (.+)$")
    table.insert(paths, path); table.insert(cookies, cookie)
  end
end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Cookie"] = cookies[i]})
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.1f requests=%d p50=%.2f p95=%.2f p99=%.2f errors=%d non200=%d\n",
    summary.requests / (summary.duration / 1e6), summary.requests,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""


def cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by the gunicorn master's workers, from /proc (Linux)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def cpu_of_others(db: str) -> dict[str, float]:
    """CPU time so far of the PostgreSQL backends serving ``db`` and of redis-server (which serves others
    too), and of the finished child processes (wrk)."""
    total = {"postgres": 0, "redis-server": 0}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text = (proc / "stat").read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            if name == "postgres" and f" {db} " not in (proc / "cmdline").read_bytes().decode(errors="replace"):
                continue
        except OSError:
            continue
        if name in total:
            fields = text.rsplit(")", 1)[1].split()
            total[name] += int(fields[11]) + int(fields[12])
    out = {k: v / os.sysconf("SC_CLK_TCK") for k, v in total.items()}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["wrk"] = children.ru_utime + children.ru_stime
    return out


def ensure_debian_package(binary: str, package: str | None = None) -> str:
    """The path of ``binary``, installing Debian's ``package`` (default: the binary's name) with apt-get if it is
    missing — as root only, saying so first (the drills' PgBouncer, the login storm's nginx)."""
    package = package or binary
    found = shutil.which(binary) or next(
        (str(Path(d) / binary) for d in ("/usr/sbin", "/sbin") if (Path(d) / binary).exists()), None
    )
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit(f"{binary} is not installed: apt-get install -y {package} (as root), then run this again")
    print(f"{binary} is not installed: installing Debian's package (apt-get install -y {package}) ...")
    subprocess.run(  # noqa: S603 - a package name of ours
        ["apt-get", "install", "-y", package],  # noqa: S607
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.DEVNULL,
    )
    return shutil.which(binary) or f"/usr/sbin/{binary}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], env: dict[str, str]) -> str:
    return subprocess.run(args, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout  # noqa: S603


def db_url(base: str, name: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def server_env(base: str, db: str, var_dir: Path, redis: str | None, **extra: str) -> dict[str, str]:
    """The environment of a bench's server processes: their own key for this run (settings require one), the
    bench's database, DEBUG off, their own var/ and static files, quiet logs, Redis only when given."""
    env = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        **os.environ,
        "DATABASE_URL": db_url(base, db),
        "DB_CONN_MAX_AGE": "600",
        "DEBUG": "0",
        "CLASSBOOK_VAR_DIR": str(var_dir),
        "STATIC_ROOT": str(var_dir / "static"),
        "LOG_LEVEL": "ERROR",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    return env


def wait_until_up(base: str, path: str = "/healthz", tries: int = 150) -> None:
    """Wait (0.2 s a try) until the server at ``base`` answers ``path``: gunicorn's workers have loaded the app."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(f"{base}{path}", timeout=2).read()  # noqa: S310
            return
        except OSError:
            time.sleep(0.2)


def recreate_database(base: str, name: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(db_url(base, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def login(base: str, username: str, password: str) -> str:
    """Log in through the login form like a browser; the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    url = f"{base}/accounts/login/"
    request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310 - http://127.0.0.1
    opener.open(request).read()
    cookies = {c.name: c.value for c in jar}
    assert "sessionid" in cookies, f"login of {username} failed"
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def diary_targets(env: dict[str, str], sampled: int) -> tuple[str, str, list[tuple[str, str]]]:
    """The school, and (username, student id) pairs: the demo parent's children, the demo student, others."""
    code = f"""
import random
from classbook.demo.generator import DEMO_PASSWORD
from classbook.demo.logins import find_demo_logins
from classbook.people.models import GuardianLink, Student, User
from classbook.schools.models import School
school = School.objects.order_by("pk").first()
logins = {{l.key: l for l in find_demo_logins(school)}}
print("SCHOOL", school.slug)
print("PASSWORD", DEMO_PASSWORD)
for link in GuardianLink.objects.filter(guardian__username=logins["parent"].username, may_see=True):
    print("T", logins["parent"].username, link.student_id)
me = Student.objects.get(user__username=logins["student"].username)
print("T", me.user.username, me.pk)
# Students of the school today: one who has left sees no diary (the demo has some), and their 404s would be
# counted as failures of the load.
others = list(
    Student.objects.filter(school=school, left_on__isnull=True).exclude(pk=me.pk).select_related("user").order_by("pk")
)
for s in random.Random(1).sample(others, {sampled}):
    print("T", s.user.username, s.pk)
"""
    out = run([PYTHON, "manage.py", "shell", "-c", code], env)
    school = re.search(r"^SCHOOL (\S+)$", out, re.M).group(1)  # type: ignore[union-attr]
    password = re.search(r"^PASSWORD (.+)$", out, re.M).group(1)  # type: ignore[union-attr]
    targets = [(m.group(1), m.group(2)) for m in re.finditer(r"^T (\S+) (\d+)$", out, re.M)]
    return school, password, targets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000, help="size of the demo school")
    parser.add_argument("--students-sampled", type=int, default=20, help="students whose own diary is loaded")
    parser.add_argument("--workers", type=int, default=5)
    parser.add_argument("--gthreads", type=int, default=0, help="gunicorn gthread workers with this many threads each")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--floor-seconds", type=int, default=10, help="wrk on /healthz after the run (0: none)")
    parser.add_argument("--db", default="bench_diary_load")
    parser.add_argument(
        "--redis",
        default=os.environ.get("REDIS_URL", ""),
        help="REDIS_URL for the server (shared cache: cached sessions and cached diary weeks); empty: none",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (and the log) afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    tmp = Path(tempfile.mkdtemp(prefix="classbook-load-"))
    env = server_env(base_url, args.db, tmp, args.redis)
    if not args.reuse:
        recreate_database(base_url, args.db)
    server = None
    try:
        t0 = time.perf_counter()
        if not args.reuse:
            run([PYTHON, "manage.py", "migrate", "--noinput"], env)
            run([PYTHON, "manage.py", "seed_demo", "--students", str(args.students)], env)
            # Statistics for the planner, as autovacuum keeps them on a running server.
            run(
                [
                    PYTHON,
                    "manage.py",
                    "shell",
                    "-c",
                    "from django.db import connection; connection.cursor().execute('ANALYZE')",
                ],
                env,
            )
        run([PYTHON, "manage.py", "collectstatic", "--noinput"], env)
        school, password, targets = diary_targets(env, args.students_sampled)
        if not args.reuse:
            print(f"demo of {args.students} students on PostgreSQL built in {time.perf_counter() - t0:.0f} s")

        port = free_port()
        gunicorn = str(Path(PYTHON).parent / "gunicorn")
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn
            [
                gunicorn,
                "classbook.wsgi:application",
                *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
                *(("--worker-class", "gthread", "--threads", str(args.gthreads)) if args.gthreads else ()),
            ],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "gunicorn.log", "w"),  # noqa: SIM115 - lives as long as the server
        )
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, "/accounts/login/", tries=100)
        last_week = (dt.date.today() - dt.timedelta(days=7)).isoformat()
        sessions: dict[str, str] = {}
        lines = []
        for username, student_id in targets:
            if username not in sessions:
                sessions[username] = login(base, username, password)
            lines.append(f"/s/{school}/diary/{student_id}/week/{last_week}/ {sessions[username]}")
        (tmp / "targets.txt").write_text("\n".join(lines) + "\n")
        (tmp / "diary.lua").write_text(LUA)
        # Warm up: every worker imports, connects and fills its caches.
        wrk = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--timeout", "10s"]
        wrk += ["-s", str(tmp / "diary.lua")]
        warm = [*wrk, "-d", "5s", base, "--", str(tmp / "targets.txt")]
        subprocess.run(warm, check=True, capture_output=True)  # noqa: S603
        load0 = os.getloadavg()[0]
        cpu0 = cpu_seconds(server.pid)
        others = ("postgres", "redis-server", "wrk")
        others0 = cpu_of_others(args.db)
        out = subprocess.run(  # noqa: S603
            [*wrk, "-d", f"{args.seconds}s", "--latency", base, "--", str(tmp / "targets.txt")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cpu = cpu_seconds(server.pid) - cpu0
        others1 = cpu_of_others(args.db)
        result = re.search(r"RESULT (.+)", out)
        done = re.search(r"requests=(\d+)", out)
        print(
            f"{len(lines)} diaries ({len(sessions)} logins), gunicorn {args.workers} "
            f"{f'gthread workers × {args.gthreads} threads' if args.gthreads else 'sync workers'}, "
            f"wrk {args.threads} threads × {args.connections} connections for {args.seconds} s; "
            f"{os.cpu_count()} CPUs, load {load0:.1f} before / {os.getloadavg()[0]:.1f} after; "
            f"Redis: {args.redis or 'none'}"
        )
        print(result.group(1) if result else out)
        if done and int(done.group(1)):
            print(
                f"gunicorn workers used {cpu:.1f} CPU-seconds: {cpu * 1000 / int(done.group(1)):.1f} ms of CPU "
                f"per request (at most {os.cpu_count() * int(done.group(1)) / max(cpu, 1e-9):.0f} requests/s "
                f"on {os.cpu_count()} CPUs with nothing else running)"
            )
            print(
                "and per request: "
                + ", ".join(f"{k} {(others1[k] - others0[k]) * 1000 / int(done.group(1)):.1f} ms" for k in others)
                + " of CPU (PostgreSQL: the backends of this database; Redis: the whole server)"
            )
        if args.floor_seconds and result:
            # The floor in the same run: the same server, connections and machine answering /healthz (the
            # middleware chain and a view, no session, database or template). Machines differ 1.5-2x; the
            # diary's share of the floor is what carries to another machine.
            plain = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "--timeout", "10s"]
            floor_out = subprocess.run(  # noqa: S603
                [*plain, "-d", f"{args.floor_seconds}s", f"{base}/healthz"], check=True, capture_output=True, text=True
            ).stdout
            floor = re.search(r"Requests/sec:\s+([\d.]+)", floor_out)
            rps = re.search(r"rps=([\d.]+)", result.group(1))
            if floor and rps:
                print(
                    f"floor: /healthz on the same server {float(floor.group(1)):.0f} requests/s; the diary week "
                    f"{float(rps.group(1)) / float(floor.group(1)):.2f}x the floor's rate"
                )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if not args.keep:
            recreate_database(base_url, args.db, drop_only=True)
        if args.keep:
            print(f"kept: database {args.db}, files in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
