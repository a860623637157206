#!/usr/bin/env python
"""Benchmark: the demo school generator on a fresh database, several times.

    .venv/bin/python bench/seed_demo.py                       # SQLite, 1,000 students, 5 runs
    .venv/bin/python bench/seed_demo.py --runs 3 --students 5000 --scale 2
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/classbook_bench .venv/bin/python bench/seed_demo.py

Each run migrates an empty database (a new SQLite file in a temporary directory; or, with
DATABASE_URL, the named PostgreSQL database, which is DROPPED and recreated), then times
``classbook.demo.generator.generate`` in a fresh process. Prints every run and the
median / min seconds (wall clock, and the CPU time of the generating process, which with SQLite
includes the database's work and is steadier on a shared machine; with PostgreSQL on this machine also the
CPU of the database's backends, sampled from ``/proc``), the load average and the rows and marks created. With
PostgreSQL the schools are built by ``--jobs`` processes (default: as ``seed_demo``, one per CPU, at most 4).
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


class BackendClock:
    """The CPU time of this database's PostgreSQL backends (the generator's connections), read from ``/proc``
    every half second by a thread on a connection of its own (a backend's last half second before it exits may
    be missed). Zero when the server is not on this machine or not PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url, self.seen, self.stop = url, {}, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> BackendClock:
        if self.url:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()

    def _sample(self) -> None:
        import psycopg

        ticks = os.sysconf("SC_CLK_TCK")
        with psycopg.connect(self.url, autocommit=True) as conn:
            own = conn.info.backend_pid
            while True:
                pids = [
                    pid
                    for (pid,) in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s", [own]
                    )
                ]
                for pid in pids:
                    try:
                        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    except OSError:
                        continue
                    self.seen[pid] = (int(fields[11]) + int(fields[12])) / ticks
                if self.stop.wait(0.5):
                    return

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def worker(seed: int, students: int, scale: int, jobs: int) -> None:
    """Runs inside the child process: time the generator and print the result as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
    import django

    django.setup()
    from django.db import connection

    from classbook.demo.generator import DemoOptions, generate

    load = os.getloadavg()[0]
    url = os.environ.get("DATABASE_URL", "") if connection.vendor == "postgresql" else ""
    with BackendClock(url) as backend:
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = generate(DemoOptions(seed=seed, students=students, scale=scale), jobs=jobs)
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the generator's processes with jobs > 1
    from classbook.journal.models import Mark

    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds + children.ru_utime + children.ru_stime,
                "backend_cpu_seconds": backend.seconds,
                "load": [load, os.getloadavg()[0]],
                "marks": Mark.objects.count(),
                "rows": summary.total_rows,
                "students": summary.students,
                "classes": summary.classes,
                "staff": summary.staff,
                "parents": summary.parents,
                "vendor": connection.vendor,
                "by_model": dict(summary.rows),
            }
        )
    )


def recreate_postgres(url: str, *, create: bool = True) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def one_run(args: argparse.Namespace, tmp: Path) -> dict:
    # A throw-away key for the throw-away processes (settings refuse to start without one).
    env = {"SECRET_KEY": secrets.token_urlsafe(50), **os.environ, "CLASSBOOK_VAR_DIR": str(tmp), "DEBUG": "0"}
    if os.environ.get("DATABASE_URL"):
        recreate_postgres(os.environ["DATABASE_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            __file__,
            "--worker",
            "--seed",
            str(args.seed),
            "--students",
            str(args.students),
            "--scale",
            str(args.scale),
            "--jobs",
            str(args.jobs),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument(
        "--jobs", type=int, default=min(os.cpu_count() or 1, 4), help="processes (PostgreSQL; as seed_demo's default)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.seed, args.students, args.scale, args.jobs)
        return

    results = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="classbook-bench-") as tmp:
            result = one_run(args, Path(tmp))
        results.append(result)
        print(
            f"run {i + 1}/{args.runs}: {result['seconds']:.2f} s (CPU: client {result['cpu_seconds']:.2f} s, "
            f"database backends {result['backend_cpu_seconds']:.2f} s; load {result['load'][0]:.1f} -> "
            f"{result['load'][1]:.1f}), {result['marks']} marks, {result['rows']} rows "
            f"({result['rows'] / result['seconds']:.0f} rows/s) on {result['vendor']}",
            flush=True,
        )
    if os.environ.get("DATABASE_URL"):
        recreate_postgres(os.environ["DATABASE_URL"], create=False)
    seconds = [r["seconds"] for r in results]
    backend = [r["backend_cpu_seconds"] for r in results]
    cpu = [r["cpu_seconds"] for r in results]
    last = results[-1]
    print(
        f"seed_demo --students {args.students} --scale {args.scale} on {last['vendor']}, {os.cpu_count()} CPUs: "
        f"median {statistics.median(seconds):.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s "
        f"(CPU of the generating processes: median {statistics.median(cpu):.2f} s, min {min(cpu):.2f} s; of the "
        f"database backends: median {statistics.median(backend):.2f} s; --jobs {args.jobs}); "
        f"{last['rows']} rows ({last['students']} students, {last['classes']} classes, {last['staff']} staff, "
        f"{last['parents']} parents)"
    )
    for label, count in sorted(last["by_model"].items(), key=lambda kv: -kv[1]):
        print(f"  {label:32} {count:>8}")


if __name__ == "__main__":
    main()
