"""SQLite: a copy through the online backup API, consistent while the site writes (WAL keeps writers going).

Copying the file is not safe (the last commits may sit in the ``-wal`` file); the backup API reads one
snapshot. The copy is switched to the rollback journal so it is one self-contained file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext as _

from classbook.backup.checksums import TableSum, table_count, table_sums
from classbook.backup.errors import BackupError

VENDOR = "sqlite"


def _open(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    # Plain sqlite3 without type converters, the same on both sides of a comparison (checksums.py).
    if read_only:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    return sqlite3.connect(path)


def dump(wrapper: BaseDatabaseWrapper, target: Path) -> dict[str, Any]:
    wrapper.ensure_connection()
    copy = _open(target)
    try:
        wrapper.connection.backup(copy)  # one step: one consistent snapshot of the source
        copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        copy.close()
    reader = _open(target, read_only=True)
    try:
        cursor = reader.cursor()
        sums = table_sums(cursor, VENDOR)
        migrations: dict[str, list[str]] = {}
        if "django_migrations" in sums:
            for app, name in cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name"):
                migrations.setdefault(app, []).append(name)
        version = sqlite3.sqlite_version
    finally:
        reader.close()
    return {"server_version": version, "tables": sums, "migrations": migrations}


def is_empty(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    reader = _open(path)  # not read-only: a database in WAL mode needs its -shm file
    try:
        return table_count(reader.cursor(), VENDOR) == 0
    finally:
        reader.close()


def restore(source: Path, target: Path) -> None:
    """Replace the target's content by the backup's pages (the API writes every page: --force needs no drop)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = _open(source, read_only=True)
    writer = _open(target)
    try:
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as exc:
        raise BackupError(
            _("Could not write the database %(path)s: %(error)s") % {"path": target, "error": exc}
        ) from exc
    finally:
        writer.close()
        reader.close()


def sums(path: Path) -> dict[str, TableSum]:
    reader = _open(path)
    try:
        return table_sums(reader.cursor(), VENDOR)
    finally:
        reader.close()
