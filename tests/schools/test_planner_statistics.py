"""The planner statistics of migration schools 0007: on PostgreSQL a teaching assignment's and a class's year
decide their school, so a report's ``school_id = … AND year_id = …`` is estimated as the year's rows, not a tenth
of them with ten schools (docs/performance.md, "One school against ten")."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

migration = importlib.import_module("classbook.schools.migrations.0007_teachingassignment_school_year_statistics")


def _statistics() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.stxname, c.relname FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid"
            " WHERE s.stxname = ANY(%s)",
            [list(migration.STATISTICS)],
        )
        return set(cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="extended statistics are PostgreSQL's")
def test_the_migration_creates_and_drops_the_school_year_dependencies():
    with connection.schema_editor() as editor:
        migration.drop(None, editor)
        assert _statistics() == set()
        migration.create(None, editor)
    assert _statistics() == set(migration.STATISTICS.items())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT stxkind FROM pg_statistic_ext WHERE stxname = %s", ["schools_teachingassignment_school_year"]
        )
        assert cursor.fetchone()[0] == ["f"]  # functional dependencies


def test_the_migration_does_nothing_on_sqlite():
    ran: list[str] = []
    editor = SimpleNamespace(connection=SimpleNamespace(vendor="sqlite"), execute=ran.append)
    migration.create(None, editor)
    migration.drop(None, editor)
    assert ran == []
