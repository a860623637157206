"""The forecast of period grades over JSON (R6.5): ``/api/v1/schools/{school}/reports/forecast/...``.

The same read model (``classbook.reports.forecast``) and access rules (``classbook.access.reports``) as the
pages: a journal's forecast for its teacher, the class teacher and the administration (404 for a journal
outside the caller's reports), the school's students at risk for the administration (403 otherwise). The
period is the study period going on today; an empty page when none is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from classbook.access import reports as access
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.api.routes.reports import report_reader
from classbook.reports import forecast

router = Router(tags=["reports"])


class DriverOut(Schema):
    mark_id: int
    date: dt.date
    value: str
    weight: Decimal
    work_type: str
    shift: Decimal | None = Field(description="How far the average would move without this mark (null: the only mark)")


class ForecastOut(Schema):
    period_id: int
    assignment_id: int
    student_id: int
    name: str
    marks: int = Field(description="Marks so far in the period (the accumulation count, R2.6)")
    required: int = Field(description="Marks the school's rule asks for in the period")
    required_so_far: int = Field(description="The rule's share of the period gone by (rounded up)")
    below_rule: bool = Field(description="Fewer marks than required so far (and the school checks the rule)")
    average: Decimal | None
    grade: str | None = Field(description="The likely period grade (null: no mark with a number yet)")
    low: str | None
    high: str | None
    at_risk: bool
    drivers: list[DriverOut]


class RiskOut(ForecastOut):
    school_class: str
    subject: str


def _out(f: forecast.Forecast, period_id: int) -> dict[str, Any]:
    return {
        "period_id": period_id,
        "assignment_id": f.assignment_id,
        "student_id": f.student_id,
        "name": f.student,
        "marks": f.count,
        "required": f.required,
        "required_so_far": f.required_so_far,
        "below_rule": f.below,
        "average": f.mean,
        "grade": f.grade or None,
        "low": f.low or None,
        "high": f.high or None,
        "at_risk": f.at_risk,
        "drivers": f.drivers,
    }


JOURNAL_SORTS = Sorts("name", name="name", average="average", marks="marks")
RISK_SORTS = Sorts("school_class,name", school_class="school_class", name="name", subject="subject")


class JournalForecastQuery(ListQuery):
    sort: str = JOURNAL_SORTS.field()


class RiskQuery(ListQuery):
    sort: str = RISK_SORTS.field()


@router.get(
    "/{school}/reports/forecast/journals/{assignment}",
    response=Page[ForecastOut],
    summary="The forecast of a journal's period grades (R6.5)",
)
def journal_forecast(
    request: HttpRequest, school: str, assignment: int, q: Query[JournalForecastQuery]
) -> dict[str, object]:
    ctx = report_reader(request, school)
    if not 1 <= assignment <= 2**62:
        raise Http404
    found = forecast.journal_assignments(access.forecast_journals(ctx).filter(pk=assignment))
    if not found or not access.may_read_forecast_journal(ctx, found[0]):
        raise Http404
    today = timezone.localdate()
    period = forecast.current_period(ctx.school, today)
    items = []
    if period is not None:
        items = [_out(f, period.pk) for f in forecast.forecasts(found, period, today, school=ctx.school)[found[0].pk]]
    return paginate(request, items, q, JOURNAL_SORTS)


@router.get(
    "/{school}/reports/forecast/at-risk",
    response=Page[RiskOut],
    summary="Students at risk: a likely grade of the lowest level or too few marks so far (R6.5)",
)
def at_risk(request: HttpRequest, school: str, q: Query[RiskQuery]) -> dict[str, object]:
    ctx = report_reader(request, school)
    if not access.may_read_risk_list(ctx):
        raise PermissionDenied
    today = timezone.localdate()
    period = forecast.current_period(ctx.school, today)
    items = []
    if period is not None:
        journals = forecast.journal_assignments(access.forecast_journals(ctx))
        items = [
            {
                **_out(line.forecast, period.pk),
                "school_class": line.assignment.school_class.name,
                "subject": line.assignment.subject.name,
            }
            for line in forecast.at_risk(journals, period, today, school=ctx.school)
        ]
    return paginate(request, items, q, RISK_SORTS)
