"""Checksums of files and of database tables, the same on the backed-up and the restored side.

A table's checksum is the SHA-256 of its rows in primary-key order, one line per row: on PostgreSQL the
server's text form of the row (``ROW(r.*)::text``, with the session's date, time zone, interval, float and
bytea formats fixed, so two servers configured differently agree; converting rows to Python objects was
four times slower), on SQLite canonical JSON of the raw values (columns by name). It reads every table the
database holds (not only Django's models, so ``django_migrations`` and the task queue are covered too)
through a plain DB-API cursor: the two sides of a comparison use the same kind of connection (raw
``sqlite3`` for SQLite, whose converters would change the values' types; a Django wrapper's psycopg
connection for PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024
FETCH = 2000


@dataclass(frozen=True)
class TableSum:
    rows: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def quote(name: str) -> str:
    """An identifier quoted the SQL-standard way (both SQLite and PostgreSQL accept it)."""
    return '"' + name.replace('"', '""') + '"'


def _canonical(value: Any) -> Any:
    """JSON for the values json cannot write itself; one spelling per value, so equal rows hash equally."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    return repr(value)


def _row_line(row: tuple[Any, ...]) -> bytes:
    return json.dumps(row, default=_canonical, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _rows(cursor: Any, sql: str) -> Iterator[tuple[Any, ...]]:
    cursor.execute(sql)
    while batch := cursor.fetchmany(FETCH):
        yield from batch


POSTGRES_FORMATS = (
    "SET DateStyle = 'ISO, YMD'",
    "SET IntervalStyle = 'postgres'",
    "SET TimeZone = 'UTC'",
    "SET extra_float_digits = 1",
    "SET bytea_output = 'hex'",
)


def table_sums(cursor: Any, vendor: str) -> dict[str, TableSum]:
    """Rows and checksum of every table of the database ``cursor`` reads, by table name."""
    if vendor == "sqlite":
        layout = _sqlite_layout(cursor)
    else:
        for statement in POSTGRES_FORMATS:
            cursor.execute(statement)
        layout = _postgres_layout(cursor)
    return {table: _table_sum(cursor, vendor, table, columns, key) for table, (columns, key) in sorted(layout.items())}


def _table_sum(cursor: Any, vendor: str, table: str, columns: list[str], key: list[str]) -> TableSum:
    # Identifiers read from the catalogue and quoted; no value is interpolated.
    if vendor == "sqlite":
        order = ", ".join(quote(c) for c in (key or columns))
        sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} ORDER BY {order}"  # noqa: S608
        line = _row_line
    else:
        order = ", ".join(f'"r".{quote(c)}' for c in key) or "1"
        sql = f'SELECT ROW("r".*)::text FROM {quote(table)} AS "r" ORDER BY {order}'  # noqa: S608
        line = _text_line
    digest = hashlib.sha256()
    count = 0
    for row in _rows(cursor, sql):
        digest.update(line(row))
        digest.update(b"\n")
        count += 1
    return TableSum(count, digest.hexdigest())


def _text_line(row: tuple[Any, ...]) -> bytes:
    return str(row[0]).encode()


Layout = dict[str, tuple[list[str], list[str]]]  # table -> (columns by name, primary key columns in order)


def _sqlite_layout(cursor: Any) -> Layout:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    layout: Layout = {}
    for (table,) in cursor.fetchall():
        cursor.execute(f"PRAGMA table_info({quote(table)})")
        info = cursor.fetchall()  # cid, name, type, notnull, default, pk (position in the key, 0 if none)
        columns = sorted(str(col[1]) for col in info)
        key = [str(col[1]) for col in sorted((c for c in info if c[5]), key=lambda c: c[5])]
        layout[str(table)] = (columns, key)
    return layout


def _postgres_layout(cursor: Any) -> Layout:
    cursor.execute(
        "SELECT c.relname, a.attname, array_position(i.indkey::int2[], a.attnum) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
    )
    columns: dict[str, list[str]] = {}
    keys: dict[str, list[tuple[int, str]]] = {}
    for table, column, position in cursor.fetchall():
        columns.setdefault(table, []).append(column)
        if position is not None:
            keys.setdefault(table, []).append((position, column))
    return {t: (sorted(cols), [c for _, c in sorted(keys.get(t, []))]) for t, cols in columns.items()}


def table_count(cursor: Any, vendor: str) -> int:
    """How many tables (and, on PostgreSQL, views and sequences) the database holds: 0 means empty."""
    if vendor == "sqlite":
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        )
    else:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
        )
    return int(cursor.fetchone()[0])
