"""Portfolio pages under ``/s/<school>/portfolios/`` (R8.2).

Thin: portfolios from ``portfolios.queries`` (scoped by ``classbook.access.portfolios``), writes through
``portfolios.services``, files through ``core.uploads.file_response``, the PDF from ``portfolios.documents``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access import portfolios as rules
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.core import uploads
from classbook.core.collation import name_order
from classbook.core.errors import DomainError
from classbook.portfolios import documents, queries, services
from classbook.portfolios.forms import DecideForm, EntryForm, ProjectForm, RequestForm
from classbook.portfolios.models import Entry
from classbook.portfolios.queries import Portfolio


def _to(ctx: SchoolContext, entry: Entry) -> HttpResponse:
    if entry.project_id is not None:
        return redirect("portfolios:project", school=ctx.school.slug, project_id=entry.project_id)  # type: ignore[return-value]
    return redirect("portfolios:student", school=ctx.school.slug, student_id=entry.student_id)  # type: ignore[return-value]


def _run(request: HttpRequest, action: Any, success: str) -> bool:
    try:
        action()
    except DomainError as exc:  # PermissionDeniedError and ConflictError included
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


@require_GET
@school_view(rule=rules.may_read_portfolios)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The portfolios the user opens; a student goes straight to their own."""
    own = rules.only_own_portfolio(ctx)
    if own is not None:
        return redirect("portfolios:student", school=ctx.school.slug, student_id=own)
    found = queries.index(ctx)
    return render(
        request,
        "portfolios/index.html",
        {"ctx": ctx, "index": found, "may_create_projects": rules.may_create_projects(ctx)},
    )


def _add_entry(request: HttpRequest, ctx: SchoolContext, portfolio: Portfolio) -> tuple[EntryForm, bool]:
    """Parse and save the add form; (the form with its errors, whether it was saved)."""
    form = EntryForm(request.POST, request.FILES, accept=services.POLICY.accept)
    if not form.is_valid():
        return form, False
    d = form.cleaned_data
    try:
        services.add_entry(
            ctx=ctx,
            student=portfolio.student,
            project=portfolio.project,
            kind=d["kind"],
            title=d["title"],
            day=d["day"],
            description=d["description"],
            upload=d["file"],
        )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return form, False
    messages.success(request, _("The entry was added to the portfolio."))
    return form, True


def _portfolio_page(request: HttpRequest, ctx: SchoolContext, portfolio: Portfolio, here: str) -> HttpResponse:
    form = None
    if request.method == "POST" and not portfolio.rights.may_add:
        raise PermissionDenied  # a closed portfolio, or one the user only reads
    if portfolio.rights.may_add:
        form = EntryForm(accept=services.POLICY.accept)
        if request.method == "POST":
            form, saved = _add_entry(request, ctx, portfolio)
            if saved:
                return redirect(here)
    return render(
        request,
        "portfolios/portfolio.html",
        {"ctx": ctx, "portfolio": portfolio, "form": form, "policy": services.POLICY},
        status=422 if form is not None and form.errors else 200,
    )


@school_view(rule=rules.may_read_portfolios)
def student(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """A student's portfolio: the entries the user sees, the add form and the class teacher's decisions."""
    portfolio = queries.student_portfolio(ctx, student_id)
    return _portfolio_page(request, ctx, portfolio, request.path)


@school_view(rule=rules.may_read_portfolios)
def project(request: HttpRequest, ctx: SchoolContext, project_id: int) -> HttpResponse:
    portfolio = queries.project_portfolio(ctx, project_id)
    return _portfolio_page(request, ctx, portfolio, request.path)


def _pdf(portfolio: Portfolio, ctx: SchoolContext, name: str) -> HttpResponse:
    response = HttpResponse(documents.portfolio_pdf(ctx.school, portfolio), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@require_GET
@school_view(rule=rules.may_read_portfolios)
def student_pdf(request: HttpRequest, ctx: SchoolContext, student_id: int) -> HttpResponse:
    """The portfolio as a PDF: exactly the entries the reader sees on the page."""
    return _pdf(queries.student_portfolio(ctx, student_id), ctx, f"portfolio-{student_id}.pdf")


@require_GET
@school_view(rule=rules.may_read_portfolios)
def project_pdf(request: HttpRequest, ctx: SchoolContext, project_id: int) -> HttpResponse:
    return _pdf(queries.project_portfolio(ctx, project_id), ctx, f"project-{project_id}.pdf")


@require_GET
@school_view(rule=rules.may_read_portfolios)
def entry_file(request: HttpRequest, ctx: SchoolContext, entry_id: int) -> FileResponse:
    """An entry's file, for whoever reads the entry (404 otherwise)."""
    entry = get_or_404(rules.visible_entries(ctx).exclude(file=""), pk=entry_id)
    return uploads.file_response(entry.file, name=entry.file_name, mime=entry.mime_type)


def _entry(ctx: SchoolContext, entry_id: int) -> Entry:
    return get_or_404(rules.visible_entries(ctx).select_related("student", "project"), pk=entry_id)


@require_POST
@school_view(rule=rules.may_read_portfolios, writes=True)
def entry_remove(request: HttpRequest, ctx: SchoolContext, entry_id: int) -> HttpResponse:
    entry = _entry(ctx, entry_id)
    _run(request, lambda: services.remove_entry(ctx=ctx, entry=entry), _("The entry was removed."))
    return _to(ctx, entry)


@require_POST
@school_view(rule=rules.may_read_portfolios, writes=True)
def entry_request(request: HttpRequest, ctx: SchoolContext, entry_id: int) -> HttpResponse:
    """Ask the class teacher to show the entry to the class's teachers or the school."""
    entry = _entry(ctx, entry_id)
    form = RequestForm(request.POST)
    audience = form.cleaned_data["audience"] if form.is_valid() else ""
    _run(
        request,
        lambda: services.request_sharing(ctx=ctx, entry=entry, audience=audience),
        _("The class teacher was asked."),
    )
    return _to(ctx, entry)


@require_POST
@school_view(rule=rules.may_read_portfolios, writes=True)
def entry_decide(request: HttpRequest, ctx: SchoolContext, entry_id: int) -> HttpResponse:
    """The class teacher's decision: show to the class's teachers, to the school, or keep in the family."""
    entry = _entry(ctx, entry_id)
    form = DecideForm(request.POST)
    sharing = form.cleaned_data["sharing"] if form.is_valid() else ""
    _run(request, lambda: services.decide_sharing(ctx=ctx, entry=entry, sharing=sharing), _("Saved."))
    return _to(ctx, entry)


@school_view(rule=rules.may_create_projects, writes=True)
def project_new(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = ProjectForm(
        request.POST or None,
        classes=rules.project_classes(ctx).order_by("name"),
        students=rules.project_candidates(ctx).order_by(*name_order("user__")),
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            made = services.create_project(
                ctx=ctx,
                school_class=d["school_class"],
                title=d["title"],
                description=d["description"],
                members=list(d["members"]),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The project was created."))
            return redirect("portfolios:project", school=ctx.school.slug, project_id=made.pk)
    return render(
        request, "portfolios/project_form.html", {"ctx": ctx, "form": form}, status=422 if form.errors else 200
    )
