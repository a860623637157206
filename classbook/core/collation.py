"""Names in the order of the Ukrainian and Russian alphabets: one helper for every list, export and print.

The database's default collation is wrong for Cyrillic names (bytes on SQLite put "Є", "І", "Ї" before
"А"; a plain PostgreSQL "C" or glibc collation puts "Біла" after "Бондаренко"). So:

- **in Python** (lists that are read whole, exports, prints, the journal grid): ``alphabet_key`` /
  ``person_key`` / ``by_name``;
- **in the database** (paginated lists, ``ORDER BY``): ``name_order(prefix)``, the same order — on
  PostgreSQL through ICU's built-in Ukrainian collation ``"uk-UA-x-icu"`` (the Ukrainian alphabet with
  Russian letters in place) over the text without the ignored characters (nothing to create: a dump and a
  restore carry nothing of ours); on SQLite through the collation ``classbook_names``, registered on every
  connection with ``alphabet_key`` as its comparison (``register_sqlite_collation``).

The order (docs/glossary.md, "Alphabetical order"): а б в г ґ д е (ё) є ж з и і ї й к л м н о п р с т у ф
х ц ч ш щ ъ ы ь э ю я; case is ignored; apostrophes (', ’, ʼ), hyphens, spaces and dots are ignored; "ё"
counts as "е" and only breaks a tie (as Russian dictionaries and ICU do); digits come before letters and
Latin letters after Cyrillic ones. Why not PyICU: docs/dependencies.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connections
from django.db.models import CharField, F, Func, Value
from django.db.models.functions import Collate, Replace

COLLATION = "classbook_names"

_ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщъыьэюя"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
_RANK["ё"] = _RANK["е"]
_IGNORED = frozenset("'’ʼ`´-‐– .")
# U+02BC (the Ukrainian apostrophe) is a letter to ICU, not punctuation: removed before collating there.
_MODIFIER_APOSTROPHE = "ʼ"

T = TypeVar("T")


def _rank(ch: str) -> int:
    rank = _RANK.get(ch)
    if rank is not None:
        return rank
    if ch.isdigit():
        return -100 + ord(ch) % 100
    return 100 + ord(ch)


@functools.lru_cache(maxsize=16384)
def alphabet_key(*parts: str) -> tuple[tuple[int, ...], ...]:
    """Sort key of names (surname, first name, patronymic, ...) in the alphabet's order.

    Memoised: the same names are sorted on every grid page (40 keys cost ~1 ms of CPU a page uncached)."""
    lowered = [(part or "").lower() for part in parts]
    primary = tuple(tuple(_rank(ch) for ch in part if ch not in _IGNORED) for part in lowered)
    return (*primary, tuple(1 if ch == "ё" else 0 for part in lowered for ch in part))


def person_key(person: Any) -> tuple[Any, ...]:
    """Key of a user (or anything with ``last_name``, ``first_name``, ``patronymic``); the id breaks ties."""
    return (
        alphabet_key(person.last_name, person.first_name, getattr(person, "patronymic", "") or ""),
        getattr(person, "pk", 0) or 0,
    )


def by_name(items: Iterable[T], person: Callable[[T], Any] | None = None) -> list[T]:
    """``items`` sorted by the name of ``person(item)`` (the item itself by default: a user)."""
    get = person or (lambda item: item)
    return sorted(items, key=lambda item: person_key(get(item)))


def text_key(text: str) -> tuple[tuple[int, ...], ...]:
    """Key of one text (a class, subject or group name) in the same order."""
    return alphabet_key(text or "")


NAME_FIELDS = ("last_name", "first_name", "patronymic")

# PostgreSQL's own ICU collation for Ukrainian (built in with every ICU-enabled server, in pg_catalog: nothing
# to create, so nothing for a dump or a restore to create twice); Russian letters sort in their places in it.
PG_COLLATION = "uk-UA-x-icu"


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _WithoutIgnored(Func):
    """PostgreSQL's ``translate(text, ignored, '')``: the characters the alphabet ignores removed (ICU sorts
    apostrophes, hyphens and spaces as characters of their own).

    The ignored characters are a literal of the SQL, not a parameter: with server-side binding a parameter
    is ``$n``, numbered differently in the select list and in ``ORDER BY``, and PostgreSQL then refuses
    ``SELECT DISTINCT ... ORDER BY`` the expression (it must appear in the select list, and it no longer
    looks like the same expression)."""

    template = "TRANSLATE(%(expressions)s, " + _sql_literal("".join(sorted(_IGNORED))) + ", '')"
    output_field = CharField()


def collated(path: str) -> Collate:
    """A text column (an ORM path) in the alphabet's order, for ``order_by`` (``.desc()`` to reverse).

    PostgreSQL: ICU's Ukrainian collation (``uk-UA-x-icu``) over the text without the ignored characters;
    SQLite: ``classbook_names`` (``alphabet_key``), which ignores them itself."""
    if connections["default"].vendor == "postgresql":
        return Collate(_WithoutIgnored(F(path)), PG_COLLATION)
    return Collate(Replace(F(path), Value(_MODIFIER_APOSTROPHE), Value("")), COLLATION)


def name_order(prefix: str = "", *, pk: bool = True) -> list[Any]:
    """``ORDER BY`` terms for a queryset of people (``prefix`` e.g. ``"student__user__"``): surname, first
    name, patronymic in the alphabet's order (``collated``), then the id."""
    terms: list[Any] = [collated(f"{prefix}{field}") for field in NAME_FIELDS]
    if pk:
        terms.append(f"{prefix}pk" if prefix else "pk")
    return terms


def _compare(a: str, b: str) -> int:
    ka, kb = alphabet_key(a), alphabet_key(b)
    return (ka > kb) - (ka < kb)


def register_sqlite_collation(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: SQLite learns ``classbook_names`` (PostgreSQL uses ICU's own)."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation(COLLATION, _compare)
