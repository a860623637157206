"""The migrations build the schema the models describe, on PostgreSQL (the production engine).

The test databases are created from the models (``TEST_SCHEMA=models``, ``tests/conftest.py``
``_schema_from_models``): ~2 s instead of 33-37 s of migrations per worker. This test keeps the migrations
proven: a real ``manage.py migrate`` (a subprocess, as an operator runs it) into an empty database, then the two
schemas compared object by object: tables, columns (type, nullability, database default, collation, identity),
indexes, constraints, and whatever else a RunSQL could leave behind (functions, triggers, collations,
extensions, views, sequences). ``makemigrations --check`` proves the migrations describe the models; this proves
that applying them gives the same database, which a RunSQL or a hand-edited migration could break.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection as django_connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.postgres_pass,
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="compares PostgreSQL schemas",
    ),
]

# Each query gives rows of text; a schema is the set of rows of every query (object names included: Django's
# index and constraint names derive from the table and column names, so a rename the migrations did not carry
# through shows up here).
CATALOGUE = {
    "tables": """
        SELECT c.relname || ' ' || c.relkind::text || ' ' || c.relpersistence::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')""",
    "columns": """
        SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
            || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
            || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
            || CASE WHEN a.attgenerated <> '' THEN ' GENERATED' ELSE '' END
            || coalesce(' COLLATE ' || co.collname, '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> t.typcollation
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0
            AND NOT a.attisdropped""",
    "indexes": "SELECT tablename || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "constraints": """
        SELECT c.relname || ': ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = k.connamespace
        WHERE n.nspname = 'public'""",
    "sequences": """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'S'""",
    "functions": """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'""",
    "triggers": """
        SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal""",
    "views": "SELECT viewname || ': ' || definition FROM pg_views WHERE schemaname = 'public'",
    "collations": """
        SELECT co.collname FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')""",
    "extensions": "SELECT extname || ' ' || extversion FROM pg_extension",
    "types": """
        SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'r', 'm')""",
}


# Differences that are Django's, not the project's: (kind, row from the migrations, row from the models).
ACCEPTED = {
    # The table of Group.permissions, an automatic through table: Django's migration state gives it the project's
    # DEFAULT_AUTO_FIELD (bigint), the auth app's own models its AutoField (integer). Both count the same rows.
    (
        "columns",
        "auth_group_permissions.id bigint NOT NULL IDENTITY d",
        "auth_group_permissions.id integer NOT NULL IDENTITY d",
    ),
}


def schema_of(conninfo: dict[str, object]) -> dict[str, set[str]]:
    with psycopg.connect(**conninfo) as connection:  # type: ignore[arg-type]
        return {
            kind: {re.sub(r"\s+", " ", row[0]) for row in connection.execute(query)}
            for kind, query in CATALOGUE.items()
        }


def _conninfo(database: dict[str, object], name: str) -> dict[str, object]:
    info = {"dbname": name, "host": database["HOST"], "port": database["PORT"], "user": database["USER"]}
    if database["PASSWORD"]:
        info["password"] = database["PASSWORD"]
    return {k: v for k, v in info.items() if v not in ("", None)}


def _url(database: dict[str, object], name: str) -> str:
    user = urllib.parse.quote(str(database["USER"] or ""))
    password = urllib.parse.quote(str(database["PASSWORD"] or ""))
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    port = f":{database['PORT']}" if database["PORT"] else ""
    return f"postgres://{auth}{database['HOST'] or ''}{port}/{urllib.parse.quote(name)}"


@pytest.fixture
def migrated_database(django_db_setup: None) -> Iterator[str]:
    """An empty database next to the test database, migrated by ``manage.py migrate``; dropped afterwards."""
    database = django_connection.settings_dict  # the test database's, once created
    name = f"{database['NAME']}_migrated"[:63]
    server = _conninfo(database, "postgres")
    with psycopg.connect(**server, autocommit=True) as connection:  # type: ignore[arg-type]
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {k: v for k, v in os.environ.items() if k not in {"TEST_DB_NAME", "DATABASE_REPLICA_URLS"}}
        env["DATABASE_URL"] = _url(database, name)
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,  # ~35 s of CPU on a quiet machine; minutes on a loaded one
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield name
    finally:
        with psycopg.connect(**server, autocommit=True) as connection:  # type: ignore[arg-type]
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_give_the_schema_the_models_give(migrated_database: str) -> None:
    database = django_connection.settings_dict
    from_models = schema_of(_conninfo(database, str(database["NAME"])))
    from_migrations = schema_of(_conninfo(database, migrated_database))
    assert from_models["tables"], "no tables read: is the test database the one the tests use?"
    for kind, migrated, modelled in ACCEPTED:
        if migrated in from_migrations[kind] and modelled in from_models[kind]:
            from_migrations[kind].remove(migrated)
            from_models[kind].remove(modelled)
    differences = {
        kind: {
            "only from the migrations": sorted(from_migrations[kind] - from_models[kind]),
            "only from the models": sorted(from_models[kind] - from_migrations[kind]),
        }
        for kind in CATALOGUE
        if from_migrations[kind] != from_models[kind]
    }
    assert not differences, differences
