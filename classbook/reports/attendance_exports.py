"""The attendance reports as tables (page, XLSX, PDF) and charts, from the read models of ``attendance``.

The XLSX and PDF are written by ``exports.workbook`` and ``exports.pdf`` (numbers as numbers, header frozen;
WeasyPrint), the charts by ``charts`` — the same as the other reports'.
"""

from __future__ import annotations

from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from classbook.reports import charts
from classbook.reports.attendance import AttendanceLine, AttendanceReport, ClassRegisters, Streak

COLOURS = {"excused_illness": "#4a90c2", "excused_other": "#1a7f37", "unexcused": "#c62828"}


def _day(value: Any) -> str:
    return value.strftime("%d.%m.%Y")


def formulas() -> list[str]:
    """What the columns mean, printed under every attendance report (docs/reports.md)."""
    return [
        _(
            "Missed = lessons whose attendance code counts as a missed lesson; excused = of them, those whose code "
            "is excused or whose reason the class teacher recorded as valid (directly or by accepting a parent's "
            "report); unexcused = missed − excused; illness = missed lessons whose kind of reason is illness."
        ),
        _("Late = late arrivals (codes meaning late); a late arrival is not a missed lesson."),
        _(
            "Whole days = days on which the student missed every lesson they had: the lessons held that day "
            "(cancelled ones left out) of their class, and of their own subgroup; counted in the class teacher's "
            "and the administration's reports only, never per subject."
        ),
    ]


def _line_cells(line: AttendanceLine) -> list[Any]:
    return [line.missed, line.excused, line.unexcused, line.illness, line.days, line.days_excused, line.late]


def _figure_head() -> list[str]:
    return [
        _("Lessons missed"),
        _("excused"),
        _("unexcused"),
        _("illness"),
        _("Whole days missed"),
        _("of them excused"),
        _("Late"),
    ]


def report_table(report: AttendanceReport) -> tuple[list[str], list[list[Any]]]:
    first = {"class": _("Class"), "student": _("Student"), "subject": _("Subject")}[report.group_by]
    rows = [[_label(line), *_line_cells(line)] for line in report.lines]
    if report.total is not None and report.lines:
        rows.append([report.total.label, *_line_cells(report.total)])
    return [first, *_figure_head()], rows


def _label(line: AttendanceLine) -> str:
    if line.left_on is None:
        return line.label
    return _("%(name)s (left %(date)s)") % {"name": line.label, "date": _day(line.left_on)}


def report_charts(report: AttendanceReport) -> list[str]:
    """Missed lessons by week, stacked by reason; and by line when there are a few lines."""
    series = [
        charts.Series("excused_illness", _("excused, illness"), COLOURS["excused_illness"]),
        charts.Series("excused_other", _("excused, other reasons"), COLOURS["excused_other"]),
        charts.Series("unexcused", _("unexcused"), COLOURS["unexcused"]),
    ]
    out = []
    if report.weeks:
        out.append(
            charts.stacked_bars(
                "chart-weeks",
                _("Missed lessons by week"),
                series,
                [
                    (
                        _("week of %(date)s") % {"date": date_format(w.start, "SHORT_DATE_FORMAT")},
                        {
                            "excused_illness": w.excused_illness,
                            "excused_other": w.excused_other,
                            "unexcused": w.unexcused,
                        },
                    )
                    for w in report.weeks
                ],
            )
        )
    shown = [line for line in report.lines if line.missed]
    if shown and len(shown) <= 40:
        two = [
            charts.Series("excused", _("excused"), COLOURS["excused_other"]),
            charts.Series("unexcused", _("unexcused"), COLOURS["unexcused"]),
        ]
        out.append(
            charts.stacked_bars(
                "chart-lines",
                _("Missed lessons"),
                two,
                [(line.label, {"excused": line.excused, "unexcused": line.unexcused}) for line in shown],
            )
        )
    return out


def streak_table(streaks: list[Streak]) -> tuple[list[str], list[list[Any]]]:
    head = [_("Student"), _("Class"), _("From"), _("Until"), _("School days in a row")]
    return head, [[s.name, s.school_class, _day(s.first), _day(s.last), s.days] for s in streaks]


def register_table(classes: list[ClassRegisters]) -> tuple[list[str], list[list[Any]]]:
    head = [_("Class"), _("Lessons held"), _("Registers not taken"), _("Lesson"), _("Subject"), _("Teacher")]
    rows: list[list[Any]] = []
    for c in classes:
        for i, m in enumerate(c.missing):
            teacher = m.teacher + (f" ({_('substitute')})" if m.substitute else "")
            first = [c.name, c.held, len(c.missing)] if i == 0 else ["", None, None]
            rows.append([*first, m.number, m.subject, teacher])
    return head, rows
