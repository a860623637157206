"""Bulk inserts by ``COPY`` on PostgreSQL, for the few writers that create tens of thousands of rows at once.

``Model.objects.bulk_create`` builds a model instance per row and sends batches of ``INSERT ... RETURNING``;
for a year of lessons (~40,000 a 1,000-student school, each with its timetable slot) that is most of the
time of the write, on the client. ``copy_rows`` streams plain tuples with ``COPY ... FROM STDIN`` instead,
and ``reserve_ids`` takes the primary keys from the table's own sequence first, so rows that point at each
other (a lesson and its slot) can be written in two streams. Both are PostgreSQL only: callers keep
``bulk_create`` for the other databases (``is_postgres``).

They only write: no ``save()``, no signals, no ``auto_now`` (the caller passes every column it wants set,
timestamps included); the database's unique, not-null, check and foreign-key constraints apply as for any
insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def column_of(model: type[Model], name: str) -> str:
    """The database column of a concrete field."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field.column


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` new primary keys from the table's sequence, ascending (PostgreSQL only). Alone on the sequence
    they are consecutive, as ``bulk_create`` would have had them; beside concurrent writers they are still
    unique."""
    if count <= 0:
        return []
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(model._meta.db_table), pk.column, count],
        )
        return sorted(row[0] for row in cursor.fetchall())


def copy_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY model (fields) FROM STDIN`` of ``rows`` (values already in their database form; PostgreSQL only)."""
    qn = connection.ops.quote_name
    columns = ", ".join(qn(column_of(model, f)) for f in fields)
    sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
