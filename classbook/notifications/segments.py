"""How many SMS segments a text takes, which is what an SMS gateway bills (docs/notifications.md, costs).

A text written only in the GSM 03.38 alphabet (Latin letters, digits, common punctuation) is sent in 7-bit
GSM: 160 characters in one SMS, 153 per segment once it is split (7 go to the concatenation header); the
characters of the extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) take two places. Any other
character — Cyrillic above all — makes the whole text UCS-2: 70 characters in one SMS, 67 per segment, and a
character outside the Basic Multilingual Plane (an emoji) takes two places (a UTF-16 surrogate pair).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # characters in the encoding's units (an extension character or a surrogate pair counts 2)
    count: int  # SMS segments billed


def _gsm7_units(text: str) -> int | None:
    units = 0
    for char in text:
        if char in GSM7_BASIC:
            units += 1
        elif char in GSM7_EXTENSION:
            units += 2
        else:
            return None
    return units


def count(text: str) -> Segments:
    """The encoding, length and number of segments of ``text`` (an empty text is one segment)."""
    units = _gsm7_units(text)
    if units is not None:
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    number = 1 if units <= single else math.ceil(units / part)
    return Segments(encoding, units, number)


def truncate(text: str, max_segments: int) -> str:
    """``text`` shortened (with "...") to fit ``max_segments`` segments: a digest never runs up a bill."""
    if count(text).count <= max_segments:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest prefix that fits, ellipsis included
        middle = (low + high + 1) // 2
        if count(text[:middle].rstrip() + "...").count <= max_segments:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "..."
