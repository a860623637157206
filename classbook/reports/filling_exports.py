"""The journal filling reports as tables (page, XLSX, PDF) and charts, from the read models of ``filling``.

Written by ``exports.workbook`` and ``exports.pdf`` and drawn by ``charts``, like every other report.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from classbook.reports import charts
from classbook.reports.filling import (
    COMPONENTS,
    Activity,
    ActivityReport,
    FillingLine,
    FillingReport,
    component_labels,
    quality_formula,
)

COLOURS = {"topic": "#2f6db5", "homework": "#1a7f37", "register": "#f0a830", "score": "#8e5bb5"}


def formulas(report: FillingReport) -> list[str]:
    """What the columns mean, printed under the filling report (docs/reports.md)."""
    out = [
        _(
            "Lessons given = lessons of the journal dated in the days, up to today, not cancelled by the timetable; "
            "a substitute's lessons count in the journal they were given for."
        ),
        _("Without a topic, without homework = lessons given whose topic (homework) is empty."),
        _(
            "Register not taken = lessons given with no attendance recorded and the register not marked taken "
            "(the “Registers not taken” report's definition)."
        ),
        _(
            "Marks = marks with a value at the lessons; entered late = of them, marks entered or changed after the "
            "school's entry deadline on the lesson day or on a later day (R2.2)."
        ),
        _("Remarks = control remarks on the journal written in the days: open (not fixed yet) and fixed."),
    ]
    if report.checked:
        out.append(
            _(
                "Students = students in the journal at the period's end; below the rule = those with fewer marks "
                "in the period than the school's accumulation rule asks (R2.6), as on the accumulation control page; "
                "fewest marks = the smallest number of marks a student has."
            )
        )
    else:
        out.append(_("The accumulation rule is checked over a study period only (and when the school checks it)."))
    return out


def _cells(line: FillingLine) -> list[Any]:
    f = line.figures
    return [
        f.lessons,
        f.substitute,
        f.no_topic,
        f.no_homework,
        f.no_register,
        f.marks,
        f.late_marks,
        f.students,
        f.below_rule,
        f.min_marks,
        f.remarks_open,
        f.remarks_fixed,
    ]


def filling_table(report: FillingReport) -> tuple[list[str], list[list[Any]]]:
    first = {"journal": _("Journal"), "teacher": _("Teacher"), "class": _("Class")}[report.group_by]
    head = [
        first,
        _("Lessons given"),
        _("by a substitute"),
        _("without a topic"),
        _("without homework"),
        _("register not taken"),
        _("Marks"),
        _("entered late"),
        _("Students"),
        _("below the rule"),
        _("fewest marks"),
        _("Open remarks"),
        _("Fixed remarks"),
    ]
    rows = [[line.label, *_cells(line)] for line in report.lines]
    if len(report.lines) > 1:
        rows.append([report.total.label, *_cells(report.total)])
    return head, rows


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def filling_charts(report: FillingReport) -> list[str]:
    """Per line, the share of lessons given with a topic, with homework and with the register taken."""
    shown = [line for line in report.lines if line.figures.lessons][:40]
    if not shown:
        return []
    series = [
        charts.Series("topic", _("with a topic"), COLOURS["topic"]),
        charts.Series("homework", _("with homework"), COLOURS["homework"]),
        charts.Series("register", _("register taken"), COLOURS["register"]),
    ]
    rows = []
    for line in shown:
        f = line.figures
        rows.append(
            (
                line.label,
                {
                    "topic": _share(f.lessons - f.no_topic, f.lessons),
                    "homework": _share(f.lessons - f.no_homework, f.lessons),
                    "register": _share(f.lessons - f.no_register, f.lessons),
                },
            )
        )
    return [charts.bars("chart-filling", _("Lessons filled in, per cent"), series, rows)]


# --- The quality indicator (R6.11) ------------------------------------------------------------------------


def quality_notes(report: FillingReport) -> list[str]:
    return [
        quality_formula(report.quality),
        _(
            "Each component in per cent: lessons the teacher gave themselves with a topic, with homework, with the "
            "register taken ÷ those lessons; marks entered on time ÷ marks; students with enough marks ÷ students "
            "(a study period only); remarks fixed ÷ remarks written in the days."
        ),
    ]


def quality_table(report: FillingReport) -> tuple[list[str], list[list[Any]]]:
    labels = component_labels()
    head = [_("Teacher"), *[f"{labels[k]}, %" for k in COMPONENTS], _("Quality indicator")]
    rows = []
    for line in report.teachers:
        shares = {c.key: c.share for c in line.components}
        rows.append([line.label, *[shares.get(k) for k in COMPONENTS], line.score])
    return head, rows


def quality_charts(report: FillingReport) -> list[str]:
    rows: list[tuple[str, dict[str, Decimal | None]]] = []
    for line in report.teachers[:60]:
        if line.score is not None:
            rows.append((line.label, {"score": line.score}))
    if not rows:
        return []
    series = [charts.Series("score", _("Quality indicator"), COLOURS["score"])]
    return [charts.bars("chart-quality", _("Journal-keeping quality by teacher"), series, rows, unit="")]


# --- Daily user activity (R6.3) ---------------------------------------------------------------------------


def activity_table(report: ActivityReport) -> tuple[list[str], list[list[Any]]]:
    head = [
        _("User"),
        _("Roles"),
        _("Logins"),
        _("Lessons added"),
        _("Marks"),
        _("Absences"),
        _("Topics"),
        _("Homework"),
    ]
    rows: list[list[Any]] = [[a.name, a.roles, *_activity_cells(a)] for a in report.users]
    for a in report.by_role:
        rows.append([_("All: %(roles)s") % {"roles": a.roles}, "", *_activity_cells(a)])
    if report.users:
        rows.append([report.total.name, "", *_activity_cells(report.total)])
    return head, rows


def _activity_cells(a: Activity) -> list[int]:
    return [a.logins, a.lessons, a.marks, a.absences, a.topics, a.homework]


def activity_notes() -> list[str]:
    return [
        _("Logins = the user's logins to their account on the days (their school's members only)."),
        _(
            "Lessons added, marks, absences, topics, homework = entries the user wrote in the school's journals on "
            "the days (every writing counts: a mark changed twice counts twice; a topic typed when adding a lesson "
            "counts as the lesson added); roles are the user's current roles."
        ),
    ]
