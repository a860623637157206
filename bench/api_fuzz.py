"""The API against its own OpenAPI document, longer than CI's run (issue 18): Schemathesis for a deputy, a
teacher and a parent on the demo school, valid and invalid requests for every operation.

Run from the repository root:

    .venv/bin/python bench/api_fuzz.py                      # a fresh SQLite file in a temporary folder
    .venv/bin/python bench/api_fuzz.py --examples 25 --students 200
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api_fuzz.py

On PostgreSQL it creates (and drops afterwards) the database ``bench_api_fuzz``. The same harness as
``tests/api/test_openapi_contract.py`` (``tests/api/fuzz.py``), with ``--examples`` per operation and kind
(CI: 2). It prints the requests, their statuses and the time per persona, the slowest operations, and every
failure (a 5xx, an undocumented status or content type, a body not matching its schema); the exit status
is 1 if there was any.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

from _bootstrap import bootstrap

IS_POSTGRES = bootstrap("bench_api_fuzz")

import time_machine  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402

from classbook.demo.generator import DemoOptions, generate  # noqa: E402
from classbook.demo.logins import find_demo_logins  # noqa: E402
from classbook.people import credentials  # noqa: E402
from classbook.people.models import User  # noqa: E402
from classbook.schools.models import School  # noqa: E402
from tests.api import fuzz  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10, help="generated requests per operation and kind")
    parser.add_argument("--students", type=int, default=60, help="demo school size")
    parser.add_argument("--personas", default="deputy,teacher,parent")
    parser.add_argument("--only", default=None, help="operations whose label contains this")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["localhost"]
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="classbook-bench-media-"))
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    failed = False
    try:
        with time_machine.travel(dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC), tick=False), transaction.atomic():
            started = time.perf_counter()
            generate(DemoOptions(seed=1, students=args.students))
            school = School.objects.get()
            print(
                f"database: {connection.vendor}; demo of {args.students} students in "
                f"{time.perf_counter() - started:.1f} s; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
                f"{args.examples} examples per operation and kind"
            )
            logins = {login.key: login.username for login in find_demo_logins(school)}
            with fuzz.live_app() as app:
                schema = fuzz.load(app)
                for persona in args.personas.split(","):
                    user = User.objects.get(username=logins[persona])
                    _row, token = credentials.create_api_token(user=user, name="fuzz")
                    credentials.create_api_token(user=user, name="spare")
                    report = fuzz.run(
                        schema, persona, token, fuzz.known_ids(user, school), examples=args.examples, only=args.only
                    )
                    per_request = 1000 * report.seconds / max(report.requests, 1)
                    print(
                        f"{persona}: {report.requests} requests in {report.seconds:.1f} s ({per_request:.0f} ms each), "
                        f"statuses {dict(sorted(report.statuses.items()))}, {len(report.failures)} failures"
                    )
                    slowest = sorted(report.timings.items(), key=lambda item: -item[1])[:3]
                    print("  slowest: " + "; ".join(f"{label} {seconds:.1f} s" for label, seconds in slowest))
                    for line in fuzz.refused_valid_data(report):
                        print(f"  refuses most valid data: {line}")
                    for label, failure in report.failures.items():
                        failed = True
                        print(f"  FAIL {label}: {failure}\n")
            transaction.set_rollback(True)
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
