"""Archive pages (issue 12): the school's archive list with its builds' progress (htmx polls it, no inline
script), "build now", downloads, the verification, destruction acts and the settings. Who may do what:
``classbook/access/archive.py``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from classbook.access import archive as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.archive import queries, schedule, services, verify
from classbook.archive.forms import BuildForm, SettingsForm
from classbook.core import uploads
from classbook.core.errors import DomainError
from classbook.core.params import whole_numbers


def _build_form(ctx: SchoolContext, data: Any = None) -> BuildForm:
    return BuildForm(data, semesters=schedule.semesters(ctx.school, timezone.localdate()))


FINISHED_EVENT = "archive-finished"  # the list (index.html) reloads itself on it


def _polled(value: str) -> set[int]:
    """The builds a progress poll saw working (``?working=1,2``); nonsense is ignored."""
    return set(whole_numbers(value))


@require_GET
@school_view(rule=access.may_read_archives)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's archives, newest first, and the builds in progress (htmx polls them every 2 s while any
    works, no inline script). When a build the poll saw working has finished, the answer carries the
    ``HX-Trigger`` event on which the list below reloads itself (``?part=list``)."""
    builds = access.archive_builds(ctx)
    context: dict[str, Any] = {"ctx": ctx}
    htmx = bool(request.headers.get("HX-Request"))
    if not htmx or request.GET.get("part") != "list":
        context.update(working=queries.working_builds(builds), failures=queries.recent_failures(builds))
    if htmx and request.GET.get("part") != "list":
        response = render(request, "archive/_builds.html", context)
        if _polled(request.GET.get("working", "")) - {b.pk for b in context["working"]}:
            response["HX-Trigger"] = FINISHED_EVENT
        return response
    records = queries.records_for_list(access.archive_records(ctx))
    context.update(records=list(records[: queries.PAGE]), count=records.count(), page=queries.PAGE)
    if htmx:
        return render(request, "archive/_list.html", context)
    context["form"] = _build_form(ctx) if access.may_build_archives(ctx) else None
    return render(request, "archive/index.html", context)


@require_POST
@school_view(rule=access.may_build_archives, writes=True)
def build_now(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = _build_form(ctx, request.POST)
    due = None
    if form.is_valid():
        due = schedule.manual(ctx.school, form.cleaned_data["kind"], form.chosen_period(), timezone.localdate())
        if due is None:
            messages.error(request, _("The school has no school year to archive."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    if due is not None:
        due.start_build(ctx.school, ctx.user)
        messages.success(request, _("The archive is being made; it appears in the list when it is ready."))
    return redirect("archive:index", school=ctx.school.slug)


@require_POST
@school_view(rule=access.may_build_archives, writes=True)
def retry(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    """Try a failed build again (``services.retry_build``): the classes made already are kept."""
    failed = get_or_404(access.archive_builds(ctx), pk=pk)
    try:
        services.retry_build(acting_user=ctx.user, build=failed)
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, _("The archive is being made again; it appears in the list when it is ready."))
    return redirect("archive:index", school=ctx.school.slug)


@require_GET
@school_view(rule=access.may_read_archives)
def download(request: HttpRequest, ctx: SchoolContext, pk: int) -> FileResponse:
    record = get_or_404(access.archive_records(ctx), pk=pk)
    if record.destroyed_at is not None or not record.file:
        raise Http404
    return uploads.file_response(record.file, name=record.filename, mime=record.mime_type)


@require_POST
@school_view(rule=access.may_read_archives, writes=True)
def delete(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    """Deleting one archive is always refused (R6.8) and the attempt audited: ``services.refuse_delete``."""
    record = get_or_404(access.archive_records(ctx), pk=pk)
    try:
        services.refuse_delete(acting_user=ctx.user, record=record)
    except DomainError as refused:
        messages.error(request, str(refused.message))
    return redirect("archive:index", school=ctx.school.slug)


@require_GET
@school_view(rule=access.may_verify_archives)
def check(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Check every file, the chain and the signatures now, and say exactly what is wrong."""
    return render(request, "archive/verify.html", {"ctx": ctx, "result": verify.verify(ctx.school)})


@require_http_methods(["GET", "POST"])
@school_view(rule=access.may_draft_destruction)
def destruction(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The archives whose term is over and the destruction acts; POST drafts an act of all of them."""
    if request.method == "POST":
        try:
            act = services.draft_destruction_act(acting_user=ctx.user, school=ctx.school)
        except DomainError as refused:
            messages.error(request, str(refused.message))
        else:
            messages.success(request, _("Destruction act %(number)s is drafted.") % {"number": act.number})
        return redirect("archive:destruction", school=ctx.school.slug)
    acts = queries.acts(access.destruction_acts(ctx))
    context = {
        "ctx": ctx,
        "expired": list(services.expired_records(ctx.school).select_related("school_class")[: queries.PAGE]),
        "acts": [(act, queries.act_records(act) if act.confirmed_at is None else []) for act in acts[:20]],
        "may_confirm": access.may_confirm_destruction(ctx),
    }
    return render(request, "archive/destruction.html", context)


@require_POST
@school_view(rule=access.may_draft_destruction, writes=True)
def confirm(request: HttpRequest, ctx: SchoolContext, pk: int) -> HttpResponse:
    act = get_or_404(access.destruction_acts(ctx), pk=pk)
    try:
        services.confirm_destruction_act(acting_user=ctx.user, act=act, is_director=access.may_confirm_destruction(ctx))
    except DomainError as refused:
        messages.error(request, str(refused.message))
    else:
        messages.success(request, _("Destruction act %(number)s is confirmed.") % {"number": act.number})
    return redirect("archive:destruction", school=ctx.school.slug)


@require_http_methods(["GET", "POST"])
@school_view(rule=access.may_change_archive_settings, writes=True)
def archive_settings(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    current = services.settings_of(ctx.school)
    form = SettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        services.change_settings(acting_user=ctx.user, school=ctx.school, values=form.cleaned_data)
        messages.success(request, _("The archive settings are saved."))
        return redirect("archive:settings", school=ctx.school.slug)
    status = 422 if request.method == "POST" else 200
    return render(request, "archive/settings.html", {"ctx": ctx, "form": form}, status=status)
