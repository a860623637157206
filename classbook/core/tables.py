"""Reading uploaded tables (CSV or XLSX) into rows of text cells, for all-or-nothing imports.

Spreadsheets come from school secretaries: Excel files, CSV saved by Excel in Windows-1251 with ";"
as the separator, or UTF-8 with a byte-order mark. ``read_table`` accepts all of these and returns the
header and the data rows as stripped strings; dates typed into Excel cells come back as ISO dates.
Anything unreadable raises a ``DomainError`` with a translated message, before anything is imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from classbook.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000


@dataclass(frozen=True)
class Table:
    header: list[str]  # normalised for matching (see ``normalize_header``)
    raw_header: list[str]  # as written in the file, for messages
    rows: list[tuple[int, list[str]]]  # (row number in the file, 1-based as the spreadsheet shows, cells)


def normalize_header(text: str) -> str:
    """Header cells compare without case, spaces, asterisks, dots and apostrophe variants."""
    text = text.replace("’", "'").replace("ʼ", "'").replace("`", "'").lower()
    return re.sub(r"[\s*.:_№#-]+", " ", text).strip()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_xlsx(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # imported here: only imports need it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError(_("The file is not a readable Excel workbook (.xlsx)."), field="file") from exc
    sheet = book.worksheets[0]
    rows = []
    for row in sheet.iter_rows(values_only=True):
        rows.append([_cell(v) for v in row])
        if len(rows) > MAX_ROWS + 1:
            break
    book.close()
    return rows


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1251 decodes every byte but a few; kept for clarity
        raise DomainError(_("The file's text encoding is not recognised; save it as UTF-8 CSV."), field="file")
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    try:
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise DomainError(_("The CSV file cannot be read: %(error)s") % {"error": exc}, field="file") from exc


def read_table(name: str, data: bytes) -> Table:
    """The first sheet (XLSX) or the CSV text as a header and numbered data rows; blank rows are skipped."""
    if len(data) > MAX_BYTES:
        raise DomainError(
            _("The file is too large (more than %(mb)s MB).") % {"mb": MAX_BYTES // (1024 * 1024)}, field="file"
        )
    if not data:
        raise DomainError(_("The file is empty."), field="file")
    if name.lower().endswith(".xlsx") or data[:2] == b"PK":
        raw = _read_xlsx(data)
    elif name.lower().endswith((".csv", ".txt")):
        raw = _read_csv(data)
    else:
        raise DomainError(_("Upload a CSV or an Excel (.xlsx) file."), field="file")
    numbered = [(i, row) for i, row in enumerate(raw, start=1) if any(c for c in row)]
    if not numbered:
        raise DomainError(_("The file is empty."), field="file")
    if len(numbered) - 1 > MAX_ROWS:
        raise DomainError(_("The file has more than %(n)s rows; split it.") % {"n": MAX_ROWS}, field="file")
    (_first, header), *rows = numbered
    return Table(header=[normalize_header(h) for h in header], raw_header=header, rows=rows)
