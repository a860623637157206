"""The school's archives over JSON (issue 12): ``/api/v1/schools/{school}/archives``.

``GET …/archives`` lists them (the one page envelope); ``GET …/archives/{id}`` is one, ``…/{id}/file`` its
PDF/A file; ``DELETE …/archives/{id}`` is always refused (409: kept until its term, then destroyed only by a
destruction act) and audited. ``POST …/archives/builds`` starts a build ("build now") and answers **202**
with its ``Location``; ``GET …/archives/builds/{id}`` is its progress (``done`` of ``total`` classes),
``POST …/archives/builds/{id}/retry`` tries a failed build again (409 ``not_failed`` for any other).
``GET …/archives/verification`` runs the verification. The same rules as the pages (``classbook/access/archive.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from classbook.access import archive as access
from classbook.access.context import SchoolContext, school_for
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.archive import queries, schedule, services, verify
from classbook.archive.models import ArchiveBuild, ArchiveRecord
from classbook.core import uploads
from classbook.core.errors import DomainError

router = Router(tags=["archives"])

ARCHIVE_SORTS = Sorts("-sequence", sequence="sequence", created_at="created_at", size="size", id="id")


class ArchiveQuery(ListQuery):
    sort: str = ARCHIVE_SORTS.field()


class ArchiveOut(Schema):
    id: int
    number: int = Field(description="The record's place in the school's hash chain")
    kind: Literal["weekly", "semester", "year"]
    document: Literal["journal", "summary"]
    school_class: int
    class_name: str
    period: int | None
    start: dt.date
    end: dt.date
    created_at: dt.datetime
    filename: str
    size: int
    sha256: str
    previous_hash: str
    record_hash: str
    signature: Literal["signed", "unsigned"]
    signature_level: str = Field(description='"PAdES-B-B", "PAdES-B-T" or "PAdES-B-LT"; empty when not signed')
    signature_not_lt: str = Field(
        description="Why the signature is not B-LT: no_revocation_info, no_root, revocation_unreachable, "
        "no_timestamp, disabled, not_supported; empty for B-LT and unsigned archives"
    )
    retain_until: dt.date
    destroyed_at: dt.datetime | None
    file: str | None = Field(description="The file's URL (None once destroyed)")


class BuildIn(Schema):
    kind: Literal["weekly", "semester", "year"]
    period: int | None = Field(None, description="The semester (a study period's id) for kind=semester")


class BuildOut(Schema):
    id: int
    kind: str
    start: dt.date
    end: dt.date
    status: Literal["queued", "running", "done", "failed"]
    done: int = Field(ge=0)
    total: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ProblemOut(Schema):
    number: int | None
    what: str
    message: str
    expected: str
    found: str


class VerificationOut(Schema):
    ok: bool
    records: int
    files: int
    signatures: int
    destroyed: int
    problems: list[ProblemOut]


def _ctx(request: HttpRequest, school: str, rule: Callable[[SchoolContext], bool]) -> SchoolContext:
    return school_for(request.user, school, rule)


def _archive_out(school: str) -> Callable[[ArchiveRecord], dict[str, Any]]:
    def out(r: ArchiveRecord) -> dict[str, Any]:
        return {
            "id": r.pk,
            "number": r.sequence,
            "kind": r.kind,
            "document": r.document,
            "school_class": r.school_class_id,
            "class_name": r.school_class.name,
            "period": r.period_id,
            "start": r.start,
            "end": r.end,
            "created_at": r.created_at,
            "filename": r.filename,
            "size": r.size,
            "sha256": r.sha256,
            "previous_hash": r.previous_hash,
            "record_hash": r.record_hash,
            "signature": r.signature,
            "signature_level": r.signature_level,
            "signature_not_lt": r.signature_not_lt,
            "retain_until": r.retain_until,
            "destroyed_at": r.destroyed_at,
            "file": None if r.destroyed_at else f"/api/v1/schools/{school}/archives/{r.pk}/file",
        }

    return out


def _build_out(b: ArchiveBuild) -> dict[str, Any]:
    return {k: getattr(b, k) for k in BuildOut.model_fields}


@router.get("/{school}/archives", response=Page[ArchiveOut], summary="The school's archives")
def list_archives(request: HttpRequest, school: str, q: Query[ArchiveQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school, access.may_read_archives)
    rows = queries.records_for_list(access.archive_records(ctx))
    return paginate(request, rows, q, ARCHIVE_SORTS, _archive_out(school))


@router.post("/{school}/archives/builds", response={202: BuildOut}, summary="Make an archive now, in the background")
def start_build(request: HttpRequest, school: str, payload: BuildIn, response: HttpResponse) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school, access.may_build_archives)  # the administration acting in its role
    today = timezone.localdate()
    period = next((p for p in schedule.semesters(ctx.school, today) if p.pk == payload.period), None)
    due = schedule.manual(ctx.school, payload.kind, period, today)
    if due is None:
        raise DomainError(_("Choose a semester of the current school year."), code="invalid_period", field="period")
    build = due.start_build(ctx.school, ctx.user)
    assert build is not None  # a build someone asked for is never a duplicate
    response["Location"] = f"/api/v1/schools/{school}/archives/builds/{build.pk}"
    return Status(202, _build_out(build))


@router.get("/{school}/archives/builds/{int:build_id}", response=BuildOut, summary="An archive build's progress")
def get_build(request: HttpRequest, school: str, build_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school, access.may_build_archives)
    return _build_out(get_or_404(access.archive_builds(ctx), pk=build_id))


@router.post(
    "/{school}/archives/builds/{int:build_id}/retry", response={202: BuildOut}, summary="Try a failed build again"
)
def retry_build(request: HttpRequest, school: str, build_id: int, response: HttpResponse) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school, access.may_build_archives)
    build = services.retry_build(acting_user=ctx.user, build=get_or_404(access.archive_builds(ctx), pk=build_id))
    response["Location"] = f"/api/v1/schools/{school}/archives/builds/{build.pk}"
    return Status(202, _build_out(build))


@router.get("/{school}/archives/verification", response=VerificationOut, summary="Verify files, chain and signatures")
def verification(request: HttpRequest, school: str) -> dict[str, Any]:
    ctx = _ctx(request, school, access.may_verify_archives)
    result = verify.verify(ctx.school)
    return {
        "ok": result.ok,
        "records": result.records,
        "files": result.files,
        "signatures": result.signatures,
        "destroyed": result.destroyed,
        "problems": [
            {"number": p.sequence, "what": p.what, "message": p.message, "expected": p.expected, "found": p.found}
            for p in result.problems
        ],
    }


@router.get("/{school}/archives/{int:archive_id}", response=ArchiveOut, summary="One archive")
def get_archive(request: HttpRequest, school: str, archive_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school, access.may_read_archives)
    return _archive_out(school)(get_or_404(queries.records_for_list(access.archive_records(ctx)), pk=archive_id))


@router.get("/{school}/archives/{int:archive_id}/file", summary="An archive's PDF/A file")
def archive_file(request: HttpRequest, school: str, archive_id: int) -> FileResponse:
    ctx = _ctx(request, school, access.may_read_archives)
    record = get_or_404(access.archive_records(ctx), pk=archive_id)
    if record.destroyed_at is not None or not record.file:
        raise Http404
    return uploads.file_response(record.file, name=record.filename, mime=record.mime_type)


@router.delete("/{school}/archives/{int:archive_id}", response={204: None}, summary="Refused: archives are kept")
def delete_archive(request: HttpRequest, school: str, archive_id: int) -> Status[None]:
    ctx = _ctx(request, school, access.may_read_archives)
    services.refuse_delete(acting_user=ctx.user, record=get_or_404(access.archive_records(ctx), pk=archive_id))
