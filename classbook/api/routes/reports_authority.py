"""The education authority's comparison of its schools over JSON (issue 11):
``GET /api/v1/authorities/{authority_id}/reports/compare?period=<key>``.

The same computation and access rule as the page (``reports/authority.py``, ``access/report_runs.py``): only
a viewer of the authority (404 for anyone else, a school's director included), its active schools only,
school-level aggregates only. ``period`` is a key from ``periods`` (``<year name>|year`` or
``<year name>|<kind>|<number>``); without it, the newest year's first period. 422 for an unknown period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access import report_runs as access
from classbook.core.errors import DomainError
from classbook.reports import authority

router = Router(tags=["reports"])


class CompareQuery(Schema):
    period: str | None = Field(None, max_length=80, description="A key of `periods`")


class PeriodOut(Schema):
    key: str
    label: str


class SchoolOut(Schema):
    school_id: int
    name: str
    period: str | None = Field(description="The school's own period; null when it has none of that name")
    start: dt.date | None
    end: dt.date | None
    students: int | None
    average: Decimal | None
    success_rate: Decimal | None
    quality_rate: Decimal | None
    sou: Decimal | None
    missed: int | None
    excused: int | None
    unexcused: int | None
    illness: int | None
    late: int | None
    excused_share: Decimal | None


class CompareOut(Schema):
    authority_id: int
    authority: str
    period: PeriodOut
    periods: list[PeriodOut]
    schools: list[SchoolOut]


def _school(line: authority.SchoolLine) -> dict[str, Any]:
    p = line.progress
    has = line.period is not None
    return {
        "school_id": line.school_id,
        "name": line.name,
        "period": line.period,
        "start": line.start,
        "end": line.end,
        "students": p.students if p else None,
        "average": p.average if p else None,
        "success_rate": p.success_rate if p else None,
        "quality_rate": p.quality_rate if p else None,
        "sou": p.sou if p and line.shows_sou else None,
        "missed": line.missed if has else None,
        "excused": line.excused if has else None,
        "unexcused": line.unexcused if has else None,
        "illness": line.illness if has else None,
        "late": line.late if has else None,
        "excused_share": line.excused_share,
    }


@router.get("/{int:authority_id}/reports/compare", response=CompareOut, summary="The authority's schools side by side")
def compare(request: HttpRequest, authority_id: int, q: Query[CompareQuery]) -> dict[str, Any]:
    found = access.authority_or_404(request.user, authority_id)
    schools = list(access.compared_schools(request.user, found))
    cal = authority.calendars(schools)
    choices = cal.choices()
    key = q.period or cal.default()
    choice = next((c for c in choices if c.key == key), None)
    if choice is None:
        raise DomainError(_("Unknown period."), code="invalid_period", field="period")
    comparison = authority.compare(request.user, schools, cal, choice)  # type: ignore[arg-type]
    return {
        "authority_id": found.pk,
        "authority": found.name,
        "period": {"key": choice.key, "label": choice.label},
        "periods": [{"key": c.key, "label": c.label} for c in choices],
        "schools": [_school(line) for line in comparison.lines],
    }
