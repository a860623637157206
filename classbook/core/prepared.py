"""ORM queries compiled to SQL once per process, then run with new values (the diary's hot path).

The diary week is the most-read page (R5.1) and its seven queries (and the school context every page
resolves) are the same every time but for a
few values (school, class, student, dates). Django compiles a queryset to SQL on every request, which
for these joins costs more CPU than running them. ``Prepared`` builds the queryset once with sentinel
values, compiles it, remembers where each value goes among the SQL parameters and which converters
the columns need (SQLite returns dates as text), and afterwards only binds values and executes.

Only ``int``, ``str`` and ``datetime.date`` values can be bound (a ``str`` only where it is compared as
it is: not inside ``LIKE`` patterns such as ``__contains``), and the query's shape must not depend on them
(no ``__in`` over a list whose length varies). Everything else the builder puts into the queryset is a
constant of the compiled SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.models import Model, QuerySet

_INT_BASE = 1_900_000_000
_DATE_BASE = dt.date(1901, 1, 1)


def _near_sentinel(param: Any) -> bool:
    if isinstance(param, str):
        if "\x1f" in param or "prepared-" in param.lower():  # a string sentinel, cut or changed
            return True
        try:
            param = dt.date.fromisoformat(param[:10])
        except ValueError:
            return False
    if isinstance(param, dt.date):
        day = param.date() if isinstance(param, dt.datetime) else param
        return abs((day - _DATE_BASE).days) <= 800
    if isinstance(param, int) and not isinstance(param, bool):
        return abs(param - _INT_BASE) <= 10_000
    return False


def _read_alias(alias: str | None) -> str:
    """The given database, else where the router sends reads (a replica on a read-only page outside a
    transaction, core/replicas.py), else the primary."""
    return alias or router.db_for_read(None) or DEFAULT_DB_ALIAS  # type: ignore[arg-type]


class Prepared:
    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self.width = 0  # the number of columns, once compiled
        self._compiled: dict[tuple[str, str], tuple[str, list[Any], list[tuple[int, list[Any], Any]]]] = {}

    def _compile(self, alias: str, values: dict[str, Any]) -> tuple[str, list[Any], list[tuple[int, list[Any], Any]]]:
        sentinels: dict[str, Any] = {}
        for i, (name, value) in enumerate(values.items()):
            if isinstance(value, dt.date):
                sentinels[name] = _DATE_BASE + dt.timedelta(days=i)
            elif isinstance(value, bool):
                raise TypeError("Prepared queries do not bind booleans (make them constants of the query)")
            elif isinstance(value, int):
                sentinels[name] = _INT_BASE + i
            elif isinstance(value, str):
                sentinels[name] = f"\x1fprepared-{i}\x1f"
            else:
                raise TypeError(f"Prepared queries bind int, str and date values only, not {type(value).__name__}")
        qs = self.build(**sentinels)
        compiler = qs.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots: list[Any] = []
        for param in params:
            slot: Any = ("const", param)
            for name, sentinel in sentinels.items():
                if param == sentinel and type(param) is type(sentinel):
                    slot = ("raw", name)
                elif isinstance(sentinel, dt.date) and param == str(sentinel):
                    slot = ("text", name)
            slots.append(slot)
        for kind, param in slots:
            if kind == "const" and _near_sentinel(param):
                # A value the builder transformed (``start - 7 days``, ``student + 1``, ``slug.upper()``) would be
                # frozen into the SQL as a constant and silently reused for every later call: refuse such a query.
                raise ValueError(f"Prepared query derives a constant from a bound value: {param!r}")
        self.width = compiler.col_count
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        converters = [(pos, convs, expr) for pos, (convs, expr) in compiler.get_converters(fields).items()]
        self._compiled_with(alias, compiler)
        return sql, slots, converters

    def _compiled_with(self, alias: str, compiler: Any) -> None:
        """A hook for subclasses that need more of the compiled query than its SQL (``PreparedSelect``)."""

    def rows(self, alias: str | None = None, **values: Any) -> list[tuple[Any, ...]]:
        alias = _read_alias(alias)
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(alias, values)
        sql, slots, converters = compiled
        params = [
            slot[1] if slot[0] == "const" else values[slot[1]] if slot[0] == "raw" else str(values[slot[1]])
            for slot in slots
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not converters:
            return [tuple(row) for row in rows]
        out = []
        for row in rows:
            row = list(row)
            for pos, convs, expr in converters:
                value = row[pos]
                for convert in convs:
                    value = convert(value, expr, connection)
                row[pos] = value
            out.append(tuple(row))
        return out


class PreparedModel(Prepared):
    """A prepared query that returns model instances: the builder returns ``Model.objects.filter(...)``
    (all concrete fields, no ``select_related``, no deferred fields)."""

    def __init__(self, model: type[Model], build: Callable[..., QuerySet[Any]]) -> None:
        super().__init__(build)
        self.model = model
        self.attnames = [f.attname for f in model._meta.concrete_fields]

    def first(self, alias: str | None = None, **values: Any) -> Any:
        alias = _read_alias(alias)
        rows = self.rows(alias, **values)
        return self.model.from_db(alias, self.attnames, rows[0]) if rows else None


class PreparedSelect(Prepared):
    """A prepared query that returns model instances with their ``select_related`` objects and annotations,
    built from the rows as Django's ``ModelIterable`` builds them (the same populators, computed once).

    For the hot lookups of a page (the journal's assignment with its teacher, class, subject and year): the
    ORM compiled such a query on every request, which cost more CPU than running it.
    """

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        super().__init__(build)
        self._shapes: dict[tuple[str, str], tuple[Any, ...]] = {}

    def _compiled_with(self, alias: str, compiler: Any) -> None:
        from django.db.models.query import get_related_populators  # type: ignore[attr-defined]

        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, alias)
        annotations = dict(compiler.annotation_col_map or {})
        key = (alias, connections[alias].vendor)
        self._shapes[key] = (klass_info["model"], init_list, start, end, populators, annotations)

    def all(self, alias: str | None = None, **values: Any) -> list[Any]:
        alias = _read_alias(alias)
        rows = self.rows(alias, **values)
        model, init_list, start, end, populators, annotations = self._shapes[(alias, connections[alias].vendor)]
        out = []
        for row in rows:
            obj = model.from_db(alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, pos in annotations.items():
                setattr(obj, name, row[pos])
            out.append(obj)
        return out


class PreparedWithRows:
    """One model row and the rows of a second prepared query in **one statement** (a round trip saved on
    every page: the school of the URL with the user's context in it, ``access.context.resolve_school``).

    ``first`` selects at most one row (``[:1]``); ``rest`` is any ``Prepared`` query (a ``UNION ALL`` too)
    whose values may refer to the first row only through the same bound values (a subquery on them). The
    text is ``SELECT r.*, m.* FROM (<first>) m LEFT JOIN (<rest>) r ON 1 = 1``: one row per row of ``rest``
    (at least one while the model row exists), the model's columns repeated on each.
    """

    def __init__(self, first: PreparedModel, rest: Prepared) -> None:
        self.first, self.rest = first, rest
        self._compiled: dict[tuple[str, str], tuple[str, list[Any], list[Any], list[Any], int]] = {}

    def fetch(self, alias: str | None = None, **values: Any) -> tuple[Any, list[tuple[Any, ...]]]:
        """(the model instance or None, the rows of ``rest``: empty when it has none or there is no instance)."""
        alias = _read_alias(alias)
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            first_sql, first_slots, first_conv = self.first._compile(alias, values)
            rest_sql, rest_slots, rest_conv = self.rest._compile(alias, values)
            width = self.rest.width
            sql = f"SELECT r.*, m.* FROM ({first_sql}) m LEFT JOIN ({rest_sql}) r ON 1 = 1"  # noqa: S608
            compiled = self._compiled[key] = (sql, first_slots + rest_slots, first_conv, rest_conv, width)
        sql, slots, first_conv, rest_conv, width = compiled
        params = [
            slot[1] if slot[0] == "const" else values[slot[1]] if slot[0] == "raw" else str(values[slot[1]])
            for slot in slots
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None, []
        head = list(rows[0][width:])
        for pos, convs, expr in first_conv:
            for convert in convs:
                head[pos] = convert(head[pos], expr, connection)
        instance = self.first.model.from_db(alias, self.first.attnames, head)
        out = []
        for row in rows:
            if row[0] is None:  # the LEFT JOIN's empty side: ``rest`` has no rows
                continue
            part = list(row[:width])
            for pos, convs, expr in rest_conv:
                for convert in convs:
                    part[pos] = convert(part[pos], expr, connection)
            out.append(tuple(part))
        return instance, out
