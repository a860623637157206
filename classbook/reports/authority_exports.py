"""The authority's comparison as a table, charts, XLSX and PDF (the same writers as the schools' reports),
written from its plain data (``authority.as_data``, or a background run's stored JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.report_runs import compared_schools
from classbook.reports import authority, charts, exports
from classbook.reports.exports import RATE_COLOURS

# The figures of a school's line, in the table's order after its name and period (``authority.line_data``).
FIGURES = (
    "students",
    "average",
    "success_rate",
    "quality_rate",
    "sou",
    "missed",
    "excused",
    "unexcused",
    "illness",
    "late",
    "excused_share",
)

if TYPE_CHECKING:
    from classbook.people.models import User
    from classbook.reports.models import ReportRun
    from classbook.reports.runs import Progress


def table(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    head = [
        _("School"),
        _("Period"),
        _("Students"),
        _("Average mark"),
        _("Success, %"),
        _("Quality, %"),
        _("СОУ, %"),
        _("Lessons missed"),
        _("excused"),
        _("unexcused"),
        _("of them for illness"),
        _("Late arrivals"),
        _("Excused, %"),
    ]
    rows = [
        [
            line["name"],
            line["period"] if line["period"] is not None else _("no such period"),
            *(line[key] for key in FIGURES),
        ]
        for line in data["schools"]
    ]
    return head, rows


def chart_list(data: dict[str, Any]) -> list[str]:
    lines = [line for line in data["schools"] if line["period"] is not None]
    if not lines:
        return []
    rates = charts.bars(
        "chart-schools-rates",
        _("Success and quality by school, per cent"),
        [
            charts.Series("success", _("Success"), RATE_COLOURS["success"]),
            charts.Series("quality", _("Quality"), RATE_COLOURS["quality"]),
        ],
        [(line["name"], {"success": line["success_rate"], "quality": line["quality_rate"]}) for line in lines],
    )
    missed = charts.stacked_bars(
        "chart-schools-missed",
        _("Lessons missed by school"),
        [
            charts.Series("excused", _("excused"), "#74c476"),
            charts.Series("unexcused", _("unexcused"), "#c62828"),
        ],
        [(line["name"], {"excused": line["excused"], "unexcused": line["unexcused"]}) for line in lines],
    )
    return [rates, missed]


def notes() -> list[str]:
    return [
        _(
            "Progress and quality: each school's total line of its progress report for its own period of that "
            "name, by the school's own definitions of the rates (its report settings)."
        ),
        _(
            "Lessons missed, excused, for illness and late arrivals over the days of the school's period, as the "
            "school's attendance report counts them; excused share = excused ÷ missed × 100 %."
        ),
        _("School-level figures only: no student or teacher is named."),
    ]


def context(data: dict[str, Any]) -> dict[str, Any]:
    """What the page shows of a comparison (its table, charts and notes)."""
    head, rows = table(data)
    return {"data": data, "head": head, "rows": rows, "charts": chart_list(data), "notes": notes()}


def file(data: dict[str, Any], authority_name: str, fmt: str) -> bytes:
    """XLSX or PDF (``fmt``) of a comparison; JSON is the data itself (a background run's ``json``)."""
    if fmt == "json":
        return authority.dumps(data)
    title = _("Comparison of schools")
    label = data["period"]["label"]
    head, rows = table(data)
    if fmt == "xlsx":
        return exports.workbook(title, [authority_name, f"{title}: {label}"], head, rows, notes())
    printed = {
        "title": title,
        "about": label,
        "head": head,
        "rows": rows,
        "charts": chart_list(data),
        "notes": notes(),
        "school": authority_name,
        "printed_on": timezone.localdate(),
    }
    return exports.pdf("reports/attendance_pdf.html", printed, "https://localhost/")


def build_file(run: ReportRun, user: User, progress: Progress) -> tuple[bytes, str]:
    """The background build of an authority's run: the schools the viewer still views, the chosen period."""
    from classbook.reports.runs import RunRefused

    assert run.authority is not None
    schools = list(compared_schools(user, run.authority))
    if not schools:
        raise RunRefused(_("You may no longer read this report."))
    cal = authority.calendars(schools)
    key = str(run.params.get("period", ""))
    choice = next((c for c in cal.choices() if c.key == key), None)
    if choice is None:
        raise RunRefused(_("The report's filters are not valid; open the report and choose them again."))
    data = authority.as_data(authority.compare(user, schools, cal, choice, progress))
    return file(data, run.authority.name, run.fmt), f"schools-{run.authority.pk}.{run.fmt}"
