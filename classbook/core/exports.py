"""Tables as downloads: CSV (UTF-8 with a BOM, so spreadsheet programs read Cyrillic) and XLSX.

A cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) gets a leading apostrophe: text typed by a parent must never become a formula in the
secretary's spreadsheet (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from django.http import HttpResponse

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def unsafe_cell(text: str) -> str:
    """A cell read back from an export (the plan's import): the apostrophe ``safe_cell`` added is dropped."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text


def to_csv(head: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([safe_cell(c) for c in head])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, head: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    from openpyxl import Workbook  # imported here: only exports need it
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = (title or "sheet")[:31]
    sheet.append([safe_cell(c) for c in head])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([safe_cell(c) for c in row])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(content: bytes, fmt: str, filename: str) -> HttpResponse:
    """``content`` as an attachment ``<filename>.<fmt>`` that no cache keeps."""
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def export(fmt: str, title: str, head: Sequence[str], rows: Sequence[Sequence[object]], filename: str) -> HttpResponse:
    content = to_csv(head, rows) if fmt == "csv" else to_xlsx(title, head, rows)
    return download(content, fmt, filename)


def download_pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
