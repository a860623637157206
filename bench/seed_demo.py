#!/usr/bin/env python
"""Benchmark: the demo school generator on a fresh database, several times.

    .venv/bin/python bench/seed_demo.py                       # SQLite, 1,000 students, 5 runs
    .venv/bin/python bench/seed_demo.py --runs 3 --students 5000 --scale 2
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/classbook_bench .venv/bin/python bench/seed_demo.py

Each run migrates an empty database (a new SQLite file in a temporary directory; or, with
DATABASE_URL, the named PostgreSQL database, which is DROPPED and recreated), then times
``classbook.demo.generator.generate`` in a fresh process. Prints every run and the
median / min seconds (wall clock, and the CPU time of the generating process, which with SQLite
includes the database's work and is steadier on a shared machine) and the rows created. Not a test:
nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def worker(seed: int, students: int, scale: int) -> None:
    """Runs inside the child process: time the generator and print the result as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
    import django

    django.setup()
    from django.db import connection

    from classbook.demo.generator import DemoOptions, generate

    started, cpu_started = time.perf_counter(), time.process_time()
    summary = generate(DemoOptions(seed=seed, students=students, scale=scale))
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
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
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.seed, args.students, args.scale)
        return

    results = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="classbook-bench-") as tmp:
            result = one_run(args, Path(tmp))
        results.append(result)
        print(
            f"run {i + 1}/{args.runs}: {result['seconds']:.2f} s ({result['cpu_seconds']:.2f} s CPU), "
            f"{result['rows']} rows "
            f"({result['rows'] / result['seconds']:.0f} rows/s) on {result['vendor']}",
            flush=True,
        )
    if os.environ.get("DATABASE_URL"):
        recreate_postgres(os.environ["DATABASE_URL"], create=False)
    seconds = [r["seconds"] for r in results]
    cpu = [r["cpu_seconds"] for r in results]
    last = results[-1]
    print(
        f"seed_demo --students {args.students} --scale {args.scale} on {last['vendor']}, {os.cpu_count()} CPUs: "
        f"median {statistics.median(seconds):.2f} s, min {min(seconds):.2f} s, max {max(seconds):.2f} s "
        f"(CPU of the generating process: median {statistics.median(cpu):.2f} s, min {min(cpu):.2f} s); "
        f"{last['rows']} rows ({last['students']} students, {last['classes']} classes, {last['staff']} staff, "
        f"{last['parents']} parents)"
    )
    for label, count in sorted(last["by_model"].items(), key=lambda kv: -kv[1]):
        print(f"  {label:32} {count:>8}")


if __name__ == "__main__":
    main()
