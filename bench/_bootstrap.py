"""The shared start of the benchmark scripts: Django's settings, a temporary folder and the bench's own database.

    from _bootstrap import bootstrap
    IS_POSTGRES = bootstrap("bench_journal")   # before importing anything of Django's ORM

On SQLite the database is a new file in a temporary folder; with ``DATABASE_URL=postgres://...`` it is
the PostgreSQL database named here (or ``BENCH_DB_NAME``), which the script creates and drops with
Django's test-database helpers (``with bench_database(): ...``; ``keep=True`` reuses a seeded one). Extra
keyword arguments are set as environment variables first (e.g. ``TASKS_BACKEND="database"``).

The benches that read a database ``seed_demo`` filled call ``setup_existing()`` instead. Every report bench
calls ``analyze()`` after writing its data, before timing.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bootstrap(postgres_name: str, **environment: str) -> bool:
    """Set up Django for a benchmark; returns whether the database is PostgreSQL."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # settings refuse to start without one
    os.environ.update(environment)
    is_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    tmp = tempfile.mkdtemp(prefix="classbook-bench-")
    os.environ.setdefault("CLASSBOOK_VAR_DIR", tmp)
    (Path(os.environ["CLASSBOOK_VAR_DIR"]) / "static").mkdir(parents=True, exist_ok=True)
    name = os.environ.get("BENCH_DB_NAME", postgres_name)
    os.environ["TEST_DB_NAME"] = name if is_postgres else str(Path(tmp) / "bench.sqlite3")

    import django

    django.setup()
    return is_postgres


def setup_existing() -> bool:
    """Set up Django against the database ``DATABASE_URL`` names as it is (a database ``seed_demo`` filled,
    read by the bench, never created nor dropped); returns whether it is PostgreSQL."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "classbook.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

    import django

    django.setup()
    return os.environ.get("DATABASE_URL", "").startswith("postgres")


@contextmanager
def bench_database(*, keep: bool = False) -> Iterator[bool]:
    """The bench's own database (``bootstrap``'s name) for the ``with`` block, dropped after it; with
    ``keep`` (PostgreSQL) an existing one is reused and kept, so a long seed is paid once. Yields whether
    the database already existed with data (the caller skips its seeding then)."""
    from django.db import connection, connections

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keep, serialize=False)
    try:
        from classbook.schools.models import School

        yield School.objects.exists()
    finally:
        connections.close_all()
        if not keep:
            connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def analyze() -> None:
    """Refresh the planner's statistics after seeding (as autovacuum does on a live database): every report
    bench calls it after writing its data, so a plan is not chosen on an empty table's statistics."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
