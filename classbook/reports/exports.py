"""The reports as tables (the page, XLSX) and as PDFs, from the same read models and the same charts.

XLSX: numbers are written as numbers (a mark "10" is the number 10, an average a decimal), the
header row is frozen, and the first rows say what the sheet is (school, period, formulas). PDF: the
report's ``*_pdf.html`` template through WeasyPrint, as the diary's letters are printed.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from classbook.reports import charts
from classbook.reports.models import RateBasis, ReportSettings
from classbook.reports.queries import ProgressReport, SummarySheet, level_headers
from classbook.schools.models import School

LEVEL_COLOURS = {
    "high": "#1a7f37",
    "sufficient": "#74c476",
    "average": "#f0a830",
    "low": "#c62828",
    "not_attested": "#6b6b6b",
    "exempt": "#b8b8b8",
    "passed": "#4a90c2",
}
# The downloads every report offers, with their content types.
FORMATS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def download(content: bytes, fmt: str, filename: str) -> HttpResponse:
    """A report file as an attachment ``<filename>.<fmt>`` that no cache keeps."""
    response = HttpResponse(content, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


RATE_COLOURS = {"success": "#2f6db5", "quality": "#1a7f37", "sou": "#8e5bb5"}

_NUMBER = re.compile(r"^\d+$")


# --- What the report says about itself --------------------------------------------------------------


def formulas(settings: ReportSettings) -> list[str]:
    """The report's definitions as the school set them, printed under every progress report."""
    if settings.basis == RateBasis.STUDENTS:
        success = _(
            "Success rate = the number of assessed students without a grade of the lowest level (1-3 on the "
            "12-point scale, “2” on the 5-point scale, “not passed”) ÷ the number of assessed students × 100 %."
        )
        quality = _(
            "Quality rate = the number of assessed students whose grades are all sufficient or high (7-12; "
            "“4” and “5”; “passed”) ÷ the number of assessed students × 100 %."
        )
    else:
        success = _(
            "Success rate = the number of grades that are not of the lowest level (1-3 on the 12-point scale, "
            "“2” on the 5-point scale, “not passed”) ÷ the number of grades × 100 % (exempt ones left out)."
        )
        quality = _(
            "Quality rate = the number of sufficient and high grades (7-12; “4” and “5”; “passed”) ÷ the number "
            "of grades × 100 % (exempt ones left out)."
        )
    lines = [
        success,
        quality,
        _("“н/а” counts as a failing grade.")
        if settings.not_attested_fails
        else _("“н/а” is left out of the rates, like exempt."),
        _("Average mark = the sum of the numeric grades ÷ their number (“н/а” and exempt are not grades)."),
        _("Students are counted at the level of their lowest grade in the line; exempt students are not assessed."),
        _("Students who left the class before the period's last day are counted in it.")
        if settings.include_departed
        else _("Students who left the class before the period's last day are left out."),
    ]
    if settings.show_sou:
        lines.append(
            _("СОУ = (100 × n5 + 64 × n4 + 36 × n3 + 16 × n2 + 7 × n(н/а)) ÷ the number of grades, in per cent.")
        )
    return lines


def level_series(school: School) -> list[charts.Series]:
    headers = level_headers(school)
    return [
        charts.Series(key, headers[key], LEVEL_COLOURS[key]) for key in ("high", "sufficient", "average", "low")
    ] + [
        charts.Series("not_attested", "н/а", LEVEL_COLOURS["not_attested"]),
        charts.Series("exempt", _("exempt"), LEVEL_COLOURS["exempt"]),
    ]


def progress_charts(report: ProgressReport, school: School) -> list[str]:
    """Students by level (stacked) and the rates (bars) of every line: two SVGs."""
    lines = report.lines
    if not lines:
        return []
    levels = charts.stacked_bars(
        "chart-levels",
        _("Students by their lowest grade"),
        level_series(school),
        [(line.label, {**line.by_level, "not_attested": line.not_attested, "exempt": line.exempt}) for line in lines],
    )
    rates = [
        charts.Series("success", _("Success"), RATE_COLOURS["success"]),
        charts.Series("quality", _("Quality"), RATE_COLOURS["quality"]),
    ]
    if report.settings.show_sou:
        rates.append(charts.Series("sou", _("СОУ"), RATE_COLOURS["sou"]))
    bars = charts.bars(
        "chart-rates",
        _("Success and quality, per cent"),
        rates,
        [(line.label, {"success": line.success_rate, "quality": line.quality_rate, "sou": line.sou}) for line in lines],
    )
    return [levels, bars]


def summary_chart(sheet: SummarySheet) -> str:
    rows: list[tuple[str, dict[str, Decimal | None]]] = [
        (s.name, {"average": s.average}) for s in sheet.subjects if s.average is not None
    ]
    if not rows:
        return ""
    maximum = Decimal(12) if any(s.average is not None and s.average > 5 for s in sheet.subjects) else Decimal(5)
    return charts.bars(
        "chart-subjects",
        _("Average grade by subject"),
        [charts.Series("average", _("Average"), RATE_COLOURS["success"])],
        rows,
        maximum=maximum,
        unit="",
    )


# --- Tables: the rows the page, the XLSX and the PDF show ------------------------------------------------


def progress_table(report: ProgressReport, school: School) -> tuple[list[str], list[list[Any]]]:
    headers = level_headers(school)
    head = [
        _("Line"),
        _("Students"),
        *[headers[k] for k in ("high", "sufficient", "average", "low")],
        "н/а",
        _("exempt"),
        _("Average mark"),
        _("Success, %"),
        _("Quality, %"),
    ]
    if report.settings.show_sou:
        head.append(_("СОУ, %"))
    rows = []
    for line in [*report.lines, *([report.total] if report.total and len(report.lines) > 1 else [])]:
        row: list[Any] = [
            line.label,
            line.students,
            *[line.by_level[k] for k in ("high", "sufficient", "average", "low")],
            line.not_attested,
            line.exempt,
            line.average,
            line.success_rate,
            line.quality_rate,
        ]
        if report.settings.show_sou:
            row.append(line.sou)
        rows.append(row)
    return head, rows


def summary_table(sheet: SummarySheet) -> tuple[list[str], list[list[Any]], list[Any]]:
    head = [_("Student"), *[s.name for s in sheet.subjects], _("Average mark"), "н/а"]
    rows = []
    for st in sheet.students:
        name = (
            st.name
            if st.left_on is None
            else _("%(name)s (left %(date)s)")
            % {
                "name": st.name,
                "date": st.left_on.strftime("%d.%m.%Y"),
            }
        )
        rows.append(
            [name, *[_cell(st.cells.get(s.subject_id, "")) for s in sheet.subjects], st.average, st.not_attested]
        )
    foot = [
        _("Average mark"),
        *[s.average for s in sheet.subjects],
        sheet.average,
        sum(s.not_attested for s in sheet.subjects),
    ]
    return head, rows, foot


def summary_lines(sheet: SummarySheet) -> list[dict[str, Any]]:
    """The sheet's rows for the page and the PDF: each cell with whether it is a corrected grade."""
    return [
        {
            "student": st,
            "cells": [(st.cells.get(s.subject_id, ""), s.subject_id in st.corrected) for s in sheet.subjects],
        }
        for st in sheet.students
    ]


def _cell(code: str) -> Any:
    """A mark that is a whole number is written as the number (so a spreadsheet can sum it)."""
    return int(code) if _NUMBER.match(code) else code


# --- XLSX ---------------------------------------------------------------------------------------------


def workbook(title: str, about: list[str], head: list[str], rows: list[list[Any]], notes: list[str] = ()) -> bytes:  # type: ignore[assignment]
    """One sheet: the lines of ``about``, the header (frozen under it), the rows, then ``notes``."""
    from openpyxl import Workbook  # imported here: only exports need it
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    for line in about:
        ws.append([line])
    ws.append(head)
    header_row = ws.max_row
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
    ws.freeze_panes = ws.cell(row=header_row + 1, column=2)
    for note in notes:
        ws.append([note])
    ws.column_dimensions["A"].width = 32
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- PDF ----------------------------------------------------------------------------------------------


def pdf(template: str, context: dict[str, Any], base_url: str) -> bytes:
    from weasyprint import HTML  # imported here: slow to import, needed only for printing

    html = render_to_string(template, context)
    return bytes(HTML(string=html, base_url=base_url).write_pdf())
