"""Materials pages under ``/s/<school>/materials/`` (R8.1).

Thin: materials come from ``classbook.access.materials`` scopes, reads from ``materials.queries``, writes go
through ``materials.services`` (which check who may publish where).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access import materials as rules
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.core import uploads
from classbook.core.errors import DomainError
from classbook.materials import queries, services
from classbook.materials.forms import EditForm, FilterForm, PublishForm, QuotaForm
from classbook.materials.models import MAX_QUOTA_MB, Material

PAGE_SIZE = 50


def _index(ctx: SchoolContext) -> HttpResponse:
    return redirect("materials:index", school=ctx.school.slug)  # type: ignore[return-value]


def _filters(form: FilterForm) -> queries.Filters:
    if not form.is_valid():
        return queries.Filters()
    d = form.cleaned_data
    return queries.Filters(
        subject=d["subject"].pk if d["subject"] else None,
        year_level=d["year_level"].pk if d["year_level"] else None,
        kind=d["kind"] or "",
        q=d["q"] or "",
    )


@require_GET
@school_view(rule=rules.may_open_materials)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The materials the user may read, searchable by title, subject, year level and kind."""
    form = FilterForm(request.GET or None, ctx=ctx)
    page = Paginator(queries.search(ctx, _filters(form)), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    may_publish = rules.may_publish_materials(ctx)
    storage = queries.storage(ctx) if may_publish else None
    may_set_quota = storage is not None and rules.may_set_quota(ctx)
    return render(
        request,
        "materials/index.html",
        {
            "ctx": ctx,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "items": [(m, rules.may_edit_material(ctx, m)) for m in page],
            "may_publish": may_publish,
            "storage": storage,
            "quota_form": QuotaForm(initial={"quota_mb": storage.quota_mb}) if storage and may_set_quota else None,
        },
    )


def _publish_values(form: PublishForm) -> dict[str, Any]:
    d = form.cleaned_data
    return {
        "title": d["title"],
        "kind": d["kind"],
        "description": d["description"],
        "subject": d["subject"],
        "year_level": d["year_level"],
        "audience": d["audience"],
        "school_class": d["school_class"],
        "subgroup": d["subgroup"],
        "lesson": d["lesson"],
        "url": d["url"],
        "upload": d["file"],
    }


@school_view(rule=rules.may_publish_materials)
def new(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Publish a file or a link to the library, a class, a subgroup or a lesson."""
    form = PublishForm(request.POST or None, request.FILES or None, ctx=ctx)
    if request.method == "POST" and form.is_valid():
        try:
            services.publish_material(ctx=ctx, **_publish_values(form))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The material was published."))
            return _index(ctx)
    return render(request, "materials/form.html", {"ctx": ctx, "form": form, "material": None})


@school_view(rule=rules.may_publish_materials)
def edit(request: HttpRequest, ctx: SchoolContext, material_id: int) -> HttpResponse:
    """Change the title, kind, description, subject, year level (and a link's address) of a material."""
    material: Material = get_or_404(rules.editable_materials(ctx), pk=material_id)
    initial = {
        "title": material.title,
        "kind": material.kind,
        "description": material.description,
        "subject": material.subject_id,
        "year_level": material.year_level_id,
        "url": material.url,
    }
    form = EditForm(request.POST or None, ctx=ctx, initial=initial)
    if not material.is_link:
        del form.fields["url"]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.update_material(
                ctx=ctx,
                material=material,
                title=d["title"],
                kind=d["kind"],
                description=d["description"],
                subject=d["subject"],
                year_level=d["year_level"],
                url=d.get("url"),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
        else:
            messages.success(request, _("The material was saved."))
            return _index(ctx)
    return render(request, "materials/form.html", {"ctx": ctx, "form": form, "material": material})


@require_POST
@school_view(rule=rules.may_publish_materials)
def withdraw(request: HttpRequest, ctx: SchoolContext, material_id: int) -> HttpResponse:
    material = get_or_404(rules.editable_materials(ctx), pk=material_id)
    try:
        services.withdraw_material(ctx=ctx, material=material)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The material was withdrawn."))
    return _index(ctx)


@require_POST
@school_view(rule=rules.may_set_quota)
def quota(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form = QuotaForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the quota in MB, from 1 to %(max)s.") % {"max": MAX_QUOTA_MB})
        return _index(ctx)
    try:
        services.set_quota(ctx=ctx, quota_mb=form.cleaned_data["quota_mb"])
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The storage quota was saved."))
    return _index(ctx)


@require_GET
@school_view(rule=rules.may_open_materials)
def download(request: HttpRequest, ctx: SchoolContext, material_id: int) -> FileResponse:
    """A material's file for whoever may read it (the diary links here); others get 404."""
    material = get_or_404(rules.visible_materials(ctx).exclude(file=""), pk=material_id)
    return uploads.file_response(material.file, name=material.original_name, mime=material.mime_type)
