"""PgBouncer drill (issue 15): the read-only pages and writes through a private PgBouncer in transaction mode.

    .venv/bin/python bench/pgbouncer_drill.py                 # as root (installs Debian's pgbouncer if missing)
    .venv/bin/python bench/pgbouncer_drill.py --keep          # keep the seeded database for the next run
    .venv/bin/python bench/pgbouncer_drill.py --reuse --seconds 15

What it does (docs/performance.md "Read replicas and PgBouncer", docs/deployment.md "PgBouncer"):

1. installs Debian's ``pgbouncer`` package with apt-get if the binary is missing (as root; it says so first) —
   the drill never uses the package's own service, it starts a private PgBouncer;
2. creates the database ``--db`` (DROPPED first; ``--reuse`` takes one a ``--keep`` run left) on the server of
   ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/postgres``), migrates it and builds the demo
   school (``seed_demo --students``), then ``ANALYZE``;
3. writes a configuration of its own into ``var/pgbouncer-drill-*`` (transaction pooling, ``--pool-size``
   server connections, listening on 127.0.0.1 only on a free port) and starts PgBouncer as the postgres OS user;
4. runs gunicorn twice over the same pages (parents' and students' diary weeks, timetables, the deputy's
   reports), ``--seconds`` of wrk each, while the school's admin saves the diary settings every second (writes
   in transactions): first straight to PostgreSQL (persistent connections, as without a pooler), then through
   PgBouncer with the settings a transaction pooler needs — ``DB_CONN_MAX_AGE=0``,
   ``DB_PREPARE_THRESHOLD=off`` (PgBouncer < 1.21 cannot keep named prepared statements),
   ``DB_DISABLE_SERVER_SIDE_CURSORS=1``; prints requests/s, p50/p95/p99, errors, non-200 answers and failed
   saves of each, the server connections PostgreSQL had for the database, and PgBouncer's own counts;
5. stops gunicorn and PgBouncer, deletes PgBouncer's files (also on failure or Ctrl-C), drops the database
   (``--keep`` keeps it) and exits non-zero if the run through PgBouncer had an error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from diary_load import LUA, ensure_debian_package, free_port, recreate_database, run, server_env, wait_until_up
from replica_drill import PERSONAS, as_postgres, db_url, query, save_show_average, sh, wrk
from replica_drill import result as phase_figures

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent


class Bouncer:
    """A private PgBouncer in ``var/pgbouncer-drill-*``: transaction pooling in front of the primary."""

    def __init__(self, binary: str, base: str, db: str, pool_size: int) -> None:
        var = ROOT / "var"
        var.mkdir(exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="pgbouncer-drill-", dir=var))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        primary = urllib.parse.urlsplit(base)
        user = primary.username or "postgres"
        (self.dir / "pgbouncer.ini").write_text(
            f"""[databases]
{db} = host={primary.hostname or "127.0.0.1"} port={primary.port or 5432} dbname={db} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir = {self.dir}
auth_type = trust
auth_file = {self.dir}/userlist.txt
admin_users = {user}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
logfile = {self.dir}/pgbouncer.log
pidfile = {self.dir}/pgbouncer.pid
"""
        )
        (self.dir / "userlist.txt").write_text(f'"{user}" ""\n')
        self.binary, self.user = binary, user
        if os.geteuid() == 0:
            for path in (self.dir, *self.dir.iterdir()):
                shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own pgbouncer
            as_postgres([self.binary, str(self.dir / "pgbouncer.ini")]),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # its log file is in its folder
        )
        for _ in range(100):
            with contextlib.suppress(Exception):
                self.show("VERSION")
                return
            time.sleep(0.1)
        raise RuntimeError(f"pgbouncer did not start: {self.dir / 'pgbouncer.log'}")

    def show(self, what: str) -> list[dict[str, str]]:
        """``SHOW <what>`` on PgBouncer's admin console (simple query protocol: psql)."""
        out = sh(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                "pgbouncer",
                "-A",
                "-F",
                "\t",
                "-P",
                "footer=off",
                "-c",
                f"SHOW {what}",
            ]
        )
        lines = out.splitlines()
        return [dict(zip(lines[0].split("\t"), line.split("\t"), strict=False)) for line in lines[1:]]

    def url(self, db: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{db}"

    def remove(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def serve(env: dict[str, str], workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn
        [str(BIN / "gunicorn"), "classbook.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),  # noqa: SIM115 - lives as long as the server
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(base)
    return server, base


def backends(base_url: str, db: str) -> int:
    return int(
        query(db_url(base_url, "postgres"), "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [db])[0][0]
    )


def load(
    name: str, args: argparse.Namespace, env: dict[str, str], tmp: Path, personas: dict, base_url: str
) -> dict[str, float]:
    server, base = serve(env, args.workers, tmp / f"gunicorn-{name}.log")
    try:
        wrk(base, tmp / "targets.txt", 5, 1, args.connections).communicate(timeout=65)  # warm-up: imports, caches
        stop = threading.Event()
        saves = {"ok": 0, "failed": 0}
        peak = {"backends": 0}

        def write_and_watch() -> None:
            value = False
            while not stop.wait(1):
                value = not value
                try:
                    save_show_average(
                        base, personas["settings"], personas["admin_cookie"], personas["admin_csrf"], value
                    )
                    saves["ok"] += 1
                except Exception:
                    saves["failed"] += 1
                with contextlib.suppress(Exception):
                    peak["backends"] = max(peak["backends"], backends(base_url, args.db))

        writer = threading.Thread(target=write_and_watch, daemon=True)
        load0 = os.getloadavg()[0]
        process = wrk(base, tmp / "targets.txt", args.seconds, args.threads, args.connections)
        writer.start()
        out, _ = process.communicate(timeout=args.seconds + 60)
        stop.set()
        writer.join()
        figures = phase_figures(out) | {"saves": saves["ok"], "saves_failed": saves["failed"]}
        figures["backends"] = peak["backends"]
        print(
            f"[{name}] {figures['requests']:.0f} requests in {args.seconds} s: {figures['rps']:.1f}/s, "
            f"p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, p99 {figures['p99']:.0f} ms, "
            f"errors {figures['errors']:.0f}, non-200 {figures['non200']:.0f}; diary settings saved "
            f"{saves['ok']} times, {saves['failed']} failed; at most {peak['backends']} PostgreSQL connections "
            f"to the database; load {load0:.1f} → {os.getloadavg()[0]:.1f}"
        )
        log = (tmp / f"gunicorn-{name}.log").read_text()
        figures["tracebacks"] = log.count("Traceback")
        if figures["tracebacks"]:
            print(f"  gunicorn log: {figures['tracebacks']} tracebacks ({tmp / f'gunicorn-{name}.log'})")
        return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("BENCH_DB_NAME", "bench_pgbouncer_drill"))
    parser.add_argument("--students", type=int, default=300, help="size of the demo school")
    parser.add_argument("--pool-size", type=int, default=4, help="PgBouncer's server connections for the database")
    parser.add_argument("--workers", type=int, default=6, help="gunicorn sync workers (more than --pool-size)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--seconds", type=int, default=15, help="length of each load")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the database a --keep run left")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk")
    binary = ensure_debian_package("pgbouncer")
    print(sh([binary, "--version"]).splitlines()[0])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))  # so PgBouncer is stopped (finally)

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    tmp = Path(tempfile.mkdtemp(prefix="classbook-pgbouncer-drill-"))
    direct_env = server_env(base_url, args.db, tmp, None, REQUEST_LOG_LEVEL="WARNING")
    bouncer = Bouncer(binary, base_url, args.db, args.pool_size)
    failed = False
    try:
        if not args.reuse:
            t0 = time.perf_counter()
            recreate_database(base_url, args.db)
            run([PYTHON, "manage.py", "migrate", "--noinput"], direct_env)
            run([PYTHON, "manage.py", "seed_demo", "--students", str(args.students)], direct_env)
            query(db_url(base_url, args.db), "ANALYZE")
            print(f"demo of {args.students} students on PostgreSQL built in {time.perf_counter() - t0:.0f} s")
        run([PYTHON, "manage.py", "collectstatic", "--noinput"], direct_env)
        personas = json.loads(
            run([PYTHON, "manage.py", "shell", "-c", "PARENTS, STUDENTS = 8, 8\n" + PERSONAS], direct_env).split(
                "JSON ", 1
            )[1]
        )
        (tmp / "targets.txt").write_text("".join(f"{path} {cookie}\n" for path, cookie in personas["pages"]))
        (tmp / "drill.lua").write_text(LUA)
        bouncer.start()
        print(
            f"PgBouncer on 127.0.0.1:{bouncer.port}, transaction pooling, {args.pool_size} server connections; "
            f"{len(personas['pages'])} pages, gunicorn {args.workers} sync workers, wrk {args.threads} threads × "
            f"{args.connections} connections, {os.cpu_count()} CPUs"
        )
        direct = load("straight to PostgreSQL", args, direct_env, tmp, personas, base_url)
        pooled_env = {
            **direct_env,
            "DATABASE_URL": bouncer.url(args.db),
            "DB_CONN_MAX_AGE": "0",
            "DB_PREPARE_THRESHOLD": "off",
            "DB_DISABLE_SERVER_SIDE_CURSORS": "1",
        }
        pooled = load("through PgBouncer", args, pooled_env, tmp, personas, base_url)
        stats = next((row for row in bouncer.show("STATS") if row.get("database") == args.db), {})
        pools = next((row for row in bouncer.show("POOLS") if row.get("database") == args.db), {})
        print(
            f"PgBouncer: {stats.get('total_xact_count', '?')} transactions and {stats.get('total_query_count', '?')}"
            f" queries over {pools.get('sv_active', '?')} active + {pools.get('sv_idle', '?')} idle server "
            f"connections at the end; clients waited {int(stats.get('total_wait_time', 0)) / 1e6:.1f} s in total"
        )
        print(
            f"through PgBouncer / straight: {pooled['rps'] / max(direct['rps'], 1e-9):.2f}× the requests/s, "
            f"{pooled['p95'] / max(direct['p95'], 1e-9):.2f}× the p95"
        )
        failed = bool(pooled["errors"] or pooled["non200"] or pooled["saves_failed"] or pooled["tracebacks"])
    finally:
        bouncer.remove()
        print("PgBouncer stopped and its files removed")
        if not args.keep:
            recreate_database(base_url, args.db, drop_only=True)
        else:
            print(f"kept: database {args.db}")
        shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        sys.exit("FAILED: errors through PgBouncer")
    print("all checks passed: 0 errors through PgBouncer")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
