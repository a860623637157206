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

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model

from classbook.demo.build import BATCH_SIZE, M, SchoolBuild

CHUNK = 5000


def column(model: type[Model], name: str) -> str:
    """The database column of a concrete field (the plain INSERT and UPDATE here write only those)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a concrete field")
    return field.column


def insert_rows(b: SchoolBuild, model: type[Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """INSERT plain tuples (values already adapted for the database) in chunks of ``CHUNK`` rows."""
    if not rows:
        return
    qn = connection.ops.quote_name
    opts = model._meta
    columns = ", ".join(qn(column(model, f)) for f in fields)
    sql = f"INSERT INTO {qn(opts.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"  # noqa: S608 - quoted model names
    with connection.cursor() as cursor:
        for i in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[i : i + CHUNK])
    b.run.rows[opts.label] += len(rows)


def update_rows(model: type[Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """UPDATE ``fields`` of existing rows in chunks: each row is the new values followed by the primary key."""
    if not rows:
        return
    qn = connection.ops.quote_name
    opts = model._meta
    sets = ", ".join(f"{qn(column(model, f))} = %s" for f in fields)
    assert opts.pk is not None
    sql = f"UPDATE {qn(opts.db_table)} SET {sets} WHERE {qn(opts.pk.column)} = %s"  # noqa: S608 - quoted names
    with connection.cursor() as cursor:
        for i in range(0, len(rows), CHUNK):
            cursor.executemany(sql, rows[i : i + CHUNK])


def update_objects(model: type[M], objs: Iterable[M], fields: Sequence[str]) -> None:
    """Write ``fields`` of objects already in the database (``bulk_update`` in batches; no ``auto_now``)."""
    objs = list(objs)
    if objs:
        model._default_manager.bulk_update(objs, list(fields), batch_size=BATCH_SIZE)
