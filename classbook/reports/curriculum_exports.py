"""The curriculum reports as tables, charts and notes: the page, the XLSX and the PDF show the same rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from classbook.journal.models import LessonType
from classbook.reports import charts, exports
from classbook.reports.curriculum import WORKS, CurriculumLine, CurriculumReport, GroupResults, YearTable
from classbook.reports.models import GroupBy, ReportSettings
from classbook.reports.queries import ProgressLine, ProgressReport
from classbook.schools.models import School


def curriculum_notes(settings: ReportSettings) -> list[str]:
    """How the curriculum statistics are computed, printed under the report (docs/reports.md)."""
    return [
        _(
            "Plan (year) = the hours of the journal's calendar-thematic plan. Planned for the period = the plan's "
            "hours the plan puts on the period's lessons (a lesson cancelled after the plan was bound keeps its hour)."
        ),
        _(
            "Given = the journal's lessons of the period up to today that were not cancelled, substitutes' lessons "
            "included. Due = the plan's hours on those lessons."
        ),
        _(
            "Behind = the plan's hours left on lessons cancelled up to today (the plan was not bound again), plus "
            "Σ over journals of (due − given) where positive. Beyond the plan = Σ over journals of (given − due) "
            "where positive: lessons with no planned hour (no plan, or the plan is over)."
        ),
        _("Done = given ÷ planned for the period × 100 %."),
        _(
            "A lesson is a control, laboratory or practical work when its type in the journal says so; the plan's "
            "hours by type come from the plan's topics."
        ),
        _(
            "Control works' results: the marks of work types marked “control work”, at the period's lessons; "
            "average, success and quality as in the progress report:"
        ),
        *exports.formulas(settings),
    ]


def _works_head() -> list[str]:
    return [_("%(type)s: given / due") % {"type": LessonType(t).label} for t in WORKS]


def curriculum_table(report: CurriculumReport) -> tuple[list[str], list[list[Any]]]:
    head = [
        _("Line"),
        _("Journals"),
        _("Hours per week"),
        _("Plan (year)"),
        _("Planned for the period"),
        _("Due by the day"),
        _("Given"),
        _("of them by substitutes"),
        _("Behind"),
        _("Beyond the plan"),
        _("Done, %"),
        *_works_head(),
        _("Control-work marks"),
        _("Average mark"),
        _("Success, %"),
        _("Quality, %"),
    ]
    lines = [*report.lines, *([report.total] if report.total and len(report.lines) > 1 else [])]
    return head, [_curriculum_row(line) for line in lines]


def _curriculum_row(line: CurriculumLine) -> list[Any]:
    control = line.control
    return [
        line.label,
        line.journals,
        line.hours_per_week,
        line.planned_year,
        line.planned,
        line.due,
        line.conducted,
        line.by_substitute,
        line.behind,
        line.ahead,
        line.completion,
        *[f"{line.by_type[t].conducted} / {line.by_type[t].due}" for t in WORKS],
        control.grades if control else 0,
        control.average if control else None,
        control.success_rate if control else None,
        control.quality_rate if control else None,
    ]


def types_table(report: CurriculumReport) -> tuple[list[str], list[list[Any]]]:
    """The total's lessons by every lesson type: planned in the year, due and given in the period."""
    head = [_("Lesson type"), _("Plan (year)"), _("Due by the day"), _("Given")]
    if report.total is None:
        return head, []
    rows = [
        [LessonType(t).label, counts.planned, counts.due, counts.conducted]
        for t, counts in report.total.by_type.items()
        if counts.planned or counts.due or counts.conducted
    ]
    return head, rows


def curriculum_charts(report: CurriculumReport) -> list[str]:
    lines = report.lines
    if not lines:
        return []
    done = charts.bars(
        "chart-curriculum-done",
        _("Lessons given of those planned for the period, per cent"),
        [charts.Series("done", _("Done"), exports.RATE_COLOURS["success"])],
        [(line.label, {"done": line.completion}) for line in lines],
        maximum=max([Decimal(100), *[line.completion for line in lines if line.completion is not None]]),
    )
    rates = charts.bars(
        "chart-curriculum-control",
        _("Control works: success and quality, per cent"),
        [
            charts.Series("success", _("Success"), exports.RATE_COLOURS["success"]),
            charts.Series("quality", _("Quality"), exports.RATE_COLOURS["quality"]),
        ],
        [
            (line.label, {"success": line.control.success_rate, "quality": line.control.quality_rate})
            for line in lines
            if line.control is not None
        ],
    )
    return [done, rates] if any(line.control for line in lines) else [done]


# --- The yearly summary table of success ----------------------------------------------------------------


def year_table_rows(table: YearTable, school: School) -> tuple[list[str], list[list[Any]], list[int]]:
    """The head, the rows, and the indexes of the section and total rows (shown in bold)."""
    rows: list[list[Any]] = []
    marked: list[int] = []
    head: list[str] = []
    sections = [(_("Class %(name)s") % {"name": s.label}, s) for s in table.classes] + [
        (_("Year level %(name)s") % {"name": s.label}, s) for s in table.year_levels
    ]
    for title, section in sections:
        report = ProgressReport(
            scope=table.scope, group_by=GroupBy.SUBJECT, settings=table.settings, lines=section.lines
        )
        report.total = section.total
        head, body = exports.progress_table(report, school)
        marked.append(len(rows))
        rows.append([title, *[""] * (len(head) - 1)])
        rows += body
        if len(section.lines) > 1:
            marked.append(len(rows) - 1)
    if table.total is not None:
        report = ProgressReport(
            scope=table.scope, group_by=GroupBy.SCHOOL, settings=table.settings, lines=[_school_line(table.total)]
        )
        head, body = exports.progress_table(report, school)
        marked.append(len(rows))
        rows += body
    head = (
        head
        or exports.progress_table(
            ProgressReport(scope=table.scope, group_by=GroupBy.SUBJECT, settings=table.settings), school
        )[0]
    )
    head[0] = _("Subject")
    return head, rows, marked


def _school_line(line: ProgressLine) -> ProgressLine:
    return ProgressLine(**{**line.__dict__, "label": _("Whole school")})


def year_table_chart(table: YearTable) -> list[str]:
    """Success and quality of every class (its total line)."""
    rows = [
        (s.label, {"success": s.total.success_rate, "quality": s.total.quality_rate})
        for s in table.classes
        if s.total is not None
    ]
    if not rows:
        return []
    return [
        charts.bars(
            "chart-year-table",
            _("Success and quality by class, per cent"),
            [
                charts.Series("success", _("Success"), exports.RATE_COLOURS["success"]),
                charts.Series("quality", _("Quality"), exports.RATE_COLOURS["quality"]),
            ],
            rows,
        )
    ]


# --- A college group's results --------------------------------------------------------------------------


def group_table(results: GroupResults, school: School) -> tuple[list[str], list[list[Any]]]:
    head, rows = exports.progress_table(results.report, school)
    head = [_("Discipline"), _("Teacher"), *head[1:]]
    keys = [line.key for line in results.report.lines]
    out = []
    for i, row in enumerate(rows):
        key = keys[i] if i < len(keys) else None
        out.append([row[0], results.teachers.get(key, "") if key is not None else "", *row[1:]])
    return head, out
