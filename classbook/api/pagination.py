"""One pagination shape and one sort syntax for every list of the API (issue 18, ``docs/api.md``).

Every list answers the same envelope::

    {"items": [...], "count": 132, "limit": 50, "next": "/api/v1/...&offset=50", "previous": null}

- ``limit`` (1-200, default 50) and ``offset`` (0-1,000,000) choose the page; ``next`` and ``previous`` are
  the path and query of the neighbouring pages (``null`` at either end), so a client follows ``next``
  without building URLs. ``count`` is the number of items matching the filters: the lists are bounded by a
  school (hundreds to a few thousand rows), so it costs one ``COUNT`` at most (none when the first page
  holds everything). The audit log alone pages by keyset cursor (``before``/``after``) and answers
  ``count: null``: it only grows, is read newest first while it grows, and is too long to count cheaply.
- ``sort`` is a comma-separated list of keys, each optionally prefixed by ``-`` for descending:
  ``?sort=-date,name``. Every list has its own allow-list (in its OpenAPI ``pattern`` and description);
  anything else answers 422 ``invalid_sort`` in the API's error shape. Ties are broken by the id, so pages
  never overlap.
- Filters are named query parameters with typed constraints, declared on each list's query schema.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Schema

from classbook.core.collation import NAME_FIELDS, collated
from classbook.core.errors import DomainError

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


class Page(Schema, Generic[T]):
    items: list[T]
    count: int | None = Field(
        description="How many items match the filters (all pages); null where counting is not cheap (audit log)"
    )
    limit: int = Field(description="The page size used")
    next: str | None = Field(description="Path and query of the next page; null on the last page")
    previous: str | None = Field(description="Path and query of the previous page; null on the first page")


class ListQuery(Schema):
    """The paging parameters every offset-paged list takes (and, in a subclass, its ``sort`` and filters)."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Page size, 1-{MAX_LIMIT}")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="How many items to skip")
    sort: str = ""


class Sorts:
    """A list's sort allow-list: public key -> the fields it orders by (ORM paths for a queryset, keys of the
    answered items for a list computed in Python)."""

    def __init__(self, default: str, **keys: str | tuple[str, ...]) -> None:
        self.keys: dict[str, tuple[str, ...]] = {k: (v,) if isinstance(v, str) else v for k, v in keys.items()}
        self.default = default
        names = "|".join(re.escape(k) for k in self.keys)
        self.pattern = rf"^-?({names})(,-?({names}))*$"
        assert re.fullmatch(self.pattern, default), default

    def field(self) -> Any:
        """The ``sort`` query parameter of a list: its default, allow-list and pattern in the OpenAPI document."""
        allowed = ", ".join(self.keys)
        return Field(
            self.default,
            max_length=200,
            description=f"Comma-separated keys, `-` for descending. Keys: {allowed}. Default: {self.default}",
            json_schema_extra={"pattern": self.pattern},
            examples=[self.default],
        )

    def parse(self, text: str) -> list[tuple[str, bool]]:
        """``-date,name`` -> [("date", True), ("name", False)]; 422 for a key off the allow-list. A key named
        twice counts once, where it first appears (the pattern allows it, so the API accepts it)."""
        text = (text or self.default).strip()
        if not re.fullmatch(self.pattern, text):
            message = _("Sort by one or more of: %(keys)s (a leading “-” sorts descending).")
            raise DomainError(message % {"keys": ", ".join(self.keys)}, code="invalid_sort", field="sort")
        parsed: dict[str, bool] = {}
        for part in text.split(","):
            parsed.setdefault(part.lstrip("-"), part.startswith("-"))
        return list(parsed.items())

    def order_by(self, text: str) -> list[Any]:
        """ORM ``order_by`` arguments, with the primary key last so pages never overlap. Name columns sort in
        the Ukrainian/Russian alphabet's order (``core.collation``)."""
        fields: list[Any] = []
        for key, desc in self.parse(text):
            for f in self.keys[key]:
                if f.rsplit("__", 1)[-1] in NAME_FIELDS:
                    fields.append(collated(f).desc() if desc else collated(f).asc())
                else:
                    fields.append(("-" if desc else "") + f)
        return [*fields, "pk"]

    def sort_items(self, items: list[Any], text: str) -> list[Any]:
        """Sort answered items in Python (lists computed there; dicts or objects): stable, last key first;
        nulls sort last."""
        for key, desc in reversed(self.parse(text)):
            for f in reversed(self.keys[key]):
                present = [i for i in items if _value(i, f) is not None]
                missing = [i for i in items if _value(i, f) is None]
                items = sorted(present, key=functools.partial(_key, f), reverse=desc) + missing
        return items


def _value(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _key(name: str, item: Any) -> Any:
    value = _value(item, name)
    return value.casefold() if isinstance(value, str) else value


def _link(request: HttpRequest, offset: int) -> str:
    params = request.GET.copy()
    params["offset"] = str(offset)
    return f"{request.path}?{params.urlencode()}"


def page_links(request: HttpRequest, offset: int, limit: int, count: int) -> tuple[str | None, str | None]:
    following = _link(request, offset + limit) if offset + limit < count else None
    preceding = _link(request, max(offset - limit, 0)) if offset > 0 else None
    return following, preceding


def paginate(
    request: HttpRequest,
    source: QuerySet[Any] | Sequence[Any],
    params: ListQuery,
    sorts: Sorts,
    item: Callable[[Any], Any] | None = None,
    *,
    rows_out: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """One page of ``source`` in the envelope. A queryset is ordered and sliced in the database (one query,
    and a ``COUNT`` only when the page does not tell the total); a list (computed in Python, its items the
    answered dicts) is sorted and sliced here. ``item`` turns a row of the page into its answer; ``rows_out``
    turns the whole page at once (one query for the page, not one per row)."""
    offset, limit = params.offset, params.limit
    if isinstance(source, QuerySet):
        rows: list[Any] = list(source.order_by(*sorts.order_by(params.sort))[offset : offset + limit])
        count = offset + len(rows) if (rows or offset == 0) and len(rows) < limit else source.count()
    else:
        ordered = sorts.sort_items(list(source), params.sort)
        rows, count = ordered[offset : offset + limit], len(ordered)
    following, preceding = page_links(request, offset, limit, count)
    if rows_out is not None:
        rows = rows_out(rows)
    items: Iterable[Any] = rows if item is None else (item(r) for r in rows)
    return {"items": list(items), "count": count, "limit": limit, "next": following, "previous": preceding}


def envelope(items: list[Any], *, limit: int, following: str | None, preceding: str | None) -> dict[str, Any]:
    """The envelope of a keyset-paged list (the audit log): no total."""
    return {"items": items, "count": None, "limit": limit, "next": following, "previous": preceding}
