"""OneRoster 1.2 interop for the school's administration (issue 13): ``/api/v1/schools/{school}/oneroster/...``.

``GET …/export`` is the school as a OneRoster 1.2 CSV zip (bulk; ``?since=`` a delta); ``POST …/import`` reads
a package into the school, all or nothing (422 with per-row errors); ``…/clients`` registers, lists and revokes
the platforms that read the REST provider (the secret is shown once). Rules: ``classbook/access/oneroster.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from classbook.access import oneroster as access
from classbook.access.context import SchoolContext, school_for
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.oneroster import services

router = Router(tags=["oneroster"])

CLIENT_SORTS = Sorts("-created_at", created_at="created_at", name="name", id="id")


class ClientQuery(ListQuery):
    sort: str = CLIENT_SORTS.field()


def _ctx(request: HttpRequest, school: str, rule: Callable[[SchoolContext], bool]) -> SchoolContext:
    return school_for(request.user, school, rule)


class ClientIn(Schema):
    name: str
    scopes: list[str]


class ClientOut(Schema):
    id: int
    name: str
    client_id: str
    scopes: list[str]
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class RegisteredOut(ClientOut):
    client_secret: str


class ImportOut(Schema):
    counts: dict[str, int]


def _client_out(c: Any) -> dict[str, Any]:
    return {k: getattr(c, k) for k in ("id", "name", "client_id", "scopes", "created_at", "revoked_at")}


@router.get("/{school}/oneroster/export", summary="The school as a OneRoster 1.2 CSV zip")
def export(request: HttpRequest, school: str, since: dt.datetime | None = None) -> HttpResponse:
    ctx = _ctx(request, school, access.may_exchange_oneroster)
    data = services.export_package(acting_user=ctx.user, school=ctx.school, since=since)
    response = HttpResponse(data, content_type="application/zip")
    kind = "delta" if since else "bulk"
    response["Content-Disposition"] = f'attachment; filename="oneroster-{ctx.school.slug}-{kind}.zip"'
    return response


@router.post("/{school}/oneroster/import", response=ImportOut, summary="Import a OneRoster 1.2 CSV zip, all or nothing")
def import_zip(request: HttpRequest, school: str, file: UploadedFile = File(...)) -> dict[str, Any]:  # noqa: B008
    ctx = _ctx(request, school, access.may_exchange_oneroster)
    if file.size is None or file.size > 20 * 1024 * 1024:
        raise DomainError(_("The file is too large."), code="too_large", field="file")
    result = services.import_package(acting_user=ctx.user, school=ctx.school, data=file.read())
    return {"counts": result.counts}


@router.post(
    "/{school}/oneroster/import-gradebook",
    response=ImportOut,
    summary="Import a OneRoster 1.2 gradebook (categories, lineItems, results) into the journals, all or nothing",
)
def import_gradebook(request: HttpRequest, school: str, file: UploadedFile = File(...)) -> dict[str, Any]:  # noqa: B008
    ctx = _ctx(request, school, access.may_exchange_oneroster)
    if file.size is None or file.size > 20 * 1024 * 1024:
        raise DomainError(_("The file is too large."), code="too_large", field="file")
    result = services.import_gradebook(acting_user=ctx.user, school=ctx.school, data=file.read())
    return {"counts": result.counts}


@router.get("/{school}/oneroster/clients", response=Page[ClientOut], summary="The school's OneRoster clients")
def list_clients(request: HttpRequest, school: str, q: Query[ClientQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school, access.may_manage_oneroster_clients)
    return paginate(request, access.oneroster_clients(ctx), q, CLIENT_SORTS, _client_out)


@router.post("/{school}/oneroster/clients", response={201: RegisteredOut}, summary="Register a platform")
def register(request: HttpRequest, school: str, payload: ClientIn) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school, access.may_manage_oneroster_clients)
    done = services.register_client(acting_user=ctx.user, school=ctx.school, name=payload.name, scopes=payload.scopes)
    return Status(201, _client_out(done.client) | {"client_secret": done.secret})


@router.delete("/{school}/oneroster/clients/{int:client_id}", response={204: None}, summary="Revoke a platform")
def revoke(request: HttpRequest, school: str, client_id: int) -> Status[None]:
    ctx = _ctx(request, school, access.may_manage_oneroster_clients)
    client = get_or_404(access.oneroster_clients(ctx), pk=client_id)
    services.revoke_client(acting_user=ctx.user, client=client)
    return Status(204, None)
