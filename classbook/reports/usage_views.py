"""The usage report's page and its XLSX and PDF (R9.2): logins and diary views per class and week.

The read model is ``usage.usage_report``, the rule ``access.reports.may_read_usage`` / ``usage_classes`` — the
same as the API's (``api/routes/reports_usage.py``): the administration reads the school, a class teacher
their class; everybody else gets 403, a class outside one's reach 404. The page reuses the attendance
reports' templates (filters, table, charts, downloads).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.reports import charts, table_pages, usage
from classbook.reports.attendance_forms import _RangeForm
from classbook.reports.usage import UsageLine, UsageReport

COLOURS = {"students": "#4a90c2", "parents": "#1a7f37"}


class UsageForm(_RangeForm):
    """The weeks (from the week of the first day to the week of the last) and, optionally, one class."""


def _cells(line: UsageLine) -> list[Any]:
    s, sl, sv, pl, pv = (
        line.staff_logged_in,
        line.students_logged_in,
        line.students_viewed,
        line.parents_logged_in,
        line.parents_viewed,
    )
    return [
        s.of,
        s.count,
        s.share,
        sl.of,
        sl.count,
        sl.share,
        sv.count,
        sv.share,
        pl.of,
        pl.count,
        pl.share,
        pv.count,
        pv.share,
    ]


def usage_table(report: UsageReport) -> tuple[list[str], list[list[Any]]]:
    """One row per week and class (and the week's total): counts and shares in per cent of those with an account."""
    head = [
        _("Week"),
        _("Class"),
        _("Staff with an account"),
        _("logged in"),
        "%",
        _("Students with an account"),
        _("logged in"),
        "%",
        _("looked at the diary"),
        "%",
        _("Parents with an account"),
        _("logged in"),
        "%",
        _("looked at their child's diary"),
        "%",
    ]
    rows = [[date_format(line.week, "SHORT_DATE_FORMAT"), line.label, *_cells(line)] for line in report.lines]
    return head, rows


def usage_chart(report: UsageReport) -> str:
    """The weekly share of students and of parents (with an account) who looked at the diary."""
    series = [
        charts.Series("students", _("students who looked at their diary"), COLOURS["students"]),
        charts.Series("parents", _("parents who looked at their child's diary"), COLOURS["parents"]),
    ]
    rows = [
        (
            _("week of %(date)s") % {"date": date_format(line.week, "SHORT_DATE_FORMAT")},
            {"students": line.students_viewed.share, "parents": line.parents_viewed.share},
        )
        for line in report.totals()
    ]
    return charts.bars("chart-usage", _("Who looks at the diary, by week"), series, rows)


def notes() -> list[str]:
    """What the columns mean (docs/reports.md, "Usage")."""
    return [
        _(
            "With an account = an active account whose password is set (the activation code was used). Staff of a "
            "class = its class teacher and the teachers of its subjects; on the school's line, every staff member."
        ),
        _(
            "Students = those in the class on at least one day of the week; parents = their parents whose link lets "
            "them see the child and had not ended before the week."
        ),
        _(
            "Logged in = logged in at least once that week (Monday to Sunday); looked at the diary = opened the "
            "diary (page or app) at least once that week: the student their own, a parent their child's in that class."
        ),
        _("Shares are of those with an account. A class teacher's preview of the diary is not counted."),
    ]


def _build(request: HttpRequest, ctx: SchoolContext) -> dict[str, Any]:
    classes = list(access.usage_classes(ctx).order_by("-year__start", "year_level__number", "name"))
    table_pages.check_class(request, classes)
    form = UsageForm(table_pages.with_range(request), classes=classes)
    out: dict[str, Any] = {"ctx": ctx, "form": form, "head": None}
    if not form.is_valid():
        return out
    d = form.cleaned_data
    scope = access.usage_classes(ctx)
    if d["school_class"] is not None:
        scope = scope.filter(pk=d["school_class"])
    whole = access.reads_whole_school(ctx) and d["school_class"] is None
    report = usage.usage_report(scope, ctx.school.pk, d["start"], d["end"], whole_school=whole)
    head, rows = usage_table(report)
    out.update(head=head, rows=rows, charts=[usage_chart(report)], notes=notes(), report=report)
    about = f"{report.start:%d.%m.%Y} – {report.end:%d.%m.%Y}"
    return table_pages.result(out, _("Usage"), about, "reports:usage_export", request.GET.urlencode())


report, report_export = table_pages.report_views(
    _build,
    action="reports:usage",
    heading=gettext_lazy("Usage"),
    filename="usage",
    doc="Logins of staff, students and parents and looks at the diary, per class and week (R9.2).",
    rule=access.may_read_usage,
)
