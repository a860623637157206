"""School documents over JSON (R8.3): ``/api/v1/schools/{school}/documents...``.

Thin: the school from ``school_for``, documents and versions from ``classbook.access.documents`` scopes (a
document the caller may not read answers 404), files out through ``core.uploads`` as on the pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja import Field, Query, Router, Schema

from classbook.access import documents as rules
from classbook.access.context import school_for
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.documents.files import version_response
from classbook.documents.models import Document, DocumentVersion

router = Router(tags=["documents"])

SORTS = Sorts("kind,title", kind="kind", title="title", id="id", updated="current_version__uploaded_at")


class DocumentQuery(ListQuery):
    sort: str = SORTS.field()


class VersionOut(Schema):
    id: int
    number: int
    name: str
    size: int
    mime_type: str
    note: str
    uploaded_at: dt.datetime
    url: str = Field(description="Download this version")


class DocumentOut(Schema):
    id: int
    title: str
    kind: str = Field(description="regulation, order, instruction or other")
    description: str
    audiences: list[str] = Field(description="administration, teachers, students, parents")
    current_version: VersionOut | None
    download_url: str | None = Field(description="Download the current version")


def _version_out(school: str, v: DocumentVersion) -> dict[str, Any]:
    return {
        "id": v.pk,
        "number": v.number,
        "name": v.original_name,
        "size": v.size,
        "mime_type": v.mime_type,
        "note": v.note,
        "uploaded_at": v.uploaded_at,
        "url": f"/api/v1/schools/{school}/documents/versions/{v.pk}/download",
    }


def _document_out(school: str, d: Document) -> dict[str, Any]:
    current = d.current_version
    return {
        "id": d.pk,
        "title": d.title,
        "kind": d.kind,
        "description": d.description,
        "audiences": d.audiences,
        "current_version": _version_out(school, current) if current else None,
        "download_url": f"/api/v1/schools/{school}/documents/{d.pk}/download" if current else None,
    }


@router.get("/{school}/documents", response=Page[DocumentOut], summary="Documents the caller may read")
def list_documents(request: HttpRequest, school: str, q: Query[DocumentQuery]) -> dict[str, Any]:
    ctx = school_for(request.user, school, rules.may_open_documents)
    return paginate(request, rules.readable_documents(ctx), q, SORTS, lambda d: _document_out(school, d))


@router.get("/{school}/documents/{document_id}/download", response={200: None}, summary="The current version")
def download_current(request: HttpRequest, school: str, document_id: int) -> HttpResponseBase:
    ctx = school_for(request.user, school, rules.may_open_documents)
    document = get_or_404(rules.readable_documents(ctx).filter(current_version__isnull=False), pk=document_id)
    assert document.current_version is not None
    return version_response(document.current_version)


@router.get(
    "/{school}/documents/versions/{version_id}/download", response={200: None}, summary="One version of a document"
)
def download_version(request: HttpRequest, school: str, version_id: int) -> HttpResponseBase:
    ctx = school_for(request.user, school, rules.may_open_documents)
    return version_response(get_or_404(rules.readable_versions(ctx), pk=version_id))
