"""Ukrainian → Latin transliteration by the official table (Resolution of the Cabinet of Ministers
of Ukraine No. 55 of 27 January 2010), used to make login names from people's names (R1.7)."""

from __future__ import annotations

import re
import unicodedata

# Letters with a different spelling at the start of a word (Є, Ї, Й, Ю, Я).
_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_TABLE = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie", "ж": "zh",
    "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n",
    "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia",
    # Letters outside the Ukrainian alphabet (Russian-style schools): a plain, readable spelling.
    "ы": "y", "э": "e", "ё": "yo", "ъ": "",
}  # fmt: skip
_APOSTROPHES = "'’ʼ`\u02bc"


def transliterate(text: str) -> str:
    """Latin spelling of ``text`` (case kept for the first letter of each word).

    "зг" is written "zgh" to tell it from "ж" (Згорани → Zghorany); the apostrophe is dropped.
    """
    out: list[str] = []
    lower = text.lower()
    for i, ch in enumerate(lower):
        if ch in _APOSTROPHES:
            continue
        prev = lower[i - 1] if i else ""
        at_start = not prev or (not prev.isalpha() and prev not in _APOSTROPHES)
        if ch == "г" and prev == "з":
            latin = "gh"
        elif at_start and ch in _INITIAL:
            latin = _INITIAL[ch]
        else:
            latin = _TABLE.get(ch, ch)
        if text[i].isupper() and latin:
            latin = latin[0].upper() + latin[1:]
        out.append(latin)
    return "".join(out)


def username_base(last_name: str, first_name: str) -> str:
    """``lastname.firstname`` in lowercase ASCII letters and digits, or ``user`` when nothing is left."""
    parts = []
    for name in (last_name, first_name):
        latin = unicodedata.normalize("NFKD", transliterate(name)).encode("ascii", "ignore").decode().lower()
        latin = re.sub(r"[^a-z0-9]+", "", latin)
        if latin:
            parts.append(latin[:60])
    return ".".join(parts) or "user"


def free_username(base: str, taken: set[str]) -> str:
    """``base`` if nobody has it, else ``base2``, ``base3``... — the first one not in ``taken``."""
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name
