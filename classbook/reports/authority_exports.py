"""The authority's comparison as a table, charts, XLSX and PDF (the same writers as the schools' reports)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.report_runs import compared_schools
from classbook.reports import authority, charts, exports
from classbook.reports.exports import RATE_COLOURS

if TYPE_CHECKING:
    from classbook.people.models import User
    from classbook.reports.models import ReportRun
    from classbook.reports.runs import Progress


def table(comparison: authority.Comparison) -> tuple[list[str], list[list[Any]]]:
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
    rows: list[list[Any]] = []
    for line in comparison.lines:
        p = line.progress
        rows.append(
            [
                line.name,
                line.period if line.period is not None else _("no such period"),
                p.students if p else None,
                p.average if p else None,
                p.success_rate if p else None,
                p.quality_rate if p else None,
                p.sou if p and line.shows_sou else None,
                line.missed if line.period else None,
                line.excused if line.period else None,
                line.unexcused if line.period else None,
                line.illness if line.period else None,
                line.late if line.period else None,
                line.excused_share,
            ]
        )
    return head, rows


def chart_list(comparison: authority.Comparison) -> list[str]:
    lines = [line for line in comparison.lines if line.period is not None]
    if not lines:
        return []
    rates = charts.bars(
        "chart-schools-rates",
        _("Success and quality by school, per cent"),
        [
            charts.Series("success", _("Success"), RATE_COLOURS["success"]),
            charts.Series("quality", _("Quality"), RATE_COLOURS["quality"]),
        ],
        [
            (
                line.name,
                {
                    "success": line.progress.success_rate if line.progress else None,
                    "quality": line.progress.quality_rate if line.progress else None,
                },
            )
            for line in lines
        ],
    )
    missed = charts.stacked_bars(
        "chart-schools-missed",
        _("Lessons missed by school"),
        [
            charts.Series("excused", _("excused"), "#74c476"),
            charts.Series("unexcused", _("unexcused"), "#c62828"),
        ],
        [(line.name, {"excused": line.excused, "unexcused": line.unexcused}) for line in lines],
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


def file(comparison: authority.Comparison, authority_name: str, fmt: str) -> bytes:
    title = _("Comparison of schools")
    head, rows = table(comparison)
    if fmt == "xlsx":
        return exports.workbook(title, [authority_name, f"{title}: {comparison.choice.label}"], head, rows, notes())
    context = {
        "title": title,
        "about": comparison.choice.label,
        "head": head,
        "rows": rows,
        "charts": chart_list(comparison),
        "notes": notes(),
        "school": authority_name,
        "printed_on": timezone.localdate(),
    }
    return exports.pdf("reports/attendance_pdf.html", context, "https://localhost/")


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
    comparison = authority.compare(user, schools, cal, choice, progress)
    return file(comparison, run.authority.name, run.fmt), f"schools-{run.authority.pk}.{run.fmt}"
