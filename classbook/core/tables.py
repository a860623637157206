"""Reading uploaded tables (CSV or XLSX) into rows of text cells, for all-or-nothing imports.

Spreadsheets come from school secretaries: Excel files, CSV saved by Excel in Windows-1251 with ";"
as the separator, UTF-8 with a byte-order mark, or Excel's "Unicode text" (UTF-16). ``read_table``
accepts all of these and returns the header and the data rows as stripped strings; dates typed into
Excel cells come back as ISO dates. Every import reads its file here and nowhere else.

The file is untrusted, so reading it is bounded before it starts (issue 9, docs/deployment.md "Import caps"):

- the kind is decided by the content, and the name must agree: a workbook named ``.csv``, a text named
  ``.xlsx``, an old ``.xls``, a PDF or random bytes are refused with a message that says which;
- a workbook's zip archive is checked from its central directory *before* openpyxl opens it: number of
  members, each member's and the total uncompressed size, the compression ratio, the compression method
  (only stored and deflate, whose output ``zipfile`` bounds by the declared size), no encryption;
- XML is parsed by openpyxl through defusedxml (installed, so openpyxl uses it: entity declarations and
  external references are refused, so no "billion laughs" and no XXE); reading refuses to run otherwise;
- openpyxl's read-only mode streams the first sheet; its claimed dimensions are ignored, rows are read to
  ``MAX_ROW_NUMBER`` at most and only the first ``max_columns`` (+1, to notice more) columns are built;
- rows, columns and cell lengths are capped; CSV text must decode and hold no binary control characters.

Anything unreadable raises ``TableError`` (a ``DomainError`` with a translated message and, where it is
known, the row and column), before anything is imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _

from classbook.core.errors import DomainError

logger = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024  # the uploaded file
MAX_ROWS = 5000  # non-blank data rows under the header
MAX_COLUMNS = 100
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_ROW_NUMBER = 65_536  # a sheet is read down to this row (blank rows included), never further
# The workbook's zip archive, checked before openpyxl opens it. A 5,000-row class list is one ~6 MB sheet
# that deflate packs about 15:1; a zip bomb packs 1,000:1 and claims gigabytes.
ZIP_MAX_MEMBERS = 500
ZIP_MAX_MEMBER_BYTES = 20 * 1024 * 1024
ZIP_MAX_TOTAL_BYTES = 50 * 1024 * 1024
ZIP_MAX_RATIO = 100
ZIP_RATIO_FROM_BYTES = 1024 * 1024  # smaller members cannot hurt, whatever their ratio

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive's end record
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel .xls (and .doc)
_XLSX_NAMES = (".xlsx", ".xlsm")
_TEXT_NAMES = (".csv", ".txt")
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")  # control characters no spreadsheet text holds
# What openpyxl and zipfile raise on a damaged or hostile workbook (defusedxml's errors are ValueErrors,
# expat's ParseError a SyntaxError). Anything else is a bug of ours and stays a 500 with a traceback.
_BROKEN_WORKBOOK = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,
    OverflowError,
    NotImplementedError,
)


class TableError(DomainError):
    """The file cannot be read as a table; nothing was imported. ``row``/``column`` say where, if known."""

    code = "file_unreadable"

    def __init__(self, message: Any, *, row: int = 0, column: str = "") -> None:
        super().__init__(message, field="file")
        self.row = row
        self.column = column


@dataclass(frozen=True)
class Table:
    header: list[str]  # normalised for matching (see ``normalize_header``)
    raw_header: list[str]  # as written in the file, for messages
    rows: list[tuple[int, list[str]]]  # (row number in the file, 1-based as the spreadsheet shows, cells)


@dataclass(frozen=True)
class _Caps:
    rows: int
    columns: int


def normalize_header(text: str) -> str:
    """Header cells compare without case, spaces, asterisks, dots and apostrophe variants."""
    text = text.replace("’", "'").replace("ʼ", "'").replace("`", "'").lower()
    return re.sub(r"[\s*.:_№#-]+", " ", text).strip()


def column_letter(index: int) -> str:
    """1 → "A", 27 → "AA": columns as the spreadsheet names them, for messages."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xml_is_defused() -> bool:
    """True when openpyxl parses through defusedxml (its documented switch, and the functions it really calls).

    With lxml installed openpyxl prefers it (unless ``OPENPYXL_LXML=False``, which settings set) and then
    parses workbook parts with lxml, which does not refuse entity declarations: that counts as not defused.
    """
    import defusedxml.ElementTree
    import openpyxl
    from openpyxl.worksheet import _reader
    from openpyxl.xml import functions

    return (
        bool(openpyxl.DEFUSEDXML)
        and not openpyxl.LXML
        and functions.iterparse is _reader.iterparse is defusedxml.ElementTree.iterparse
        and functions.fromstring is defusedxml.ElementTree.fromstring
    )


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


def _too_many_rows(caps: _Caps) -> TableError:
    return TableError(_("The file has more than %(n)s rows; split it.") % {"n": caps.rows})


def _checked_row(number: int, cells: list[str], caps: _Caps, header: list[str]) -> list[str]:
    """The row's cells, or an error for a row too wide or a cell too long (named by its header, if any)."""
    if len(cells) > caps.columns and any(cells[caps.columns :]):
        raise TableError(_("Row %(row)s has more than %(n)s columns.") % {"row": number, "n": caps.columns}, row=number)
    for position, text in enumerate(cells[: caps.columns], start=1):
        if len(text) > MAX_CELL_CHARS:
            raise TableError(
                _("A cell is longer than %(n)s characters.") % {"n": MAX_CELL_CHARS},
                row=number,
                column=header[position - 1][:60] if position <= len(header) else column_letter(position),
            )
    return cells[: caps.columns]


def _collect(numbered_rows: Iterable[tuple[int, list[str]]], caps: _Caps) -> list[tuple[int, list[str]]]:
    """Non-blank rows with their numbers, checked, stopping as soon as there are too many."""
    kept: list[tuple[int, list[str]]] = []
    for number, cells in numbered_rows:
        if not any(cells):
            continue
        kept.append((number, _checked_row(number, cells, caps, kept[0][1] if kept else [])))
        if len(kept) > caps.rows + 1:  # the header and one row too many
            raise _too_many_rows(caps)
    return kept


# --- XLSX ----------------------------------------------------------------------------------------------


def check_archive(data: bytes) -> None:
    """Refuse a zip that would cost more to open than any real workbook, reading only its central directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except _BROKEN_WORKBOOK as exc:  # a damaged directory, an unsupported zip version...
        raise TableError(_("The file is not a readable Excel workbook (.xlsx).")) from exc
    if not members:
        raise TableError(_("The file is not a readable Excel workbook (.xlsx)."))
    if len(members) > ZIP_MAX_MEMBERS:
        raise TableError(_("The workbook has too many parts to be a class list or a plan."))
    total = 0
    for member in members:
        if member.flag_bits & 0x1:
            raise TableError(_("The workbook is protected with a password; save it without one."))
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise TableError(_("The file is not a readable Excel workbook (.xlsx)."))
        total += member.file_size
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > ZIP_MAX_MEMBER_BYTES or total > ZIP_MAX_TOTAL_BYTES:
            logger.warning("Refused a workbook: %s unpacks to %s bytes", member.filename[:80], member.file_size)
            raise TableError(_("The workbook is too large when unpacked; it is not a class list or a plan."))
        if member.file_size > ZIP_RATIO_FROM_BYTES and ratio > ZIP_MAX_RATIO:
            logger.warning("Refused a workbook: %s is packed %.0f:1", member.filename[:80], ratio)
            raise TableError(
                _("The workbook is packed %(ratio)s times tighter than spreadsheets are; it is refused for safety.")
                % {"ratio": int(ratio)}
            )


def _sheet_rows(sheet: Any, caps: _Caps) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of the sheet, as stored: its claimed size is ignored, width and depth are capped."""
    sheet.reset_dimensions()  # a hostile <dimension ref="A1:XFD1048576"> would pad every row and the sheet
    rows = sheet.iter_rows(min_row=1, max_col=caps.columns + 1, values_only=True)
    for number, values in enumerate(rows, start=1):
        if number > MAX_ROW_NUMBER:
            raise TableError(
                _("The sheet goes on past row %(n)s; only the first %(n)s rows are read.") % {"n": MAX_ROW_NUMBER}
            )
        cells = [_cell(v) for v in values]
        while cells and not cells[-1]:  # read-only rows come padded to the width asked for
            cells.pop()
        yield number, cells


def _unreadable(exc: BaseException) -> TableError:
    """The answer to a workbook openpyxl could not read; entity and external-reference attacks are named."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, DefusedXmlException):
        cause = cause.__cause__ or cause.__context__  # openpyxl wraps what the parser raised in a ValueError
    if cause is not None:
        logger.warning("Refused a workbook with XML entities or external references: %s", cause)
        return TableError(
            _("The workbook holds XML entity declarations or external references, which are refused for safety.")
        )
    logger.info("Unreadable workbook: %s: %s", type(exc).__name__, str(exc)[:200])
    return TableError(_("The file is not a readable Excel workbook (.xlsx)."))


def _read_xlsx(data: bytes, caps: _Caps) -> list[tuple[int, list[str]]]:
    if not xml_is_defused():  # fail closed: never parse a workbook's XML without defusedxml
        logger.error("openpyxl does not use defusedxml; workbook imports are refused (install defusedxml)")
        raise TableError(_("Excel workbooks cannot be read on this server; upload a CSV file."))
    check_archive(data)
    from openpyxl import load_workbook  # imported here: only imports need it

    book = None
    # openpyxl warns about features it skips (data validation, conditional formats): not our business,
    # and the test run turns warnings into errors.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"openpyxl\.")
        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
            if not book.worksheets:
                raise TableError(_("The workbook has no sheets."))
            return _collect(_sheet_rows(book.worksheets[0], caps), caps)
        except _BROKEN_WORKBOOK as exc:
            raise _unreadable(exc) from exc
        finally:
            if book is not None:
                book.close()


# --- CSV -----------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16 with a byte-order mark
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1251")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(_("The file's text encoding is not recognised; save it as UTF-8 CSV."))


def _read_csv(data: bytes, caps: _Caps) -> list[tuple[int, list[str]]]:
    text = _decode(data)
    if _BINARY.search(text):
        raise TableError(_("The file holds binary data, not CSV text; save the table as CSV or .xlsx."))
    first_line = text.split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    read = 0  # records, as a spreadsheet numbers the rows of a CSV file (a quoted cell may span lines)

    def numbered() -> Iterator[tuple[int, list[str]]]:
        nonlocal read
        for row in reader:
            read += 1
            yield read, [c.strip() for c in row]

    try:
        return _collect(numbered(), caps)
    except csv.Error as exc:
        raise TableError(
            _("Row %(row)s of the CSV file cannot be read (a cell is too long or a quote is not closed).")
            % {"row": read + 1},
            row=read + 1,
        ) from exc


def read_csv_rows(data: bytes, *, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> list[list[str]]:
    """The rows of one CSV text (header first), cells stripped, blank rows skipped, within the caps — for a
    format with its own header rules (a OneRoster package's files); ``TableError`` as for ``read_table``."""
    if not data:
        return []
    return [cells for _number, cells in _read_csv(data, _Caps(rows=max_rows, columns=max_columns))]


# --- the entry point -----------------------------------------------------------------------------------


def _kind(name: str, data: bytes) -> str:
    """ "xlsx" or "csv", decided by the content and checked against the name."""
    lowered = name.lower()
    is_zip = data.startswith(_ZIP_MAGIC)
    if lowered.endswith(_XLSX_NAMES):
        if is_zip:
            return "xlsx"
        if data.startswith(_OLE2_MAGIC):
            raise TableError(_("This is an old Excel file (.xls); save it as .xlsx or CSV."))
        raise TableError(_("The file is named .xlsx but is not an Excel workbook."))
    if lowered.endswith(_TEXT_NAMES):
        if is_zip:
            raise TableError(_("The file is named .csv but holds an Excel workbook; name it .xlsx."))
        return "csv"
    if data.startswith(_OLE2_MAGIC):
        raise TableError(_("This is an old Excel file (.xls); save it as .xlsx or CSV."))
    raise TableError(_("Upload a CSV or an Excel (.xlsx) file."))


def read_table(
    name: str, data: bytes, *, max_rows: int = MAX_ROWS, max_bytes: int = MAX_BYTES, max_columns: int = MAX_COLUMNS
) -> Table:
    """The first sheet (XLSX) or the CSV text as a header and numbered data rows; blank rows are skipped.

    Raises ``TableError`` for anything that is not a readable table within the caps (module docstring).
    """
    if len(data) > max_bytes:
        raise TableError(_("The file is too large (more than %(mb)s MB).") % {"mb": max_bytes // (1024 * 1024)})
    if not data:
        raise TableError(_("The file is empty."))
    caps = _Caps(rows=max_rows, columns=max_columns)
    numbered = _read_xlsx(data, caps) if _kind(name, data) == "xlsx" else _read_csv(data, caps)
    if not numbered:
        raise TableError(_("The file is empty."))
    (_first, header), *rows = numbered
    return Table(header=[normalize_header(h) for h in header], raw_header=header, rows=rows)
