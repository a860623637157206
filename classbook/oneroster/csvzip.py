"""A OneRoster 1.2 CSV package as a zip: writing (deterministic bytes) and reading (bounded, tolerant of a BOM)."""

from __future__ import annotations

import csv
import io
import zipfile

from django.utils.translation import gettext as _

from classbook.core.errors import DomainError
from classbook.core.tables import TableError, read_csv_rows
from classbook.oneroster.spec import HEADERS, MANIFEST_FILES, MANIFEST_VERSION, VERSION

MAX_ZIP_BYTES = 20 * 1024 * 1024
MAX_MEMBER_BYTES = 50 * 1024 * 1024
MAX_MEMBER_ROWS = 2_000_000  # a large school's results.csv for a year (one row per mark)
# All CSV files together, unpacked, and how many: a zip of many highly compressed members (each under the
# per-file cap) would otherwise unpack to gigabytes in memory. OneRoster 1.2 has 16 CSV files.
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_MEMBERS = 40
# A fixed timestamp for every member, so the same rows give the same zip bytes.
ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def to_csv(header: tuple[str, ...] | list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def manifest_rows(modes: dict[str, str], *, system_name: str = "Classbook") -> list[list[str]]:
    rows = [["manifest.version", MANIFEST_VERSION], ["oneroster.version", VERSION]]
    rows += [[f"file.{name}", modes.get(name, "absent")] for name in MANIFEST_FILES]
    rows += [["source.systemName", system_name], ["source.systemCode", ""]]
    return rows


def write_zip(files: dict[str, list[dict[str, str]]], *, delta: bool) -> bytes:
    """The package: manifest.csv and one CSV per file in ``files`` (even an empty one, with its header)."""
    mode = "delta" if delta else "bulk"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        members = {"manifest": to_csv(["propertyName", "value"], manifest_rows({n: mode for n in files}))}
        for name, rows in files.items():
            header = HEADERS[name]
            members[name] = to_csv(header, [[r[c] for c in header] for r in rows])
        for name, data in members.items():
            info = zipfile.ZipInfo(f"{name}.csv", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def read_zip(data: bytes) -> dict[str, list[list[str]]]:
    """The CSV files of a package (name without .csv -> rows with the header), or a translated DomainError."""
    if len(data) > MAX_ZIP_BYTES:
        raise DomainError(_("The file is too large."), code="too_large", field="file")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = [i for i in zf.infolist() if i.filename.endswith(".csv") and "/" not in i.filename]
        if len(names) > MAX_MEMBERS or sum(i.file_size for i in names) > MAX_TOTAL_BYTES:
            raise DomainError(_("The file is too large."), code="too_large", field="file")
        files: dict[str, list[list[str]]] = {}
        for info in names:
            if info.file_size > MAX_MEMBER_BYTES:
                raise DomainError(_("The file is too large."), code="too_large", field="file")
            try:
                files[info.filename[:-4]] = read_csv_rows(zf.read(info), max_rows=MAX_MEMBER_ROWS)
            except TableError as exc:
                raise DomainError(f"{info.filename}: {exc.message}", code="bad_file", field="file") from exc
    except (zipfile.BadZipFile, EOFError) as exc:
        raise DomainError(_("This is not a OneRoster zip of UTF-8 CSV files."), code="bad_file", field="file") from exc
    if "manifest" not in files:
        raise DomainError(_("The zip has no manifest.csv."), code="bad_file", field="file")
    return files
