"""The one rounding rule for average marks (R2.6).

Every page, PDF, API answer and report that shows an average calls :func:`round_average` (the number)
and :func:`format_average` (the text in the reader's language). The school chooses the number of
decimals (``School.average_decimals``, 0 to 2, default 1); rounding is half-up, as on paper:
9.76 -> 9.8, 2.45 -> 2.5, 8.625 -> 8.63 at two decimals. Python's ``round`` (half-to-even) and
cutting digits off are both wrong here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.formats import get_format, number_format

from classbook.schools.models import School

DEFAULT_DECIMALS = 1


def decimals_of(school: School | int | None) -> int:
    """The school's number of decimals for averages (a bare number is taken as the decimals)."""
    if school is None:
        return DEFAULT_DECIMALS
    if isinstance(school, int):
        return school
    return school.average_decimals


Number = Decimal | float | int | str

# Binary floats (the grid sums in floats) carry noise such as 2.0999999999999996 for 7 × 0.3; below
# this many decimals a float is noise, not a mark (marks and weights have at most two decimals).
_FLOAT_NOISE = Decimal("1e-9")


def _decimal(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(value).quantize(_FLOAT_NOISE)
    return Decimal(value)


def round_average(value: Number | None, school: School | int | None) -> Decimal | None:
    """``value`` rounded half-up to the school's decimals; ``None`` (no marks) stays ``None``."""
    if value is None:
        return None
    return _decimal(value).quantize(Decimal(1).scaleb(-decimals_of(school)), rounding=ROUND_HALF_UP)


def mean(total: Number, weight: Number, school: School | int | None) -> Decimal | None:
    """The (weighted) average ``total / weight`` by the school's rule, ``None`` without marks."""
    divisor = _decimal(weight)
    if not divisor:
        return None
    # Divide at a precision far beyond two decimals, so the only rounding that shows is the school's.
    return round_average((_decimal(total) / divisor).quantize(_FLOAT_NOISE), school)


def format_average(value: Number | None, school: School | int | None) -> str:
    """The rounded average as text with the active language's decimal separator (9,8 in Ukrainian); "" if none."""
    rounded = round_average(value, school)
    if rounded is None:
        return ""
    return number_format(rounded, decimals_of(school))


def average_formatter(school: School | int | None) -> Callable[[Number | None], str]:
    """``format_average`` for many figures of one page (the grid's rows): the active language and the
    school's decimals are looked up once, not per figure. The same text as ``format_average``: averages have
    at most three digits before the separator, so grouping never applies; with thousand separators switched
    on in the settings this falls back to ``format_average`` itself."""
    decimals = decimals_of(school)
    if settings.USE_THOUSAND_SEPARATOR:
        return lambda value: format_average(value, decimals)
    separator = str(get_format("DECIMAL_SEPARATOR"))
    places = Decimal(1).scaleb(-decimals)

    def fmt(value: Number | None) -> str:
        if value is None:
            return ""
        rounded = _decimal(value).quantize(places, rounding=ROUND_HALF_UP)
        text = format(rounded, "f")
        return text.replace(".", separator) if separator != "." else text

    return fmt
