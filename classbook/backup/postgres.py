"""PostgreSQL: ``pg_dump`` in the custom format from an exported snapshot, ``pg_restore`` into an empty database.

The checksums and the migration state are read in the same REPEATABLE READ transaction whose snapshot
``pg_dump --snapshot`` dumps, so the manifest describes exactly the rows in the dump while the site keeps
writing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from classbook.backup.checksums import TableSum, quote, table_count, table_sums
from classbook.backup.errors import BackupError

VENDOR = "postgresql"


def tool(name: str) -> str:
    """The path of ``pg_dump``/``pg_restore``: from ``BACKUP_PG_BINDIR`` when set, else from PATH."""
    bindir = getattr(settings, "BACKUP_PG_BINDIR", "")
    path = str(Path(bindir) / name) if bindir else shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise BackupError(
            _(
                "%(tool)s was not found. Install the PostgreSQL client programs of the server's major version "
                "(Debian: apt install postgresql-client) or set BACKUP_PG_BINDIR to their folder."
            )
            % {"tool": name}
        )
    return path


def tool_version(path: str) -> tuple[int, str]:
    """(major version, version line) of a PostgreSQL client program, e.g. (15, "pg_dump (PostgreSQL) 15.20")."""
    # The program's path comes from settings or PATH, never from a request.
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout.strip()  # noqa: S603
    found = re.search(r"\) (\d+)(?:\.\d+)?", out) or re.search(r"(\d+)\.\d+", out)
    if not found:
        raise BackupError(_("Could not read the version of %(tool)s: %(output)s") % {"tool": path, "output": out})
    return int(found.group(1)), out


def server_version(cursor: Any) -> tuple[int, str]:
    cursor.execute("SELECT current_setting('server_version_num')::int, current_setting('server_version')")
    number, text = cursor.fetchone()
    return int(number) // 10000, str(text)


def _env(settings_dict: dict[str, Any], name: str) -> dict[str, str]:
    """The connection of Django's settings for the client programs, as libpq's environment (no password in ps)."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": name,
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("service", "PGSERVICE")):
        pairs[variable] = options.get(option)
    env.update({key: str(value) for key, value in pairs.items() if value})
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (see tool_version)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise BackupError(
            _("%(tool)s failed (exit code %(code)s): %(error)s")
            % {"tool": Path(args[0]).name, "code": done.returncode, "error": tail}
        )


def dump(wrapper: BaseDatabaseWrapper, target: Path) -> dict[str, Any]:
    """Dump the database of ``wrapper`` into ``target``; its tables' checksums and migrations from the same snapshot."""
    pg_dump = tool("pg_dump")
    client_major, client_text = tool_version(pg_dump)
    wrapper.ensure_connection()
    with wrapper.connection.cursor() as cursor:
        major, server_text = server_version(cursor)
        if client_major < major:
            raise BackupError(
                _(
                    "pg_dump %(client)s cannot dump a PostgreSQL %(server)s server. Install "
                    "postgresql-client-%(major)s and set BACKUP_PG_BINDIR (e.g. /usr/lib/postgresql/%(major)s/bin)."
                )
                % {"client": client_major, "server": server_text, "major": major}
            )
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            name = wrapper.settings_dict["NAME"]
            _run(
                [pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--file={target}", name],
                _env(wrapper.settings_dict, name),
            )
            sums = table_sums(cursor, VENDOR)
            migrations = _migrations(cursor) if "django_migrations" in sums else {}
        finally:
            cursor.execute("ROLLBACK")
    return {
        "server_version": server_text,
        "dump_tool": client_text,
        "dump_tool_major": client_major,
        "tables": sums,
        "migrations": migrations,
    }


def _migrations(cursor: Any) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    state: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        state.setdefault(app, []).append(name)
    return state


def check_restore_tools(database: dict[str, Any], wrapper: BaseDatabaseWrapper) -> str:
    """Refuse before anything changes when pg_restore is missing or older than the dump, or the server older."""
    pg_restore = tool("pg_restore")
    client_major, _text = tool_version(pg_restore)
    if client_major < int(database.get("dump_tool_major", 0)):
        raise BackupError(
            _("The dump was made by %(dump)s; pg_restore %(client)s cannot read it. Install a newer PostgreSQL client.")
            % {"dump": database.get("dump_tool", "?"), "client": client_major}
        )
    wrapper.ensure_connection()
    with wrapper.connection.cursor() as cursor:
        major, text = server_version(cursor)
    source_major = int(str(database.get("server_version", "0")).split(".")[0] or 0)
    if major < source_major:
        raise BackupError(
            _("The backup comes from PostgreSQL %(source)s; it cannot be restored into older PostgreSQL %(target)s.")
            % {"source": database.get("server_version"), "target": text}
        )
    return pg_restore


def is_empty(wrapper: BaseDatabaseWrapper) -> bool:
    wrapper.ensure_connection()
    with wrapper.connection.cursor() as cursor:
        return table_count(cursor, VENDOR) == 0


def empty(wrapper: BaseDatabaseWrapper) -> None:
    """Drop every table, view and sequence of the target's schema (``restore --force``), in one transaction."""
    wrapper.ensure_connection()
    with wrapper.connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(
            "SELECT c.relkind, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        )
        kinds = {
            "v": "VIEW",
            "m": "MATERIALIZED VIEW",
            "r": "TABLE",
            "p": "TABLE",
            "f": "FOREIGN TABLE",
            "S": "SEQUENCE",
        }
        relations = sorted(cursor.fetchall(), key=lambda row: "vmrpfS".index(row[0]))
        for kind, name in relations:
            cursor.execute(f"DROP {kinds[kind]} IF EXISTS {quote(name)} CASCADE")
        cursor.execute("COMMIT")


def restore(pg_restore: str, wrapper: BaseDatabaseWrapper, source: Path) -> None:
    """All or nothing: one transaction, stopped at the first error."""
    wrapper.close()  # pg_restore needs no lock of ours on the target
    name = wrapper.settings_dict["NAME"]
    _run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--dbname={name}",
            str(source),
        ],
        _env(wrapper.settings_dict, name),
    )


def sums(wrapper: BaseDatabaseWrapper) -> dict[str, TableSum]:
    wrapper.ensure_connection()
    with wrapper.connection.cursor() as cursor:
        return table_sums(cursor, VENDOR)
