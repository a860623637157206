"""An independent check of a OneRoster 1.2 CSV package, driven by the CSV tables kept as data
(``spec_1p2/csv_tables.json``), written apart from the exporter (it imports nothing of ``classbook``).

It is our reading of the 1.2 CSV binding, not an IMS-certified validator (none is publicly available; see
docs/oneroster.md, "Validation"). Beyond the columns it checks what the exporter's own checker does not: CEDS
grade codes, that a result's student holds the student role, a line item's min <= max and a score inside them,
and that sessions and enrolments do not end before they begin.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

TABLES = json.loads((Path(__file__).parent / "spec_1p2" / "csv_tables.json").read_text(encoding="utf-8"))
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def read_package(data: bytes) -> dict[str, list[list[str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {
            name[: -len(".csv")]: list(csv.reader(io.StringIO(zf.read(name).decode("utf-8-sig"))))
            for name in zf.namelist()
        }


def _date(value: str) -> bool:
    try:
        return len(value) == 10 and bool(dt.date.fromisoformat(value))
    except ValueError:
        return False


def _format_problem(kind: str, spec: list, value: str) -> str | None:
    common = TABLES["common"]
    if kind == "status":
        return None if value in common["status"] else "not a status"
    if kind == "datetime":
        return None if DATETIME.match(value) else "not a UTC date-time"
    if kind == "date":
        return None if _date(value) else "not a date"
    if kind == "date_or_datetime":
        return None if _date(value) or DATETIME.match(value) else "not a date or UTC date-time"
    if kind == "year":
        return None if re.fullmatch(r"\d{4}", value) else "not a year"
    if kind == "float":
        return None if FLOAT.match(value) else "not a number"
    if kind == "boolean":
        return None if value in {"true", "false"} else "not a boolean"
    if kind == "enum":
        return None if value in spec[3] or value.startswith(common["extension_prefix"]) else "not in the vocabulary"
    if kind == "grades":
        bad = [g for g in _items(value) if g not in common["grades"] and not g.startswith(common["extension_prefix"])]
        return f"not CEDS grades: {bad}" if bad else None
    return None


def _items(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def validate(files: dict[str, list[list[str]]]) -> list[str]:
    """Every problem of the package, as ``file.csv:row:column: message`` (row 1 = the header)."""
    problems = _manifest(files)
    modes = {
        r[0][len("file.") :]: r[1] for r in files.get("manifest", [])[1:] if len(r) == 2 and r[0].startswith("file.")
    }
    tables: dict[str, list[dict[str, str]]] = {}
    for name, rows in files.items():
        if name == "manifest":
            continue
        if name not in TABLES["files"]:
            problems.append(f"{name}.csv:0:: no table for this file")
            continue
        columns = TABLES["files"][name]
        if not rows or rows[0] != [c[0] for c in columns]:
            problems.append(f"{name}.csv:1:: the header is not the 1.2 header")
            continue
        tables[name] = []
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != len(columns):
                problems.append(f"{name}.csv:{number}:: {len(row)} fields")
                continue
            record = dict(zip(rows[0], row, strict=True))
            tables[name].append(record | {"#": str(number)})
            problems += _row(name, number, columns, record, modes.get(name, "absent"))
        ids = [r["sourcedId"] for r in tables[name]]
        problems += [f"{name}.csv:0:sourcedId: {i} appears twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if all(modes.get(n) != "delta" for n in tables):
        problems += _references(tables)
    return problems + _meaning(tables)


def _manifest(files: dict[str, list[list[str]]]) -> list[str]:
    spec = TABLES["manifest"]
    rows = files.get("manifest")
    if not rows or rows[0] != spec["header"]:
        return ["manifest.csv:1:: missing or wrong header"]
    props = {r[0]: r[1] for r in rows[1:] if len(r) == 2}
    problems = [f"manifest.csv:0:{k}: not {v}" for k, v in spec["versions"].items() if props.get(k) != v]
    for name in spec["files"]:
        mode = props.get(f"file.{name}", "absent")
        if mode not in spec["modes"]:
            problems.append(f"manifest.csv:0:file.{name}: mode {mode}")
        if (mode != "absent") != (name in files):
            problems.append(
                f"manifest.csv:0:file.{name}: {mode} but the file is {'there' if name in files else 'missing'}"
            )
    return problems


def _row(name: str, number: int, columns: list, record: dict[str, str], mode: str) -> list[str]:
    problems = []
    for column in columns:
        field, required, kind = column[0], column[1], column[2]
        value = record[field]
        if not value:
            if required:
                problems.append(f"{name}.csv:{number}:{field}: required")
            continue
        message = _format_problem(kind, column, value)
        if message:
            problems.append(f"{name}.csv:{number}:{field}: {message}")
    if mode == "bulk" and record["status"] not in {"", "active"}:
        problems.append(f"{name}.csv:{number}:status: a bulk file holds active rows")
    if mode == "delta" and not (record["status"] and record["dateLastModified"]):
        problems.append(f"{name}.csv:{number}:status: a delta row needs status and dateLastModified")
    return problems


def _references(tables: dict[str, list[dict[str, str]]]) -> list[str]:
    ids = {name: {r["sourcedId"] for r in rows} for name, rows in tables.items()}
    problems = []
    for name, rows in tables.items():
        for column in TABLES["files"][name]:
            if column[2] not in {"ref", "refs"} or column[3] not in ids:
                continue
            for r in rows:
                for ref in _items(r[column[0]]) if column[2] == "refs" else [r[column[0]]] if r[column[0]] else []:
                    if ref not in ids[column[3]]:
                        problems.append(f"{name}.csv:{r['#']}:{column[0]}: {ref} is not in {column[3]}.csv")
    return problems


def _meaning(tables: dict[str, list[dict[str, str]]]) -> list[str]:
    problems = []
    students = {r["userSourcedId"] for r in tables.get("roles", []) if r["role"] == "student"}
    for r in tables.get("results", []):
        if "roles" in tables and r["studentSourcedId"] not in students:
            problems.append(f"results.csv:{r['#']}:studentSourcedId: not a student")
    bounds = {}
    for r in tables.get("lineItems", []):
        lo, hi = r["resultValueMin"], r["resultValueMax"]
        if lo and hi and FLOAT.match(lo) and FLOAT.match(hi):
            bounds[r["sourcedId"]] = (float(lo), float(hi))
            if float(lo) > float(hi):
                problems.append(f"lineItems.csv:{r['#']}:resultValueMin: above resultValueMax")
    for r in tables.get("results", []):
        lo, hi = bounds.get(r["lineItemSourcedId"], (None, None))
        if r["score"] and FLOAT.match(r["score"]) and lo is not None and not lo <= float(r["score"]) <= hi:
            problems.append(f"results.csv:{r['#']}:score: outside the line item's range")
    for name, start, end in (("academicSessions", "startDate", "endDate"), ("enrollments", "beginDate", "endDate")):
        for r in tables.get(name, []):
            if r[start] and r[end] and r[end] < r[start]:
                problems.append(f"{name}.csv:{r['#']}:{end}: before {start}")
    return problems
