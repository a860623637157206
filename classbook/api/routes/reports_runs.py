"""Long reports built in the background over JSON (issue 11): ``/api/v1/schools/{school}/reports/runs``.

``POST`` queues a report export (the progress report or the attendance report, XLSX or PDF, with the same
filters as the page's download link) and answers **202** with the run and its ``Location``; ``GET …/{id}``
is its state and progress; ``GET …/{id}/file`` the file once ``status`` is ``done`` (404 before). The same
mechanism and the same access rules as the pages (``reports/runs.py``, ``access/report_runs.py``): a run is
read by the person who asked and the school's director only; 404 for anyone else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, QueryDict
from ninja import Field, Router, Schema, Status

from classbook.access import report_runs as access
from classbook.access.scopes import get_or_404
from classbook.api.routes.reports import report_reader
from classbook.reports import run_views, runs
from classbook.reports.models import ReportRun

router = Router(tags=["reports"])


class RunIn(Schema):
    report: Literal["progress", "attendance"]
    format: Literal["xlsx", "pdf"] = "xlsx"
    filters: dict[str, str] = Field(
        default_factory=dict,
        max_length=12,
        description="The report's filters as its page sends them (period, group_by, school_class, start, end …)",
    )


class RunOut(Schema):
    id: int
    report: str
    format: str
    status: Literal["queued", "running", "done", "failed"]
    done: int = Field(ge=0)
    total: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime
    file: str | None = Field(description="The file's URL once the run is done")


def run_out(run: ReportRun, file_url: str) -> dict[str, Any]:
    return {
        "id": run.pk,
        "report": run.kind,
        "format": run.fmt,
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "percent": run.percent,
        "error": run.error,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "expires_at": run.expires_at,
        "file": file_url if run.status == "done" else None,
    }


def _url(school: str, run: ReportRun, suffix: str = "") -> str:
    return f"/api/v1/schools/{school}/reports/runs/{run.pk}{suffix}"


@router.post("/{school}/reports/runs", response={202: RunOut}, summary="Build a report export in the background")
def start_run(request: HttpRequest, school: str, payload: RunIn, response: HttpResponse) -> Status[dict[str, Any]]:
    ctx = report_reader(request, school, access.may_start_school_run)
    query = QueryDict(mutable=True)
    for key, value in payload.filters.items():
        query[key[:40]] = value[:200]
    run = runs.start_school_run(
        acting_user=ctx.user,
        school=ctx.school,
        kind=payload.report,
        fmt=payload.format,
        query=query.urlencode(),
        host=request.get_host(),
    )
    response["Location"] = _url(school, run)
    return Status(202, run_out(run, _url(school, run, "/file")))


@router.get("/{school}/reports/runs/{int:run_id}", response=RunOut, summary="A background report's state")
def get_run(request: HttpRequest, school: str, run_id: int) -> dict[str, Any]:
    ctx = report_reader(request, school, access.may_start_school_run)
    run = get_or_404(access.school_runs(ctx).defer("content"), pk=run_id)
    return run_out(run, _url(school, run, "/file"))


@router.get("/{school}/reports/runs/{int:run_id}/file", summary="A background report's file, once done")
def run_file(request: HttpRequest, school: str, run_id: int) -> HttpResponse:
    ctx = report_reader(request, school, access.may_start_school_run)
    return run_views.download(get_or_404(access.school_runs(ctx), pk=run_id))
