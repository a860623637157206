"""The statements of a cell save as SQL text built once per process (issue 10: ≥ 1,000 saves/s on 2 CPUs).

A cell save is a handful of one-row statements, and the ORM spent more CPU compiling each of them
(``filter().first()``, ``create()``, ``update()``) than PostgreSQL spent running them. Here the text
is built once per model from its metadata (table and column names only; every value is a parameter),
values go through the fields' own ``pre_save`` / ``get_db_prep_save`` as ``Model.save()`` would, and
``pre_save`` / ``post_save`` are sent for an inserted row as ``Model.save()`` sends them (the diary's
cache listens to the audit row's ``post_save``).

On PostgreSQL the write of a cell and its audit row are **one statement**: the row's ``INSERT … ON
CONFLICT DO NOTHING`` or ``UPDATE … WHERE version = expected`` in a ``WITH`` clause and the audit row
inserted from what it returned; no row (a concurrent insert, a moved version) means no audit row either.
SQLite (no data-modifying ``WITH``) runs the same two statements one after the other; inside
``audits_together`` (a write that replaces the other entry of a cell: two rows written, two audit rows)
the audit rows wait and go in one multi-row ``INSERT`` at its end, in the order of the writes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_save, pre_save

from classbook.core.prepared import Prepared


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


@functools.cache
def _insert_fields(model: Any) -> tuple[Any, ...]:
    """The columns an INSERT writes: every local concrete field but the auto primary key."""
    pk = model._meta.pk
    return tuple(f for f in model._meta.local_concrete_fields if f is not pk)


# Integers, text, booleans and NULL go to the database as they are for these kinds of field (what their
# ``get_db_prep_save`` returns for them); dates, datetimes, other fields and other values go through it.
_PLAIN_VALUES = frozenset({int, str, bool, type(None)})
_PLAIN_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


@functools.cache
def _plain(field: Any) -> bool:
    if field.get_internal_type() == "ForeignKey":
        field = field.target_field
    return field.get_internal_type() in _PLAIN_FIELDS


def _prep(field: Any, value: Any) -> Any:
    if type(value) in _PLAIN_VALUES and _plain(field):
        return value
    return field.get_db_prep_save(value, connection)


def _insert_params(obj: Model) -> list[Any]:
    """The INSERT's values, as ``Model.save()`` computes them (``auto_now_add`` and the like set on ``obj``)."""
    values = []
    for f in _insert_fields(type(obj)):
        value = f.pre_save(obj, True)
        if hasattr(value, "resolve_expression"):  # a database default or an expression: not for this path
            raise TypeError(f"{type(obj).__name__}.{f.name}: only plain values are inserted here")
        values.append(_prep(f, value))
    return values


@functools.cache
def _insert_sql(model: Any, vendor: str, skip_conflict: bool) -> str:
    del vendor  # part of the cache key: the quoting and the syntax are the backend's
    columns = ", ".join(_q(f.column) for f in _insert_fields(model))
    marks = ", ".join(["%s"] * len(_insert_fields(model)))
    conflict = " ON CONFLICT DO NOTHING" if skip_conflict else ""
    table, pk = _q(model._meta.db_table), _q(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict} RETURNING {pk}"  # noqa: S608


@functools.cache
def _update_sql(model: Any, vendor: str, names: tuple[str, ...]) -> str:
    del vendor
    sets = ", ".join(f"{_q(model._meta.get_field(n).column)} = %s" for n in names)
    table, pk = _q(model._meta.db_table), _q(model._meta.pk.column)
    version = _q(model._meta.get_field("version").column)
    return f"UPDATE {table} SET {sets}, {version} = %s WHERE {pk} = %s AND {version} = %s RETURNING {pk}"  # noqa: S608


def _cast_type(field: Any) -> str:
    if field.get_internal_type() in {"CharField", "TextField"}:
        return "text"
    return str(field.cast_db_type(connection))


@functools.cache
def _audit_tail_sql(model: Any, vendor: str, link: str) -> str:
    """``INSERT INTO <audit> … SELECT …, w.written FROM w``: the audit row after a ``WITH w AS (…)`` write."""
    del vendor
    fields = _insert_fields(model)
    linked = model._meta.get_field(link)
    columns = ", ".join(_q(f.column) for f in fields)
    # Cast: a parameter in a SELECT list has no column to take its type from. Text goes as ``text``, not
    # ``varchar(n)``: an explicit cast to varchar(n) would cut a too long value silently, the column refuses it.
    values = ", ".join("w.written" if f is linked else f"CAST(%s AS {_cast_type(f)})" for f in fields)
    table, pk = _q(model._meta.db_table), _q(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) SELECT {values} FROM w RETURNING {pk}, {_q(linked.column)}"  # noqa: S608


def _signal(obj: Model, signal: Any, **kwargs: Any) -> None:
    sender = type(obj)
    if signal.has_listeners(sender):
        signal.send(sender=sender, instance=obj, raw=False, using=connection.alias, update_fields=None, **kwargs)


def _saved(obj: Model, pk: int) -> None:
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias
    _signal(obj, post_save, created=True)


def insert(obj: Model) -> None:
    """INSERT a new row (``obj.pk`` set), with the signals ``Model.save()`` sends."""
    _signal(obj, pre_save)
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(obj), connection.vendor, False), _insert_params(obj))
        pk = cursor.fetchone()[0]
    _saved(obj, pk)


# The audit rows waiting for their INSERT inside ``audits_together`` (SQLite only; None outside it).
_PENDING: ContextVar[list[Model] | None] = ContextVar("pending_audit_rows", default=None)


@contextlib.contextmanager
def audits_together(together: bool = True) -> Iterator[None]:
    """On SQLite, the audit rows of the cell writes inside are inserted together, in **one** statement when the
    block ends without an error (in the order the writes were made, so their ids keep that order), their
    ``pre_save``/``post_save`` sent around that statement in the same order. Call it inside the transaction of
    the writes: an error in the block inserts nothing (the transaction rolls the writes back). On PostgreSQL
    each write and its audit row are one statement already: nothing changes; nor when not ``together``."""
    if not together or connection.vendor == "postgresql" or _PENDING.get() is not None:
        yield
        return
    pending: list[Model] = []
    token = _PENDING.set(pending)
    try:
        yield
    finally:
        _PENDING.reset(token)
    if pending:
        _insert_together(pending)


@functools.cache
def _insert_many_sql(model: Any, vendor: str, rows: int) -> str:
    del vendor
    columns = ", ".join(_q(f.column) for f in _insert_fields(model))
    marks = "(" + ", ".join(["%s"] * len(_insert_fields(model))) + ")"
    table, pk = _q(model._meta.db_table), _q(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([marks] * rows)} RETURNING {pk}"  # noqa: S608


def _insert_together(changes: list[Model]) -> None:
    for change in changes:
        _signal(change, pre_save)
    params = [value for change in changes for value in _insert_params(change)]
    with connection.cursor() as cursor:
        cursor.execute(_insert_many_sql(type(changes[0]), connection.vendor, len(changes)), params)
        # One statement's rows get ascending ids in the order of its VALUES (RETURNING's order is not promised).
        pks = sorted(row[0] for row in cursor.fetchall())
    for change, pk in zip(changes, pks, strict=True):
        _saved(change, pk)


def _write_with_audit(sql: str, params: list[Any], change: Any, link: str) -> int | None:
    """Run the one-row write ``sql`` (``RETURNING`` the row's id, or nothing) and, if it wrote, INSERT ``change``
    with its field ``link`` set to that id. Returns the id; None (and no audit row) when nothing was written.
    ``change``'s ``post_save`` is the caller's to send (``_saved``), after the written row's; inside
    ``audits_together`` on SQLite ``change`` waits for the block's end (its signals too: ``deferred``)."""
    if _PENDING.get() is None:
        _signal(change, pre_save)
    link_attname = change._meta.get_field(link).attname
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = _insert_params(change)
            del values[_insert_fields(change.__class__).index(change._meta.get_field(link))]
            tail = _audit_tail_sql(change.__class__, connection.vendor, link)
            cursor.execute(f"WITH w (written) AS ({sql}) {tail}", [*params, *values])
            row = cursor.fetchone()
            if row is None:
                return None
            change_pk, written = row
            setattr(change, link_attname, written)
        else:
            cursor.execute(sql, params)
            row = cursor.fetchone()
            if row is None:
                return None
            written = row[0]
            setattr(change, link_attname, written)
            pending = _PENDING.get()
            if pending is not None:  # inserted at the end of ``audits_together``, with the others
                pending.append(change)
                return written  # type: ignore[no-any-return]
            cursor.execute(_insert_sql(change.__class__, connection.vendor, False), _insert_params(change))
            change_pk = cursor.fetchone()[0]
    change.pk = change_pk
    return written  # type: ignore[no-any-return]


def deferred(change: Model) -> bool:
    """Whether ``change`` waits for the end of ``audits_together`` (its id and ``post_save`` come then)."""
    pending = _PENDING.get()
    return pending is not None and any(c is change for c in pending)


def insert_with_audit(obj: Model, change: Model, link: str) -> bool:
    """INSERT ``obj`` unless a row with its unique key exists (``ON CONFLICT DO NOTHING``: no savepoint, no
    error), and its audit row ``change`` (``link`` = the new id). False: somebody inserted first, nothing written.
    """
    _signal(obj, pre_save)
    pk = _write_with_audit(_insert_sql(type(obj), connection.vendor, True), _insert_params(obj), change, link)
    if pk is None:
        return False
    _saved(obj, pk)
    if not deferred(change):
        _saved(change, change.pk)
    return True


def update_with_audit(
    model: type[Model], pk: int, expected_version: int, changes: dict[str, Any], change: Model, link: str
) -> bool:
    """``UPDATE … SET changes, version = expected + 1 WHERE id = pk AND version = expected`` and its audit row.

    False: the version moved (or the row is gone), nothing written. No signal for the updated row
    (``QuerySet.update()`` sends none either).
    """
    params = []
    for name, value in changes.items():
        field = model._meta.get_field(name)
        if isinstance(value, Model):
            value = value.pk
        params.append(_prep(field, value))
    params += [expected_version + 1, pk, expected_version]
    if _write_with_audit(_update_sql(model, connection.vendor, tuple(changes)), params, change, link) is None:
        return False
    if not deferred(change):
        _saved(change, change.pk)
    return True


@functools.cache
def _defaults(model: Any) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The concrete fields' defaults as ``Model.__init__`` sets them: constant ones once, callable ones per call."""
    constant, dynamic = {}, []
    for f in model._meta.concrete_fields:
        if f.has_default() and callable(f.default):
            dynamic.append(f)
        else:
            constant[f.attname] = f.get_default()
    return constant, tuple(dynamic)


def instance(model: Any, related: dict[str, Any] | None = None, *, adding: bool = False, **values: Any) -> Any:
    """A model instance as ``model(**values)`` makes it (every concrete field, defaults for those not given),
    without ``Model.__init__``'s per-field work: the hot path of a save builds its rows with this.

    ``values`` are attnames (``lesson_id``, not ``lesson``); ``related`` are related objects already at hand
    (cached on the instance as ``lesson=`` would, without the descriptor's checks). No signal is sent
    (``Model.__init__`` sends ``pre_init``/``post_init``; nothing in the project listens to them for these models).
    """
    obj = model.__new__(model)
    constant, dynamic = _defaults(model)
    state = obj.__dict__
    state.update(constant)
    for f in dynamic:
        state[f.attname] = f.get_default()
    state.update(values)
    obj._state = ModelState()
    obj._state.adding = adding
    obj._state.db = None if adding else connection.alias
    if related:
        obj._state.fields_cache.update(related)
    return obj


class PreparedCell(Prepared):
    """One cell's row and one related row (``select_related(related)``) as model instances, the query compiled
    once per process (``core.prepared.Prepared``) instead of on every save."""

    def __init__(self, model: type[Model], related: str, build: Callable[..., QuerySet[Any]]) -> None:
        super().__init__(build)
        self.model = model
        self.field: Any = model._meta.get_field(related)
        self.attnames = [f.attname for f in model._meta.concrete_fields]
        self.related_attnames = [f.attname for f in self.field.related_model._meta.concrete_fields]  # type: ignore[union-attr]

    def get(self, **values: Any) -> Any:
        rows = self.rows(connection.alias, **values)
        if not rows:
            return None
        row, n = rows[0], len(self.attnames)
        obj = self.model.from_db(connection.alias, self.attnames, row[:n])
        related = row[n:]
        value = (
            None
            if related[0] is None
            else self.field.related_model.from_db(connection.alias, self.related_attnames, related)
        )
        self.field.set_cached_value(obj, value)
        return obj
