"""The school's signing certificate (issue 12): the active one, the history, upload (multipart: the PKCS#12
``file``, its ``password``, an optional ``tsa_url``) and removal. Thin: ``signing.queries`` and
``signing.services``; who may is ``access.signing.may_manage_signing``, as on the page. The encrypted file
and its password are never answered."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from classbook.access import signing as rules
from classbook.access.context import SchoolContext, school_for
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.signing import queries, services
from classbook.signing.certificates import read_upload

router = Router(tags=["signing"])


class CertificateOut(Schema):
    id: int
    is_active: bool
    subject: str
    issuer: str
    serial: str = Field(description="Hexadecimal")
    valid_from: dt.datetime
    valid_until: dt.datetime
    fingerprint: str = Field(description="SHA-256 of the certificate (DER), hexadecimal")
    tsa_url: str = Field(description="The school's timestamp authority; empty: SIGNING_TSA_URL or none")
    days_left: int
    expires_soon: bool = Field(description="Expires within 30 days (or already has)")
    uploaded_at: dt.datetime
    retired_at: dt.datetime | None


class UploadIn(Schema):
    password: str = Field("", max_length=200)
    tsa_url: str = Field("", max_length=500)


SORTS = Sorts("-uploaded_at,-id", uploaded_at="uploaded_at", valid_until="valid_until", id="id")


class CertificateQuery(ListQuery):
    sort: str = SORTS.field()


def _ctx(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, rules.may_manage_signing)


def _out(cert: Any) -> dict[str, Any]:
    out = {k: getattr(cert, k) for k in CertificateOut.model_fields if k not in ("days_left", "expires_soon")}
    return {**out, "days_left": cert.days_left(), "expires_soon": cert.expires_soon()}


@router.get("/{school}/signing/certificate", response=CertificateOut, summary="The school's active certificate")
def get_certificate(request: HttpRequest, school: str) -> dict[str, Any]:
    active = queries.certificate_page(_ctx(request, school)).active
    if active is None:
        raise Http404
    return _out(active)


@router.get(
    "/{school}/signing/certificates", response=Page[CertificateOut], summary="Every certificate, retired ones too"
)
def list_certificates(request: HttpRequest, school: str, q: Query[CertificateQuery]) -> dict[str, Any]:
    return paginate(request, queries.certificates(_ctx(request, school)), q, SORTS, _out)


@router.post(
    "/{school}/signing/certificate",
    response={201: CertificateOut},
    summary="Upload or replace the certificate (multipart: `file`, `password`, `tsa_url`)",
)
def upload_certificate(
    request: HttpRequest, school: str, payload: Form[UploadIn], file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school)
    cert = services.upload_certificate(
        acting_user=ctx.user,
        school=ctx.school,
        data=read_upload(file),
        password=payload.password,
        tsa_url=payload.tsa_url,
    )
    return Status(201, _out(cert))


@router.delete(
    "/{school}/signing/certificate", response={204: None}, summary="Remove the certificate (kept as history)"
)
def remove_certificate(request: HttpRequest, school: str) -> Status[None]:
    ctx = _ctx(request, school)
    services.remove_certificate(acting_user=ctx.user, school=ctx.school)
    return Status(204, None)
