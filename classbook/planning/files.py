"""A plan as a file: reading it from CSV or XLSX, all or nothing, and writing it back (R3.1).

The file has a header row naming its columns (in English, Ukrainian or Russian, any order):
``order`` (optional), ``section``, ``topic``, ``hours``, ``lesson type``, ``homework``. Every row is
checked; if any row is bad, ``PlanFileError`` lists every problem (row number as the spreadsheet shows
it, column, message) and nothing is imported. ``template_csv`` / ``template_xlsx`` give a file to fill in.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.core.errors import DomainError
from classbook.core.exports import safe_cell, unsafe_cell
from classbook.core.tables import TableError, normalize_header, read_table
from classbook.journal.models import LessonType
from classbook.planning.models import (
    HOMEWORK_MAX_LENGTH,
    MAX_TOPIC_HOURS,
    MAX_TOPICS,
    SECTION_MAX_LENGTH,
    TOPIC_MAX_LENGTH,
)

MAX_FILE_BYTES = 2 * 1024 * 1024  # a plan is a few hundred rows; the shared reader allows more
MAX_ERRORS = 200
WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")

# Column key -> accepted header names (compared lower-cased, trimmed).
COLUMNS: dict[str, tuple[str, ...]] = {
    "order": ("order", "no", "№", "#", "порядок", "номер", "№ з/п", "№ п/п"),
    "section": ("section", "theme", "розділ", "тема розділу", "раздел"),
    "topic": ("topic", "тема", "тема уроку"),
    "hours": ("hours", "години", "годин", "к-сть годин", "часы", "часов", "кол-во часов"),
    "lesson_type": ("lesson type", "type", "тип уроку", "тип", "тип урока"),
    "homework": ("homework", "домашнє завдання", "д/з", "домашнее задание"),
}
COLUMN_LABELS = {
    "order": gettext_lazy("order"),
    "section": gettext_lazy("section"),
    "topic": gettext_lazy("topic"),
    "hours": gettext_lazy("hours"),
    "lesson_type": gettext_lazy("lesson type"),
    "homework": gettext_lazy("homework"),
}
TEMPLATE_HEADER = ["order", "section", "topic", "hours", "lesson type", "homework"]
TEMPLATE_ROWS = [
    ["1", "Section 1. Introduction", "Introductory lesson", "1", "regular", ""],
    ["2", "Section 1. Introduction", "First topic (two lessons)", "2", "combined", "§1, exercises 1-5"],
    ["3", "Section 1. Introduction", "Control work 1", "1", "control", ""],
]


@dataclass(frozen=True)
class TopicRow:
    section: str
    title: str
    hours: int
    lesson_type: str
    homework: str


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class PlanFileError(DomainError):
    """The file cannot be imported; ``errors`` says where and why. Nothing was imported."""

    code = "import_invalid"

    def __init__(self, message: Any, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
        self.extra = {"rows": [e.as_dict() for e in self.errors]}


def _lesson_type_names() -> dict[str, str]:
    """Every way of naming a lesson type: the code and its label in every interface language."""
    names = {value.lower(): value for value in LessonType.values}
    for code, _label in settings.LANGUAGES:
        with translation.override(code):
            for value, label in LessonType.choices:
                names.setdefault(str(label).strip().lower(), value)
    return names


def _header(raw: list[str]) -> tuple[dict[str, int], list[RowError]]:
    aliases = {normalize_header(alias) or alias: key for key, names in COLUMNS.items() for alias in names}
    found: dict[str, int] = {}
    errors: list[RowError] = []
    for index, name in enumerate(raw):
        key = aliases.get(normalize_header(name) or name.strip())
        if key is None:
            continue
        if key in found:
            errors.append(RowError(1, name, _("The column appears twice.")))
        found[key] = index
    if "topic" not in found:
        errors.append(RowError(1, str(COLUMN_LABELS["topic"]), _("The header row has no topic column.")))
    return found, errors


def parse_rows(raw_header: list[str], rows: list[tuple[int, list[str]]]) -> list[TopicRow]:
    """Check every row (numbered as the spreadsheet shows them); return the topics in order or raise
    ``PlanFileError`` listing every problem."""
    columns, errors = _header(raw_header)
    if errors:
        raise PlanFileError(_("The header row is not right; nothing was imported."), errors)
    types = _lesson_type_names()
    parsed: list[tuple[int, int, TopicRow]] = []
    orders: dict[int, int] = {}

    def get(row: list[str], key: str) -> str:
        index = columns.get(key)
        return unsafe_cell(row[index].strip()) if index is not None and index < len(row) else ""

    for number, row in rows:  # blank lines (between sections) are already left out
        row_errors: list[RowError] = []

        def bad(key: str, message: str) -> None:
            row_errors.append(RowError(number, str(COLUMN_LABELS[key]), message))  # noqa: B023

        title = get(row, "topic")
        if not title:
            bad("topic", _("The topic is empty."))
        elif len(title) > TOPIC_MAX_LENGTH:
            bad("topic", _("The topic is too long (%(max)d characters at most).") % {"max": TOPIC_MAX_LENGTH})
        section = get(row, "section")
        if len(section) > SECTION_MAX_LENGTH:
            bad("section", _("The section is too long (%(max)d characters at most).") % {"max": SECTION_MAX_LENGTH})
        homework = get(row, "homework")
        if len(homework) > HOMEWORK_MAX_LENGTH:
            bad("homework", _("The homework is too long (%(max)d characters at most).") % {"max": HOMEWORK_MAX_LENGTH})
        hours_text = get(row, "hours") or "1"
        hours = int(hours_text) if WHOLE_NUMBER.fullmatch(hours_text) else 0
        if hours < 1:
            bad("hours", _("Hours must be a whole number of 1 or more, not “%(value)s”.") % {"value": hours_text[:60]})
        elif hours > MAX_TOPIC_HOURS:
            bad("hours", _("At most %(max)d hours per topic.") % {"max": MAX_TOPIC_HOURS})
        type_text = get(row, "lesson_type")
        lesson_type = types.get(type_text.lower()) if type_text else LessonType.REGULAR
        if lesson_type is None:
            bad(
                "lesson_type",
                _("Unknown lesson type “%(value)s”. Use one of: %(known)s.")
                % {"value": type_text[:60], "known": ", ".join(LessonType.values)},
            )
        order = number
        if "order" in columns:
            order_text = get(row, "order")
            if not WHOLE_NUMBER.fullmatch(order_text) or int(order_text) < 1:
                bad(
                    "order",
                    _("The order must be a whole number of 1 or more, not “%(value)s”.") % {"value": order_text[:60]},
                )
            else:
                order = int(order_text)
                if order in orders:
                    bad(
                        "order",
                        _("The order %(order)d is already used in row %(row)d.")
                        % {"order": order, "row": orders[order]},
                    )
                else:
                    orders[order] = number
        errors.extend(row_errors)
        if not row_errors:
            parsed.append((order, number, TopicRow(section, title, hours, lesson_type or "", homework)))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise PlanFileError(
            _("%(count)d problem(s) in the file; nothing was imported. Fix them and upload the file again.")
            % {"count": len(errors)},
            errors,
        )
    if not parsed:
        raise PlanFileError(_("The file has no topics."))
    if len(parsed) > MAX_TOPICS:
        raise PlanFileError(_("A plan has at most %(max)d topics.") % {"max": MAX_TOPICS})
    parsed.sort(key=lambda item: (item[0], item[1]))
    return [row for _o, _n, row in parsed]


def parse_file(filename: str, content: bytes) -> list[TopicRow]:
    """The topics of an uploaded plan, read through the shared, bounded reader (``core/tables.py``)."""
    try:
        table = read_table(filename, content, max_bytes=MAX_FILE_BYTES, max_rows=MAX_TOPICS)
    except TableError as exc:  # unreadable, too large, not CSV/XLSX: the same answer, with its row if known
        rows = [RowError(exc.row, exc.column, str(exc.message))] if exc.row else []
        raise PlanFileError(exc.message, rows) from None
    return parse_rows(table.raw_header, table.rows)


def topics_table(topics: list[Any]) -> list[list[str]]:
    """A plan's topics as rows of the import format (header first), for export and templates. Typed text that
    a spreadsheet would run as a formula gets a leading apostrophe (``safe_cell``); the import drops it again."""
    rows = [TEMPLATE_HEADER]
    for index, t in enumerate(topics, start=1):
        rows.append(
            [str(index), safe_cell(t.section), safe_cell(t.title), str(t.hours), t.lesson_type, safe_cell(t.homework)]
        )
    return rows


def to_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "plan"
    for row in rows:
        sheet.append([int(c) if WHOLE_NUMBER.fullmatch(c) and i in (0, 3) else c for i, c in enumerate(row)])
    for letter, width in zip("ABCDEF", (8, 40, 60, 8, 14, 40), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_rows() -> list[list[str]]:
    return [TEMPLATE_HEADER, *TEMPLATE_ROWS]
