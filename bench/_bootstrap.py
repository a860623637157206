"""The shared start of the benchmark scripts: Django's settings, a temporary folder and the bench's own database.

    from _bootstrap import bootstrap
    IS_POSTGRES = bootstrap("bench_journal")   # before importing anything of Django's ORM

On SQLite the database is a new file in a temporary folder; with ``DATABASE_URL=postgres://...`` it is
the PostgreSQL database named here (or ``BENCH_DB_NAME``), which the script creates and drops with
Django's test-database helpers. Extra keyword arguments are set as environment variables first
(e.g. ``TASKS_BACKEND="database"``).
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
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
