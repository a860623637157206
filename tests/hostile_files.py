"""Hostile spreadsheets, built in the test from bytes: what an attacker (or a broken program) uploads to an import.

Each builder returns ``(file name, bytes)``. The workbooks start from a real one written by openpyxl and
swap or add parts of its zip archive, so everything but the hostile part is what Excel would accept.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
from collections.abc import Callable

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_parts(data: bytes, parts: dict[str, bytes], *, drop: tuple[str, ...] = ()) -> bytes:
    """The workbook ``data`` with some zip members replaced or added (and ``drop`` removed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in parts and item.filename not in drop:
                target.writestr(item.filename, source.read(item.filename))
        for name, content in parts.items():
            target.writestr(name, content)
    return out.getvalue()


def sheet_xml(body: str, *, prolog: str = "", dimension: str = "A1:B2") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<worksheet xmlns="{SHEET_NS}"><dimension ref="{dimension}"/><sheetData>{body}</sheetData></worksheet>'
    ).encode()


def inline_row(number: int, *cells: str) -> str:
    parts = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{text}</t></is></c>' for i, text in enumerate(cells)
    )
    return f'<row r="{number}">{parts}</row>'


def base(header: list[str], row: list[str]) -> bytes:
    return workbook([header, row])


# --- XML attacks ---------------------------------------------------------------------------------------


def billion_laughs(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """Ten levels of ten entities each: a billion "lol"s (3 GB) from a few hundred bytes, in a cell."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    prolog = f"<!DOCTYPE worksheet [{entities}]>"
    body = inline_row(1, *header) + inline_row(2, "&lol9;", *row[1:])
    return "laughs.xlsx", with_parts(base(header, row), {SHEET: sheet_xml(body, prolog=prolog)})


def external_entity(header: list[str], row: list[str], target: str = "/etc/passwd") -> tuple[str, bytes]:
    """XXE: a cell whose text is an external entity pointing at a local file."""
    prolog = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{target}">]>'
    body = inline_row(1, *header) + inline_row(2, "&xxe;", *row[1:])
    return "xxe.xlsx", with_parts(base(header, row), {SHEET: sheet_xml(body, prolog=prolog)})


def external_entity_in_workbook_part(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """XXE in the workbook part openpyxl reads with ``fromstring`` (not the streamed sheet)."""
    data = base(header, row)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/workbook.xml").decode()
    poisoned = '<!DOCTYPE workbook [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + xml.split("?>")[-1]
    poisoned = poisoned.replace('name="Sheet"', 'name="&xxe;"')
    assert "&xxe;" in poisoned
    return "xxe-workbook.xlsx", with_parts(data, {"xl/workbook.xml": poisoned.encode()})


def malformed_xml(header: list[str], row: list[str]) -> tuple[str, bytes]:
    broken = f'<?xml version="1.0"?><worksheet xmlns="{SHEET_NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is>'
    return "broken.xlsx", with_parts(base(header, row), {SHEET: broken.encode()})


def no_sheets(header: list[str], row: list[str]) -> tuple[str, bytes]:
    data = base(header, row)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/workbook.xml").decode()
    start, end = xml.index("<sheets>"), xml.index("</sheets>") + len("</sheets>")
    return "empty-book.xlsx", with_parts(data, {"xl/workbook.xml": (xml[:start] + "<sheets/>" + xml[end:]).encode()})


# --- archive attacks -----------------------------------------------------------------------------------


def zip_bomb(header: list[str], row: list[str], megabytes: int = 64) -> tuple[str, bytes]:
    """A sheet that unpacks to ``megabytes`` MB of spaces from a few kilobytes (ratio ~1,000:1)."""
    padding = b" " * (megabytes * 1024 * 1024)
    sheet = sheet_xml(inline_row(1, *header) + inline_row(2, *row)).replace(b"<sheetData>", b"<sheetData>" + padding)
    return "bomb.xlsx", with_parts(base(header, row), {SHEET: sheet})


def ratio_bomb(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """Under the size caps, but 5 MB from ~5 KB: no spreadsheet compresses like that."""
    return "ratio.xlsx", zip_bomb(header, row, megabytes=5)[1]


def many_parts(header: list[str], row: list[str]) -> tuple[str, bytes]:
    extra = {f"xl/media/image{i}.bin": b"x" for i in range(600)}
    return "parts.xlsx", with_parts(base(header, row), extra)


def lying_sizes(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """The archive's directory claims the sheet is 200 bytes; it really unpacks to 20 MB."""
    sheet = sheet_xml(inline_row(1, *header) + inline_row(2, *row)).replace(
        b"<sheetData>", b"<sheetData>" + b" " * (20 * 1024 * 1024)
    )
    data = bytearray(with_parts(base(header, row), {SHEET: sheet}))
    for signature, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # central directory, local header
        position = 0
        while (position := data.find(signature, position)) != -1:
            name_length = struct.unpack_from("<H", data, position + (28 if signature == b"PK\x01\x02" else 26))[0]
            name_at = position + (46 if signature == b"PK\x01\x02" else 30)
            if bytes(data[name_at : name_at + name_length]) == SHEET.encode():
                struct.pack_into("<I", data, position + offset, 200)
            position += 4
    return "lying.xlsx", bytes(data)


def bzip2_member(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """A sheet packed with bzip2, which zipfile unpacks without bounding a chunk's output."""
    data = base(header, row)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
    return "bzip2.xlsx", out.getvalue()


def zip_not_a_workbook(header: list[str], row: list[str]) -> tuple[str, bytes]:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return "notes.xlsx", out.getvalue()


def empty_zip(header: list[str], row: list[str]) -> tuple[str, bytes]:
    out = io.BytesIO()
    zipfile.ZipFile(out, "w").close()
    return "empty.xlsx", out.getvalue()


# --- size attacks --------------------------------------------------------------------------------------


def claimed_huge_sheet(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """A sheet that claims A1:XFD1048576 but holds two rows: must read as two rows, fast."""
    sheet = sheet_xml(inline_row(1, *header) + inline_row(2, *row), dimension="A1:XFD1048576")
    return "claims.xlsx", with_parts(base(header, row), {SHEET: sheet})


def far_row(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """Data in the sheet's last row (1,048,576): the rows between would be read as blank ones."""
    body = inline_row(1, *header) + inline_row(2, *row) + inline_row(1048576, *row)
    return "far.xlsx", with_parts(base(header, row), {SHEET: sheet_xml(body)})


def too_many_rows_xlsx(header: list[str], row: list[str], count: int = 5001) -> tuple[str, bytes]:
    return "long.xlsx", workbook([header] + [row] * count)


def too_many_columns_xlsx(header: list[str], row: list[str]) -> tuple[str, bytes]:
    return "wide.xlsx", workbook([header, row + ["x"] * 150])


def long_cell_xlsx(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """A 40,000-character cell (more than Excel itself allows; openpyxl would cut it when writing)."""
    body = inline_row(1, *header) + inline_row(2, row[0], "Ш" * 40_000, *row[2:])
    return "long-cell.xlsx", with_parts(base(header, row), {SHEET: sheet_xml(body)})


# --- not spreadsheets ----------------------------------------------------------------------------------


def random_bytes(name: str = "list.xlsx") -> tuple[str, bytes]:
    return name, random.Random(9).randbytes(4096)


def pdf(name: str = "list.csv") -> tuple[str, bytes]:
    return (
        name,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\nstream\n\x00\x01\x02\nendstream\n",
    )


def old_xls(name: str = "list.xlsx") -> tuple[str, bytes]:
    return name, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512


def csv_renamed_xlsx(header: list[str], row: list[str]) -> tuple[str, bytes]:
    return "list.xlsx", (";".join(header) + "\n" + ";".join(row) + "\n").encode()


def xlsx_renamed_csv(header: list[str], row: list[str]) -> tuple[str, bytes]:
    return "list.csv", base(header, row)


def csv_with_nul(header: list[str], row: list[str]) -> tuple[str, bytes]:
    return "nul.csv", (";".join(header) + "\n" + ";".join(row) + "\x00\n").encode()


def csv_undecodable(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """Neither UTF-8 nor Windows-1251 (0x98 is unassigned there)."""
    return "bytes.csv", (";".join(header) + "\n").encode() + b"\x98\xff\x98\n"


def csv_huge_field(header: list[str], row: list[str]) -> tuple[str, bytes]:
    """A cell over the csv module's field limit (131,072 characters)."""
    return "field.csv", (";".join(header) + "\n" + "Ш" * 200_000 + ";" + ";".join(row[1:]) + "\n").encode()


def csv_too_many_rows(header: list[str], row: list[str], count: int = 5001) -> tuple[str, bytes]:
    return "long.csv", (";".join(header) + "\n" + (";".join(row) + "\n") * count).encode()


def csv_too_many_columns(header: list[str], row: list[str]) -> tuple[str, bytes]:
    return "wide.csv", (";".join(header) + "\n" + ";".join(row + ["x"] * 150) + "\n").encode()


def empty(header: list[str], row: list[str]) -> tuple[str, bytes]:
    return "empty.csv", b""


# --- what each one must answer ---------------------------------------------------------------------------

Builder = Callable[[list[str], list[str]], tuple[str, bytes]]
ENTITIES = "The workbook holds XML entity declarations or external references, which are refused for safety."
NOT_XLSX = "The file is not a readable Excel workbook (.xlsx)."
BINARY = "The file holds binary data, not CSV text; save the table as CSV or .xlsx."


def cases(max_rows: int) -> list[tuple[Builder, str, int]]:
    """(builder, the message the user reads, the row it names or 0) for an import reading ``max_rows`` rows."""
    too_many_rows = f"The file has more than {max_rows} rows; split it."
    return [
        (billion_laughs, ENTITIES, 0),
        (external_entity, ENTITIES, 0),
        (external_entity_in_workbook_part, ENTITIES, 0),
        (malformed_xml, NOT_XLSX, 0),
        (no_sheets, "The workbook has no sheets.", 0),
        (zip_bomb, "The workbook is too large when unpacked; it is not a class list or a plan.", 0),
        (ratio_bomb, "times tighter than spreadsheets are; it is refused for safety.", 0),
        (many_parts, "The workbook has too many parts to be a class list or a plan.", 0),
        (lying_sizes, NOT_XLSX, 0),
        (bzip2_member, NOT_XLSX, 0),
        (zip_not_a_workbook, NOT_XLSX, 0),
        (empty_zip, NOT_XLSX, 0),
        (far_row, "The sheet goes on past row 65536; only the first 65536 rows are read.", 0),
        (too_many_rows_xlsx, too_many_rows, 0),
        (too_many_columns_xlsx, "Row 2 has more than 100 columns.", 2),
        (long_cell_xlsx, "A cell is longer than 32767 characters.", 2),
        (csv_renamed_xlsx, "The file is named .xlsx but is not an Excel workbook.", 0),
        (xlsx_renamed_csv, "The file is named .csv but holds an Excel workbook; name it .xlsx.", 0),
        (csv_with_nul, BINARY, 0),
        (csv_undecodable, "The file's text encoding is not recognised; save it as UTF-8 CSV.", 0),
        (csv_huge_field, "Row 2 of the CSV file cannot be read", 2),
        (csv_too_many_rows, too_many_rows, 0),
        (csv_too_many_columns, "Row 2 has more than 100 columns.", 2),
        (lambda *_: random_bytes("list.xlsx"), "The file is named .xlsx but is not an Excel workbook.", 0),
        (lambda *_: random_bytes("list.csv"), "", 0),  # undecodable or binary, whichever the bytes hit first
        (lambda *_: pdf("list.csv"), BINARY, 0),
        (lambda *_: pdf("list.pdf"), "Upload a CSV or an Excel (.xlsx) file.", 0),
        (lambda *_: old_xls("list.xlsx"), "This is an old Excel file (.xls); save it as .xlsx or CSV.", 0),
    ]


def case_ids(found: list[tuple[Builder, str, int]]) -> list[str]:
    names = ["random-xlsx", "random-csv", "pdf-as-csv", "pdf", "old-xls"]
    return [b.__name__ if b.__name__ != "<lambda>" else names.pop(0) for b, _m, _r in found]
