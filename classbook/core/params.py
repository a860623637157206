"""Whole numbers from query strings and form fields.

``str.isdigit`` is not the test: it is true of ``"²"`` and other Unicode digits that ``int`` refuses (a 500),
and of a 5,000-digit string ``int`` refuses too. A number here is 1 to 18 ASCII digits (below 2**63, so any
database takes it as an id).
"""

from __future__ import annotations

MAX_DIGITS = 18


def is_whole_number(raw: object) -> bool:
    return isinstance(raw, str) and 0 < len(raw) <= MAX_DIGITS and raw.isascii() and raw.isdigit()


def whole_number(raw: object, default: int | None = None) -> int | None:
    """``raw`` as an int when it is 1 to 18 ASCII digits, else ``default``."""
    return int(raw) if isinstance(raw, str) and is_whole_number(raw) else default


def whole_numbers(values: list[str] | str, sep: str = ",") -> list[int]:
    """The whole numbers among ``values`` (a list, or one string split on ``sep``); the rest is ignored."""
    items = values.split(sep) if isinstance(values, str) else values
    return [int(v) for v in items if is_whole_number(v)]
