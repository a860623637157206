"""Learning and analytical materials over JSON (R8.1): ``/api/v1/schools/{school}/materials...``.

Thin: the school from ``school_for``, materials from ``classbook.access.materials`` scopes (one the caller may
not read answers 404), writes through ``materials.services`` (which decide who may publish where: 403; bad
input, a refused file or a full quota: 422), the list from ``materials.queries``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from classbook.access import materials as rules
from classbook.access.context import SchoolContext, school_for
from classbook.access.scopes import get_or_404
from classbook.api.contract import INT64_MAX
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core import uploads
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.materials import queries, services
from classbook.materials.models import Audience, Material, MaterialKind

router = Router(tags=["materials"])

SORTS = Sorts("-created_at", created_at="created_at", title="title", id="id")


class MaterialQuery(ListQuery):
    sort: str = SORTS.field()
    subject: int | None = Field(None, ge=1, description="Subject id")
    year_level: int | None = Field(None, ge=1, description="Year level id (also a class's year level)")
    kind: MaterialKind | None = None
    audience: Audience | None = None
    q: str = Field("", max_length=100, description="Words of the title")


class MaterialFileOut(Schema):
    name: str
    size: int
    url: str


class MaterialOut(Schema):
    id: int
    title: str
    description: str
    kind: str = Field(description="test, task, exercise, methodical or analytical")
    audience: str = Field(description="library, class, subgroup or lesson")
    subject: int | None
    subject_name: str
    year_level: int | None
    school_class: int | None
    subgroup: int | None
    lesson: int | None
    link: str | None = Field(description="The web address of a link; null for a file")
    file: MaterialFileOut | None = Field(description="The file; null for a link")
    created_at: dt.datetime
    created_by: str


class MaterialIn(Schema):
    title: str = Field(max_length=200)
    kind: MaterialKind
    audience: Audience
    description: str = Field("", max_length=2000)
    subject: int | None = Field(None, ge=1, le=INT64_MAX)
    year_level: int | None = Field(None, ge=1, le=INT64_MAX)
    school_class: int | None = Field(None, ge=1, le=INT64_MAX, description="For the audience `class`")
    subgroup: int | None = Field(None, ge=1, le=INT64_MAX, description="For the audience `subgroup`")
    lesson: int | None = Field(None, ge=1, le=INT64_MAX, description="For the audience `lesson`")
    url: str = Field("", max_length=500, description="A link (http or https); or send a `file` part instead")


def _out(ctx: SchoolContext, m: Material) -> dict[str, Any]:
    file = None
    if not m.is_link:
        path = reverse("api-v1:material_file", args=[ctx.school.slug, m.pk])
        file = {"name": m.original_name, "size": m.size, "url": path}
    return {
        "id": m.pk,
        "title": m.title,
        "description": m.description,
        "kind": m.kind,
        "audience": m.audience,
        "subject": m.subject_id,
        "subject_name": m.subject.name if m.subject else "",
        "year_level": m.year_level_id,
        "school_class": m.school_class_id,
        "subgroup": m.subgroup_id,
        "lesson": m.lesson_id,
        "link": m.url or None,
        "file": file,
        "created_at": m.created_at,
        "created_by": m.created_by.short_name,
    }


@router.get("/{school}/materials", response=Page[MaterialOut], summary="Materials the caller may read")
def list_materials(request: HttpRequest, school: str, q: Query[MaterialQuery]) -> dict[str, Any]:
    ctx = school_for(request.user, school, rules.may_open_materials)
    filters = queries.Filters(
        subject=q.subject, year_level=q.year_level, kind=q.kind or "", audience=q.audience or "", q=q.q
    )
    return paginate(request, queries.search(ctx, filters), q, SORTS, lambda m: _out(ctx, m))


def _pick(qs: QuerySet[Any], pk: int | None, *, field: str, forbidden: bool = False) -> Any:
    """The row ``pk`` of the caller's scope ``qs``; outside it a 403 (a publishing target) or a 422."""
    if pk is None:
        return None
    row: Model | None = qs.filter(pk=pk).first()
    if row is None:
        if forbidden:
            raise PermissionDeniedError(_("You may not publish materials there."), field=field)
        raise DomainError(_("Choose a subject and a year level of this school."), code="invalid_choice", field=field)
    return row


@router.post(
    "/{school}/materials",
    response={201: MaterialOut},
    summary="Publish a material (multipart: the fields and a `file`, or a `url`)",
)
def create_material(
    request: HttpRequest,
    school: str,
    payload: Form[MaterialIn],
    file: UploadedFile | None = File(None),  # noqa: B008 - django-ninja's way to declare a file part
) -> Status:
    ctx = school_for(request.user, school, rules.may_publish_materials)
    material = services.publish_material(
        ctx=ctx,
        title=payload.title,
        kind=payload.kind,
        audience=payload.audience,
        description=payload.description,
        subject=_pick(rules.material_subjects(ctx), payload.subject, field="subject"),
        year_level=_pick(rules.material_year_levels(ctx), payload.year_level, field="year_level"),
        school_class=_pick(rules.target_classes(ctx), payload.school_class, field="school_class", forbidden=True),
        subgroup=_pick(rules.target_subgroups(ctx), payload.subgroup, field="subgroup", forbidden=True),
        lesson=_pick(rules.target_lessons(ctx), payload.lesson, field="lesson", forbidden=True),
        url=payload.url,
        upload=file,
    )
    found = get_or_404(rules.visible_materials(ctx).select_related("subject", "created_by"), pk=material.pk)
    return Status(201, _out(ctx, found))


@router.post(
    "/{school}/materials/{material_id}/withdraw",
    response={204: None},
    summary="Withdraw a material (its author or the administration); its file is deleted",
)
def withdraw_material(request: HttpRequest, school: str, material_id: int) -> Status:
    ctx = school_for(request.user, school, rules.may_publish_materials)
    material = get_or_404(rules.editable_materials(ctx), pk=material_id)
    services.withdraw_material(ctx=ctx, material=material)
    return Status(204, None)


@router.get(
    "/{school}/materials/{material_id}/file",
    response={200: None},
    url_name="material_file",
    summary="Download a material's file",
)
def material_file(request: HttpRequest, school: str, material_id: int) -> FileResponse:
    ctx = school_for(request.user, school, rules.may_open_materials)
    material = get_or_404(rules.visible_materials(ctx).exclude(file=""), pk=material_id)
    return uploads.file_response(material.file, name=material.original_name, mime=material.mime_type)
