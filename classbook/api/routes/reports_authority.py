"""The education authority's comparison of its schools over JSON (issue 11):
``GET /api/v1/authorities/{authority_id}/reports/compare?period=<key>`` at once, and
``POST /api/v1/authorities/{authority_id}/reports/runs`` in the background (many schools: the page's rule,
``runs.authority_is_long``, is the client's to follow): **202** with the run and its ``Location``;
``GET …/runs/{id}`` its state and progress (a step per school); ``GET …/runs/{id}/file`` the result once
``status`` is ``done`` (404 before) — for ``format`` ``json`` the same document as ``compare``'s ``period`` and
``schools``, else the XLSX or PDF. A run is read by the viewer who asked, while they view the authority.

The same computation and access rule as the page (``reports/authority.py``, ``access/report_runs.py``): only
a viewer of the authority (404 for anyone else, a school's director included), its active schools only,
school-level aggregates only. ``period`` is a key from ``periods`` (``<year name>|year`` or
``<year name>|<kind>|<number>``); without it, the newest year's first period. 422 for an unknown period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from classbook.access import report_runs as access
from classbook.access.scopes import get_or_404
from classbook.api.routes.reports_runs import RunOut, run_out
from classbook.core.errors import DomainError
from classbook.reports import authority, run_views, runs
from classbook.reports.models import ReportRun
from classbook.schools.models import EducationAuthority

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


def _choice(choices: list[authority.Choice], key: str) -> authority.Choice:
    choice = next((c for c in choices if c.key == key), None)
    if choice is None:
        raise DomainError(_("Unknown period."), code="invalid_period", field="period")
    return choice


class CompareOut(Schema):
    authority_id: int
    authority: str
    period: PeriodOut
    periods: list[PeriodOut]
    schools: list[SchoolOut]


@router.get("/{int:authority_id}/reports/compare", response=CompareOut, summary="The authority's schools side by side")
def compare(request: HttpRequest, authority_id: int, q: Query[CompareQuery]) -> dict[str, Any]:
    found = access.authority_or_404(request.user, authority_id)
    schools = list(access.compared_schools(request.user, found))
    cal = authority.calendars(schools)
    choices = cal.choices()
    choice = _choice(choices, q.period or cal.default())
    comparison = authority.compare(request.user, schools, cal, choice)  # type: ignore[arg-type]
    return {
        "authority_id": found.pk,
        "authority": found.name,
        "period": {"key": choice.key, "label": choice.label},
        "periods": [{"key": c.key, "label": c.label} for c in choices],
        "schools": [authority.line_data(line) for line in comparison.lines],
    }


# --- In the background ----------------------------------------------------------------------------------


class AuthorityRunIn(Schema):
    period: str | None = Field(None, max_length=80, description="A key of `periods`; the default as for `compare`")
    format: Literal["json", "xlsx", "pdf"] = "json"


def _run_url(found: EducationAuthority, run: ReportRun, suffix: str = "") -> str:
    return f"/api/v1/authorities/{found.pk}/reports/runs/{run.pk}{suffix}"


@router.post(
    "/{int:authority_id}/reports/runs", response={202: RunOut}, summary="Compare the schools in the background"
)
def start_run(
    request: HttpRequest, authority_id: int, payload: AuthorityRunIn, response: HttpResponse
) -> Status[dict[str, Any]]:
    found = access.authority_or_404(request.user, authority_id)
    cal = authority.calendars(list(access.compared_schools(request.user, found)))
    choice = _choice(cal.choices(), payload.period or cal.default())
    run = runs.start_authority_run(
        acting_user=request.user,  # type: ignore[arg-type]
        authority=found,
        fmt=payload.format,
        params={"period": choice.key},
    )
    response["Location"] = _run_url(found, run)
    return Status(202, run_out(run, _run_url(found, run, "/file")))


@router.get("/{int:authority_id}/reports/runs/{int:run_id}", response=RunOut, summary="A comparison run's state")
def get_run(request: HttpRequest, authority_id: int, run_id: int) -> dict[str, Any]:
    found = access.authority_or_404(request.user, authority_id)
    run = get_or_404(access.authority_runs(request.user, found).defer("content"), pk=run_id)
    return run_out(run, _run_url(found, run, "/file"))


@router.get("/{int:authority_id}/reports/runs/{int:run_id}/file", summary="A comparison run's result, once done")
def run_file(request: HttpRequest, authority_id: int, run_id: int) -> HttpResponse:
    found = access.authority_or_404(request.user, authority_id)
    return run_views.download(get_or_404(access.authority_runs(request.user, found), pk=run_id))
