"""Pages of the reports built in the background (issue 11): the run's state with a progress bar (htmx polls
it, no inline script), and its file. Who reads a run: ``classbook/access/report_runs.py``."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from classbook.access import report_runs as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.reports import runs
from classbook.reports.models import ReportRun, RunStatus


def background(request: HttpRequest, ctx: SchoolContext, kind: str, fmt: str) -> HttpResponse | None:
    """For an export view: when the size rule says so, queue the export and send the person to its run's
    page (303); None to build it at once (small scopes, and the background build itself)."""
    if runs.in_run(request) or fmt not in runs.FORMATS or not access.may_start_school_run(ctx):
        return None
    if not runs.is_long(kind, ctx.school, request.GET):
        return None
    run = runs.start_school_run(
        acting_user=ctx.user,
        school=ctx.school,
        kind=kind,
        fmt=fmt,
        query=request.GET.urlencode(),
        host=request.get_host(),
    )
    response = HttpResponseRedirect(reverse("reports:run", kwargs={"school": ctx.school.slug, "pk": run.pk}))
    response.status_code = 303
    return response


def download(run: ReportRun) -> HttpResponse:
    if run.status != RunStatus.DONE or run.content is None or run.expires_at < timezone.now():
        raise Http404  # not ready, failed, or its day is over (``prune_report_runs`` deletes it)
    response = HttpResponse(
        bytes(run.content), content_type=runs.AUTHORITY_FORMATS.get(run.fmt, "application/octet-stream")
    )
    response["Content-Disposition"] = f'attachment; filename="{run.filename or "report." + run.fmt}"'
    response["Cache-Control"] = "no-store"
    return response


def render_run(
    request: HttpRequest, run: ReportRun, base: dict[str, object], state_url: str, file_url: str
) -> HttpResponse:
    """The run's page, or only its state (the htmx poll), for a school's or an authority's run."""
    context = {
        **base,
        "run": run,
        "state_url": state_url,
        "file_url": file_url,
        "working": run.status in (RunStatus.QUEUED, RunStatus.RUNNING),
    }
    template = "reports/_run_state.html" if request.headers.get("HX-Request") else "reports/run.html"
    return render(request, template, context)


@require_GET
@school_view(rule=access.may_start_school_run)
def run(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    """A report being built: its state and progress, and the download when it is ready."""
    found = get_or_404(access.school_runs(ctx).defer("content"), pk=pk)  # polled every 2 s: not the file
    slug = ctx.school.slug
    return render_run(
        request,
        found,
        {"ctx": ctx, "back": reverse("reports:index", kwargs={"school": slug})},
        reverse("reports:run", kwargs={"school": slug, "pk": found.pk}),
        reverse("reports:run_file", kwargs={"school": slug, "pk": found.pk}),
    )


@require_GET
@school_view(rule=access.may_start_school_run)
def run_file(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    """The finished file (404 until it is ready, and for anyone but the person who asked and the director)."""
    found = get_or_404(access.school_runs(ctx), pk=pk)
    if not access.may_read_school_run(ctx, found):
        raise Http404
    return download(found)
