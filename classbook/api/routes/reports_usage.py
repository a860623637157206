"""The usage report over JSON (R9.2): ``/api/v1/schools/{school}/reports/usage``.

The same read model (``classbook.reports.usage``) and rule (``access.reports.may_read_usage``,
``usage_classes``) as the page: the administration reads the school, a class teacher their class; 403 for
everybody else, 404 for a class outside the caller's reach, 422 for days in the wrong order or too many.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from classbook.access import reports as access
from classbook.access.scopes import get_or_404
from classbook.api.routes.reports import report_reader
from classbook.api.routes.reports_attendance import _check_range
from classbook.reports import usage

router = Router(tags=["reports"])


class FigureOut(Schema):
    count: int = Field(description="How many of them did it that week")
    of: int = Field(description="How many have an account")
    share: Decimal | None = Field(description="count / of in per cent, one decimal; null when nobody has an account")


class LineOut(Schema):
    week: dt.date = Field(description="The Monday of the week")
    class_id: int | None = Field(description="null: the total of the classes (the whole school for the administration)")
    label: str
    staff_logged_in: FigureOut
    students_logged_in: FigureOut
    students_viewed: FigureOut
    parents_logged_in: FigureOut
    parents_viewed: FigureOut


class UsageOut(Schema):
    start: dt.date
    end: dt.date
    weeks: list[dt.date]
    lines: list[LineOut]


class UsageQuery(Schema):
    start: dt.date
    end: dt.date
    school_class: int | None = Field(None, ge=1, le=2**62)


def _figure(figure: usage.Figure) -> dict[str, object]:
    return {"count": figure.count, "of": figure.of, "share": figure.share}


@router.get("/{school}/reports/usage", response=UsageOut, summary="Logins and diary views per class and week (R9.2)")
def report(request: HttpRequest, school: str, q: Query[UsageQuery]) -> dict[str, object]:
    ctx = report_reader(request, school, access.may_read_usage)
    classes = access.usage_classes(ctx)
    if q.school_class is not None:
        get_or_404(classes, pk=q.school_class)
        classes = classes.filter(pk=q.school_class)
    _check_range(q.start, q.end)
    whole = access.reads_whole_school(ctx) and q.school_class is None
    result = usage.usage_report(classes, ctx.school.pk, q.start, q.end, whole_school=whole)
    lines = [
        {
            "week": line.week,
            "class_id": line.class_id,
            "label": line.label,
            **{
                name: _figure(getattr(line, name))
                for name in (
                    "staff_logged_in",
                    "students_logged_in",
                    "students_viewed",
                    "parents_logged_in",
                    "parents_viewed",
                )
            },
        }
        for line in result.lines
    ]
    return {"start": result.start, "end": result.end, "weeks": result.weeks, "lines": lines}
