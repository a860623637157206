"""The Ukrainian and Russian catalogues are complete and safe to render.

English is the source language; uk (the default UI language) and ru must translate every
string before it lands, so a new untranslated or fuzzy entry fails here. The .po files are
parsed with a small stdlib parser so the check needs neither gettext nor compiled .mo files.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.engine_agnostic  # no database: run on SQLite only by scripts/test

LOCALE_DIR = Path(__file__).resolve().parent.parent / "classbook" / "locale"
TRANSLATED = ("uk", "ru")

# Letters that exist only in the other language: a stray one means the wrong language was pasted.
FOREIGN_LETTERS = {
    "uk": re.compile(r"[ыэъёЫЭЪЁ]"),
    "ru": re.compile(r"[іїєґІЇЄҐ]"),
}

# printf-style (%(name)s, %s, %d ...) and str.format-style ({name}, {0}, {}) placeholders.
PLACEHOLDER = re.compile(
    r"%\([^)]+\)[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|%[#0 +\-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"
    r"|\{\w*\}"
)
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
LATIN = re.compile(r"[A-Za-z]")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        ctx = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {ctx}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(token: str) -> str:
    token = token.strip()
    assert token.startswith('"') and token.endswith('"'), f"bad string literal {token!r}"
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), token[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file, header (msgid "") included; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None
    pending_flags: set[str] = set()
    keyword = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            target = None
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        match = keyword.match(line)
        if match:
            name, index, literal = match.groups()
            text = _unquote(literal)
            if name in ("msgctxt", "msgid") and (entry is None or entry.msgstr):
                entry = Entry(line=number, flags=pending_flags)
                pending_flags = set()
                entries.append(entry)
            assert entry is not None, f"{path}:{number}: {name} before msgid"
            if name == "msgctxt":
                entry.msgctxt = text
            elif name == "msgid":
                entry.msgid = text
            elif name == "msgid_plural":
                entry.msgid_plural = text
            else:
                entry.msgstr[int(index or 0)] = text
            target = (name, int(index or 0))
            continue
        if line.startswith('"') and target is not None and entry is not None:
            name, index = target
            text = _unquote(line)
            if name == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + text
            elif name == "msgid":
                entry.msgid += text
            elif name == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + text
            else:
                entry.msgstr[index] += text
            continue
        raise AssertionError(f"{path}:{number}: cannot parse {raw!r}")
    return entries


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"


def header_and_messages(lang: str) -> tuple[Entry, list[Entry]]:
    entries = parse_po(po_path(lang))
    headers = [e for e in entries if e.msgid == "" and e.msgctxt is None]
    assert len(headers) == 1, f"{lang}: expected exactly one header entry"
    return headers[0], [e for e in entries if e is not headers[0]]


def nplurals(header: Entry) -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr.get(0, ""))
    assert match, "the header has no Plural-Forms"
    return int(match.group(1))


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def html_tags(text: str) -> Counter[str]:
    return Counter(HTML_TAG.findall(text))


def key(entry: Entry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_header_names_language_and_keeps_plural_forms(lang: str) -> None:
    header, _ = header_and_messages(lang)
    # A fuzzy header is dropped by msgfmt, and with it Plural-Forms: plurals would be wrong.
    assert "fuzzy" not in header.flags
    assert f"Language: {lang}\n" in header.msgstr[0]
    assert nplurals(header) >= 3


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_has_the_same_messages_as_the_english_source(lang: str) -> None:
    _, source = header_and_messages("en")
    _, messages = header_and_messages(lang)
    assert [key(e) for e in messages] == [key(e) for e in source]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_and_not_fuzzy(lang: str) -> None:
    header, messages = header_and_messages(lang)
    forms = nplurals(header)
    problems = []
    for entry in messages:
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy {entry.label}")
        expected = set(range(forms)) if entry.msgid_plural is not None else {0}
        if set(entry.msgstr) != expected:
            problems.append(f"plural forms {sorted(entry.msgstr)} != {sorted(expected)}: {entry.label}")
        if any(not text.strip() for text in entry.msgstr.values()):
            problems.append(f"untranslated {entry.label}")
    assert not problems, "\n".join(problems)


# Names that every language writes the same way.
BRAND_NAMES = {"Telegram", "OneRoster", "Viber", "SMS"}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_are_not_left_in_english(lang: str) -> None:
    _, messages = header_and_messages(lang)
    problems = [
        f"{text!r} for {entry.label}"
        for entry in messages
        if LATIN.search(PLACEHOLDER.sub("", entry.msgid))
        for text in entry.msgstr.values()
        if text.strip() and not CYRILLIC.search(text) and text.strip() not in BRAND_NAMES
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_and_html_match_the_source(lang: str) -> None:
    _, messages = header_and_messages(lang)
    problems = []
    for entry in messages:
        if entry.msgid_plural is None:
            wanted_counts = placeholders(entry.msgid)
            for text in entry.msgstr.values():
                if text and placeholders(text) != wanted_counts:
                    problems.append(f"placeholders {dict(placeholders(text))} != {dict(wanted_counts)}: {entry.label}")
        else:
            # Each plural form may repeat or reorder, but must use exactly the source's placeholders.
            wanted = set(placeholders(entry.msgid)) | set(placeholders(entry.msgid_plural))
            for index, text in entry.msgstr.items():
                found = set(placeholders(text))
                if text and found != wanted:
                    problems.append(f"placeholders of form {index} {found} != {wanted}: {entry.label}")
        for text in entry.msgstr.values():
            if text and html_tags(text) != html_tags(entry.msgid):
                problems.append(f"HTML {dict(html_tags(text))} != {dict(html_tags(entry.msgid))}: {entry.label}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_do_not_use_letters_of_the_other_language(lang: str) -> None:
    _, messages = header_and_messages(lang)
    problems = [
        f"{text!r} for {entry.label}"
        for entry in messages
        for text in entry.msgstr.values()
        if FOREIGN_LETTERS[lang].search(text)
    ]
    assert not problems, "\n".join(problems)


def test_parser_reads_context_plurals_flags_and_continuations(tmp_path: Path) -> None:
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=3;\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "study period"\nmsgid ""\n"%(n)s long "\n"text"\n'
        'msgid_plural "%(n)s texts"\nmsgstr[0] "%(n)s \\"a\\""\nmsgstr[1] ""\nmsgstr[2] "c"\n\n'
        '#~ msgid "old"\n#~ msgstr "stale"\n',
        encoding="utf-8",
    )
    header, entry = parse_po(po)
    assert nplurals(header) == 3
    assert entry.msgctxt == "study period"
    assert entry.msgid == "%(n)s long text"
    assert entry.msgid_plural == "%(n)s texts"
    assert entry.msgstr == {0: '%(n)s "a"', 1: "", 2: "c"}
    assert entry.flags == {"fuzzy", "python-format"}
    assert placeholders("%(a)s %s {b} {} 100%%") == Counter({"%(a)s": 1, "%s": 1, "{b}": 1, "{}": 1})
