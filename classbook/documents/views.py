"""Documents and catalogue pages under ``/s/<school>/documents/`` (R8.3).

Thin: documents, versions and resources come from ``classbook.access.documents`` scopes, writes go through
``documents.services``, files out through ``core.uploads``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access import documents as rules
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import directory, get_or_404
from classbook.core.errors import DomainError
from classbook.documents import queries, services
from classbook.documents.files import version_response
from classbook.documents.forms import POLICY, DocumentForm, NewDocumentForm, ResourceForm, VersionForm
from classbook.documents.models import Document, Resource, ResourceKind
from classbook.schools.models import Room

MAX_LISTED = 500
TEXT_SHOWN_MAX = 100_000  # a text version longer than this is only downloaded


def _attempt(form: forms.Form, action: Callable[[], Any]) -> Any:
    """Run a service for a valid form; a refusal becomes the form's error (field or whole form)."""
    if not form.is_valid():
        return None
    try:
        return action()
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        return None


@require_GET
@school_view(rule=rules.may_open_documents)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The documents published to me (every document, for the managers)."""
    documents = list(rules.readable_documents(ctx).order_by("kind", "title", "pk")[:MAX_LISTED])
    return render(
        request,
        "documents/index.html",
        {"ctx": ctx, "documents": documents, "may_manage": rules.may_manage_documents(ctx)},
    )


@school_view(rule=rules.may_manage_documents, writes=True)
def new(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = NewDocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        document = _attempt(
            form,
            lambda: services.create_document(
                acting_user=ctx.user,
                school=ctx.school,
                upload=form.cleaned_data["file"],
                **{k: form.cleaned_data[k] for k in ("title", "kind", "description", "audiences", "note")},
            ),
        )
        if document is not None:
            messages.success(request, _("The document was added."))
            return redirect("documents:detail", school=ctx.school.slug, document_id=document.pk)
    return render(request, "documents/new.html", {"ctx": ctx, "form": form, "policy": POLICY})


def _detail_page(
    request: HttpRequest,
    ctx: SchoolContext,
    document: Document,
    *,
    form: DocumentForm | None,
    upload: VersionForm | None,
) -> HttpResponse:
    versions = list(rules.readable_versions(ctx).filter(document=document).order_by("-number"))
    current = document.current_version
    shown = current.text if current and current.text and len(current.text) <= TEXT_SHOWN_MAX else ""
    return render(
        request,
        "documents/detail.html",
        {
            "ctx": ctx,
            "document": document,
            "versions": versions,
            "blocks": queries.text_blocks(shown) if shown else [],
            "form": form,
            "upload": upload,
            "policy": POLICY,
        },
    )


@school_view(rule=rules.may_open_documents)
def detail(request: HttpRequest, ctx: SchoolContext, document_id: int) -> HttpResponse:
    """The document, its versions and, for the managers, the forms that change it."""
    document = get_or_404(rules.readable_documents(ctx), pk=document_id)
    may_manage = rules.may_manage_documents(ctx)
    if request.method == "POST" and not may_manage:
        raise PermissionDenied
    form = upload = None
    if may_manage:
        form = DocumentForm(request.POST or None)
        upload = VersionForm()
        if request.method == "POST":
            saved = _attempt(
                form,
                lambda: services.update_document(
                    acting_user=ctx.user,
                    document=document,
                    **{k: form.cleaned_data[k] for k in ("title", "kind", "description", "audiences")},
                ),
            )
            if saved is not None:
                messages.success(request, _("The document was saved."))
                return redirect("documents:detail", school=ctx.school.slug, document_id=document.pk)
        else:
            form.initial = {
                "title": document.title,
                "kind": document.kind,
                "description": document.description,
                "audiences": document.audiences,
            }
    return _detail_page(request, ctx, document, form=form, upload=upload)


@require_POST
@school_view(rule=rules.may_manage_documents, writes=True)
def upload_version(request: HttpRequest, ctx: SchoolContext, document_id: int) -> HttpResponse:
    document = get_or_404(rules.managed_documents(ctx), pk=document_id)
    upload = VersionForm(request.POST, request.FILES)
    version = _attempt(
        upload,
        lambda: services.add_version(
            acting_user=ctx.user,
            document=document,
            upload=upload.cleaned_data["file"],
            note=upload.cleaned_data["note"],
        ),
    )
    if version is not None:
        messages.success(request, _("Version %(number)s was uploaded.") % {"number": version.number})
        return redirect("documents:detail", school=ctx.school.slug, document_id=document.pk)
    form = DocumentForm(
        initial={
            "title": document.title,
            "kind": document.kind,
            "description": document.description,
            "audiences": document.audiences,
        }
    )
    return _detail_page(request, ctx, document, form=form, upload=upload)


@require_GET
@school_view(rule=rules.may_open_documents)
def download(request: HttpRequest, ctx: SchoolContext, version_id: int) -> HttpResponseBase:
    """Any version of a document I may read; 404 for the rest (another school's, not published to me)."""
    return version_response(get_or_404(rules.readable_versions(ctx), pk=version_id))


# --- The catalogue ------------------------------------------------------------------------------------------


def _rooms(ctx: SchoolContext) -> Any:
    return directory(ctx, Room).order_by("name")


@school_view(rule=rules.may_read_catalogue)
def resources(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's rooms (the timetable's, managed in the structure area) and its resources; managers add here."""
    may_manage = rules.may_manage_catalogue(ctx)
    if request.method == "POST" and not may_manage:
        raise PermissionDenied
    form = ResourceForm(request.POST or None, rooms=_rooms(ctx)) if may_manage else None
    if form is not None and request.method == "POST":
        created = _attempt(
            form, lambda: services.create_resource(acting_user=ctx.user, school=ctx.school, **form.cleaned_data)
        )
        if created is not None:
            messages.success(request, _("The resource was added."))
            return redirect("documents:resources", school=ctx.school.slug)
    kind = request.GET.get("kind", "")
    items = rules.catalogue(ctx)
    if kind in ResourceKind.values:
        items = items.filter(kind=kind)
    return render(
        request,
        "documents/resources.html",
        {
            "ctx": ctx,
            "rooms": list(_rooms(ctx)),
            "items": list(items[:MAX_LISTED]),
            "kinds": ResourceKind.choices,
            "kind": kind,
            "form": form,
        },
    )


@school_view(rule=rules.may_manage_catalogue, writes=True)
def resource_detail(request: HttpRequest, ctx: SchoolContext, resource_id: int) -> HttpResponse:
    resource: Resource = get_or_404(rules.managed_resources(ctx), pk=resource_id)
    form = ResourceForm(request.POST or None, rooms=_rooms(ctx))
    if request.method == "POST":
        saved = _attempt(
            form, lambda: services.update_resource(acting_user=ctx.user, resource=resource, **form.cleaned_data)
        )
        if saved is not None:
            messages.success(request, _("The resource was saved."))
            return redirect("documents:resources", school=ctx.school.slug)
    else:
        form.initial = {
            "kind": resource.kind,
            "title": resource.title,
            "inventory_number": resource.inventory_number,
            "room": resource.room_id,
            "location": resource.location,
            "quantity": resource.quantity,
            "state": resource.state,
            "note": resource.note,
        }
    return render(request, "documents/resource.html", {"ctx": ctx, "form": form, "resource": resource})


@require_POST
@school_view(rule=rules.may_manage_catalogue, writes=True)
def resource_delete(request: HttpRequest, ctx: SchoolContext, resource_id: int) -> HttpResponse:
    resource = get_or_404(rules.managed_resources(ctx), pk=resource_id)
    services.delete_resource(acting_user=ctx.user, resource=resource)
    messages.success(request, _("The resource was removed."))
    return redirect("documents:resources", school=ctx.school.slug)
