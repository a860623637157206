"""The demo's bulk writers: the only ways a demo step writes rows other than through a service.

A 1,000-student demo school is ~290,000 rows (most of them journal rows and their audit rows). The
services write, validate and audit one action at a time, several queries each: at that volume they
would take many minutes instead of ~15 seconds (``bench/seed_demo.py``). So the steps
(``classbook.demo.steps``) call a service where one exists at a small, constant cost (the school, the
lessons from the timetable) and otherwise one of these writers:

- ``SchoolBuild.bulk(Model, objs)`` / ``DemoRun.bulk``: ``bulk_create`` in batches of ``BATCH_SIZE``,
  primary keys set on the objects (both SQLite and PostgreSQL return them); counted per model;
- ``insert_rows(build, Model, fields, rows)``: a plain ``INSERT`` of tuples in chunks of ``CHUNK`` rows
  (``executemany``), no model instances at all, for the six-figure tables (marks, attendance, journal
  changes, plan topics, lesson bindings); counted per model;
- ``update_rows(Model, fields, rows)``: a plain ``UPDATE ... WHERE pk = %s`` in chunks, for filling the
  generated lessons (topic, homework, register);
- ``update_objects(Model, objs, fields)``: ``bulk_update`` of a few fields of objects a step wrote
  earlier (class teachers, the substitutes of lessons, past dates of messages), in batches.

Steps make no other write (no ``save()``, ``create()``, ``update()`` or SQL of their own):
``tests/demo/test_demo_imports.py`` checks it.

None of them validates or audits by itself: a writer only writes. The step that calls one states in its
module docstring which rules of the corresponding service it guarantees by construction (same audit
rows, same versions, one entry per cell, no future times ...) and ``tests/demo`` checks them on the
generated data. The number of queries grows with the number of chunks, never with the rows
(``test_generation_makes_no_per_row_queries``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Model

from classbook.core.bulk import column_of as column
from classbook.core.bulk import copy_rows, is_postgres
from classbook.demo.build import BATCH_SIZE, M, SchoolBuild

CHUNK = 5000


def insert_rows(b: SchoolBuild, model: type[Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT plain tuples (values already adapted for the database): on PostgreSQL one ``COPY ... FROM STDIN``
    (psycopg's ``cursor.copy``, rows streamed, no statement per chunk), elsewhere ``executemany`` in chunks of
    ``CHUNK`` rows."""
    if not rows:
        return
    opts = model._meta
    if is_postgres():
        copy_rows(model, fields, rows)
    else:
        qn = connection.ops.quote_name
        columns = ", ".join(qn(column(model, f)) for f in fields)
        sql = f"INSERT INTO {qn(opts.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 - quoted model names
        with connection.cursor() as cursor:
            for i in range(0, len(rows), CHUNK):
                cursor.executemany(sql, rows[i : i + CHUNK])
    b.run.rows[opts.label] += len(rows)


def insert_select(b: SchoolBuild, model: type[Model], fields: Sequence[str], select: str, params: Sequence[Any]) -> int:
    """``INSERT INTO model (fields) SELECT ...``: rows derived in the database from rows a step has just written
    (the audit rows of marks and absences), so they are never built, sent or read back row by row. ``select``
    names tables and columns through ``table()``/``column()``; returns the number of rows written."""
    qn = connection.ops.quote_name
    opts = model._meta
    columns = ", ".join(qn(column(model, f)) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(opts.db_table)} ({columns}) {select}", params)
        count = max(cursor.rowcount, 0)
    b.run.rows[opts.label] += count
    return count


def table(model: type[Model]) -> str:
    """The quoted table name of a model (for ``insert_select``)."""
    return connection.ops.quote_name(model._meta.db_table)


def last_pk(model: type[Model]) -> int:
    """The highest primary key of the table (0 if empty): rows written after it have larger keys."""
    assert model._meta.pk is not None
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({qn(model._meta.pk.column)}) FROM {table(model)}")  # noqa: S608 - quoted names
        (value,) = cursor.fetchone()
    return int(value or 0)


def update_rows(model: type[Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE ``fields`` of existing rows: each row is the new values followed by the primary key. On PostgreSQL
    the rows are copied into a temporary table and applied by one ``UPDATE ... FROM``; elsewhere one
    ``UPDATE ... WHERE pk = %s`` per row through ``executemany`` in chunks."""
    if not rows:
        return
    qn = connection.ops.quote_name
    opts = model._meta
    assert opts.pk is not None
    pk = qn(opts.pk.column)
    names = [qn(column(model, f)) for f in fields]
    with connection.cursor() as cursor:
        if is_postgres():
            temp = qn(f"demo_update_{opts.db_table}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "  # noqa: S608 - quoted names
                f"SELECT {', '.join(names)}, {pk} FROM {table(model)} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {temp} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            sets = ", ".join(f"{n} = u.{n}" for n in names)
            cursor.execute(f"UPDATE {table(model)} AS t SET {sets} FROM {temp} AS u WHERE t.{pk} = u.{pk}")  # noqa: S608
            cursor.execute(f"DROP TABLE {temp}")
        else:
            sets = ", ".join(f"{n} = %s" for n in names)
            sql = f"UPDATE {table(model)} SET {sets} WHERE {pk} = %s"  # noqa: S608 - quoted names
            for i in range(0, len(rows), CHUNK):
                cursor.executemany(sql, rows[i : i + CHUNK])


def update_objects(model: type[M], objs: Iterable[M], fields: Sequence[str]) -> None:
    """Write ``fields`` of objects already in the database (``bulk_update`` in batches; no ``auto_now``)."""
    objs = list(objs)
    if objs:
        model._default_manager.bulk_update(objs, list(fields), batch_size=BATCH_SIZE)


@contextmanager
def checked_at_the_end() -> Iterator[bool]:
    """Check the foreign keys of a bulk load once, set-based, at the end instead of once per row.

    PostgreSQL checks a foreign key by a trigger per inserted row, queued (Django's constraints are
    ``DEFERRABLE INITIALLY DEFERRED``) and run one index probe at a time at ``COMMIT``: for the ten-school
    demo ~20 million checks, 43 % of its time. Inside this block, on PostgreSQL, when the connection may set
    ``session_replication_role`` (a superuser, or ``GRANT SET``) and the database has no trigger of its own,
    the row triggers are off (``SET LOCAL session_replication_role = replica``: this transaction only, undone
    by its end or its rollback); on leaving, every foreign key of every table the transaction wrote (or whose
    referenced table it changed) is checked by one anti-join, and a dangling reference raises
    ``IntegrityError``, which rolls the whole load back. Unique, not-null and check constraints stay on all
    along. Elsewhere (SQLite, a role without the right) nothing changes: the database checks as usual.
    Yields whether the checks were moved to the end.
    """
    if connection.vendor != "postgresql":
        yield False
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal")
        (own_triggers,) = cursor.fetchone()
        if own_triggers:
            yield False
            return
        try:
            with transaction.atomic():
                cursor.execute("SET LOCAL session_replication_role = replica")
        except DatabaseError:  # not allowed to: the usual per-row checks
            yield False
            return
    # The savepoint released, the setting holds for the rest of the transaction.
    yield True
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = origin")
        dangling = _dangling_references(cursor)
    if dangling:
        raise IntegrityError(f"The bulk load left references to missing rows: {', '.join(dangling)}")


def _dangling_references(cursor: Any) -> list[str]:
    """The foreign keys (``table.constraint``) that a row written in this transaction breaks."""
    cursor.execute(
        """
        SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
               ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
               ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND (
            c.conrelid IN (SELECT relid FROM pg_stat_xact_user_tables WHERE n_tup_ins + n_tup_upd > 0)
            OR c.confrelid IN (SELECT relid FROM pg_stat_xact_user_tables WHERE n_tup_upd + n_tup_del > 0)
        )
        ORDER BY 2, 1
        """
    )
    qn = connection.ops.quote_name
    dangling = []
    for name, child, parent, columns, referenced in cursor.fetchall():
        present = " AND ".join(f"c.{qn(col)} IS NOT NULL" for col in columns)
        match = " AND ".join(f"p.{qn(ref)} = c.{qn(col)}" for col, ref in zip(columns, referenced, strict=True))
        # regclass text is already quoted where it needs to be.
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {child} c WHERE {present} "  # noqa: S608 - catalogue names
            f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match}))"
        )
        if cursor.fetchone()[0]:
            dangling.append(f"{child}.{name}")
    return dangling
