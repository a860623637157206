"""The roster's books in the API: certificates issued, parents' requests to change data, the change feed
(R7.1, R7.3, R7.6). Mounted under ``/api/v1/schools/{school}/...``; docs/records.md.

- ``GET|POST /schools/{school}/certificates`` — the book of certificates issued (``?year=``); a line is
  recorded with ``student_id``. ``GET /certificates/{id}``; ``POST /certificates/{id}/corrections`` corrects it
  (reason and the version read); ``GET /certificates/book.pdf`` prints it.
- ``GET /schools/{school}/change-requests`` — the requests the caller reviews (``?status=``);
  ``POST .../change-requests/{id}/decision`` accepts or rejects one. ``GET|POST .../change-requests/mine`` — a
  parent's own requests, and a new one.
- ``GET /schools/{school}/roster-changes?since=&until=&format=json|csv|xlsx`` — the weekly change feed.

The same rules (``classbook.access.roster_books``) and the same services (``classbook.roster.books``) as the pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from classbook.access import roster_books as rules
from classbook.access.context import SchoolContext, resolve_school
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core import exports
from classbook.core.errors import DomainError
from classbook.roster import book_print, books, feed, queries
from classbook.roster.models import ChangeRequest, ChangeTarget, DocumentKind, IssuedDocument, RequestStatus

router = Router(tags=["roster books"])

DOC_SORTS = Sorts("issued_on", issued_on="issued_on", number=("series", "number"), id="id")
REQUEST_SORTS = Sorts("created_at", created_at="created_at", status="status", id="id")
FEED_SORTS = Sorts("at", at="at")


def _ctx(request: HttpRequest, school: str) -> SchoolContext:
    return resolve_school(request.user, school)


def _require(condition: bool) -> None:
    if not condition:
        raise PermissionDenied


# --- the book of certificates issued ----------------------------------------------------------------------


class DocumentValues(Schema):
    kind: DocumentKind
    series: str = Field(..., min_length=1, max_length=10)
    number: str = Field(..., min_length=1, max_length=20)
    issued_on: dt.date
    received_by_guardian: int | None = Field(
        None, ge=1, le=2**62, description="A guardian of the student; empty: the student"
    )
    received_by_name: str = Field("", max_length=255, description="Another person (power of attorney)")
    receipt_signed: bool = False
    remarks: str = Field("", max_length=500)


class DocumentIn(DocumentValues):
    student_id: int = Field(..., ge=1, le=2**62)


class CorrectionIn(DocumentValues):
    reason: str = Field(..., min_length=1, max_length=500)
    version: int = Field(..., ge=1, le=2**31, description="The version read; another correction meanwhile: 409")


class DocumentOut(Schema):
    id: int
    student_id: int
    student: str
    kind: str
    series: str
    number: str
    issued_on: dt.date
    received_by_guardian: int | None
    received_by_name: str
    receipt_signed: bool
    remarks: str
    version: int


DocumentPage = Page[DocumentOut]


class YearQuery(Schema):
    year: int | None = Field(None, ge=1950, le=2200)


class CertificateQuery(ListQuery):
    year: int | None = Field(None, ge=1950, le=2200, description="Only documents issued in this calendar year")
    sort: str = DOC_SORTS.field()


def _doc_out(d: IssuedDocument) -> dict[str, Any]:
    return {
        "id": d.pk,
        "student_id": d.student_id,
        "student": d.student.user.full_name,
        **{k: getattr(d, k) for k in ("kind", "series", "number", "issued_on", "received_by_name")},
        "received_by_guardian": d.received_by_guardian_id,
        "receipt_signed": d.receipt_signed,
        "remarks": d.remarks,
        "version": d.version,
    }


@router.get("/{slug:school}/certificates", response=DocumentPage, summary="The book of certificates issued (R7.3)")
def certificate_list(request: HttpRequest, school: str, params: Query[CertificateQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(rules.may_read_certificate_book(ctx))
    return paginate(request, queries.certificate_book_rows(ctx, params.year), params, DOC_SORTS, _doc_out)


@router.post("/{slug:school}/certificates", response={201: DocumentOut}, summary="Record a document issued")
def certificate_create(request: HttpRequest, school: str, payload: DocumentIn) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school)
    _require(rules.may_keep_certificate_book(ctx))
    data = payload.dict()
    student_id = data.pop("student_id")
    student = rules.certificate_students(ctx).filter(pk=student_id).first()
    if student is None:
        raise DomainError(_("Unknown student."), field="student_id")
    doc = books.record_issued_document(ctx=ctx, student=student, data=data)
    return Status(201, _doc_out(get_or_404(rules.issued_documents(ctx), pk=doc.pk)))


@router.get("/{slug:school}/certificates/book.pdf", response={200: None}, summary="The book as a PDF")
def certificate_pdf(request: HttpRequest, school: str, params: Query[YearQuery]) -> HttpResponse:
    ctx = _ctx(request, school)
    _require(rules.may_read_certificate_book(ctx))
    return exports.download_pdf(book_print.certificate_book_pdf(ctx, params.year), "certificate-book")


@router.get("/{slug:school}/certificates/{int:document_id}", response=DocumentOut, summary="A line of the book")
def certificate_detail(request: HttpRequest, school: str, document_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(rules.may_read_certificate_book(ctx))
    return _doc_out(get_or_404(rules.issued_documents(ctx), pk=document_id))


@router.post(
    "/{slug:school}/certificates/{int:document_id}/corrections",
    response=DocumentOut,
    summary="Correct a line (the old values stay in the audit log; nothing is deleted)",
)
def certificate_correct(request: HttpRequest, school: str, document_id: int, payload: CorrectionIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(rules.may_read_certificate_book(ctx))
    document = get_or_404(rules.issued_documents(ctx), pk=document_id)
    _require(rules.may_keep_certificate_book(ctx))
    data = payload.dict()
    reason, version = data.pop("reason"), data.pop("version")
    books.correct_issued_document(ctx=ctx, document=document, data=data, reason=reason, expected_version=version)
    return _doc_out(get_or_404(rules.issued_documents(ctx), pk=document_id))


# --- parents' requests to change personal data -------------------------------------------------------------


class ChangeValues(Schema):
    last_name: str = Field("", max_length=150)
    first_name: str = Field("", max_length=150)
    patronymic: str = Field("", max_length=150)
    address: str = Field("", max_length=255)
    phone: str = Field("", max_length=32)
    email: str = Field("", max_length=254)


class ChangeRequestIn(Schema):
    student_id: int = Field(..., ge=1, le=2**62, description="Your child the request is about")
    target: ChangeTarget
    changes: ChangeValues = Field(description="Only the new values; empty fields mean no change")
    reason: str = Field("", max_length=500, description="Required for a change of name")


class DecisionIn(Schema):
    accept: bool
    reason: str = Field("", max_length=500, description="Required for a rejection")


class ChangeRequestOut(Schema):
    id: int
    student_id: int
    student: str
    requested_by: str
    target: str
    changes: dict[str, str]
    reason: str
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    decision_reason: str


ChangeRequestPage = Page[ChangeRequestOut]


class StatusQuery(ListQuery):
    status: RequestStatus | None = None
    sort: str = REQUEST_SORTS.field()


class MineQuery(ListQuery):
    sort: str = REQUEST_SORTS.field()


def _request_out(r: ChangeRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "student_id": r.student_id,
        "student": r.student.user.full_name,
        "requested_by": r.requested_by.full_name,
        "target": r.target,
        "changes": r.changes,
        "reason": r.reason,
        "status": r.status,
        "created_at": r.created_at,
        "decided_at": r.decided_at,
        "decided_by": r.decided_by.full_name if r.decided_by else None,
        "decision_reason": r.decision_reason,
    }


@router.get(
    "/{slug:school}/change-requests", response=ChangeRequestPage, summary="Requests to change data the caller reviews"
)
def change_request_list(request: HttpRequest, school: str, params: Query[StatusQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(rules.may_review_change_requests(ctx))
    qs = rules.reviewable_change_requests(ctx)
    if params.status is not None:
        qs = qs.filter(status=params.status)
    return paginate(request, qs, params, REQUEST_SORTS, _request_out)


@router.get("/{slug:school}/change-requests/mine", response=ChangeRequestPage, summary="A parent's own requests")
def my_change_requests(request: HttpRequest, school: str, params: Query[MineQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(rules.may_request_changes(ctx))
    qs = rules.own_change_requests(ctx).select_related("requested_by")
    return paginate(request, qs, params, REQUEST_SORTS, _request_out)


@router.post(
    "/{slug:school}/change-requests/mine",
    response={201: ChangeRequestOut},
    summary="A parent reports new personal data of their child or themselves (R7.6)",
)
def change_request_create(request: HttpRequest, school: str, payload: ChangeRequestIn) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school)
    _require(rules.may_request_changes(ctx))
    student = get_or_404(rules.requestable_children(ctx), pk=payload.student_id)
    changes = {k: v for k, v in payload.changes.dict().items() if v.strip()}
    created = books.submit_change_request(
        ctx=ctx, student=student, target=payload.target, changes=changes, reason=payload.reason
    )
    return Status(201, _request_out(created))


@router.post(
    "/{slug:school}/change-requests/{int:request_id}/decision",
    response=ChangeRequestOut,
    summary="Accept (the values are applied) or reject (with a reason) a request",
)
def change_request_decide(request: HttpRequest, school: str, request_id: int, payload: DecisionIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    _require(rules.may_review_change_requests(ctx))
    change = get_or_404(rules.reviewable_change_requests(ctx), pk=request_id)
    decided = books.decide_change_request(ctx=ctx, request=change, accept=payload.accept, reason=payload.reason)
    return _request_out(get_or_404(rules.reviewable_change_requests(ctx), pk=decided.pk))


# --- the weekly change feed ------------------------------------------------------------------------------


class FeedQuery(ListQuery):
    since: dt.date | None = Field(None, description="The first day (default: a week before the last day)")
    until: dt.date | None = Field(None, description="The last day (default: today)")
    format: Literal["json", "csv", "xlsx"] = "json"
    sort: str = FEED_SORTS.field()


class FeedRowOut(Schema):
    at: dt.datetime
    section: str
    what: str
    person: str
    details: str
    actor: str


FeedPage = Page[FeedRowOut]


@router.get(
    "/{slug:school}/roster-changes",
    response={200: FeedPage},
    summary="What changed in the class lists and the staff list since a day (R7.1); CSV and XLSX too",
)
def change_feed(request: HttpRequest, school: str, params: Query[FeedQuery]) -> Any:
    ctx = _ctx(request, school)
    _require(rules.may_read_change_feed(ctx))
    since, until = feed.check_range(params.since, params.until)
    rows = feed.change_feed(ctx, since, until)
    if params.format != "json":
        name = f"changes-{since.isoformat()}-{until.isoformat()}"
        return exports.export(params.format, _("Changes"), feed.headers(), [r.cells() for r in rows], name)
    items = [
        {"at": r.at, "section": r.section, "what": r.what, "person": r.person, "details": r.details, "actor": r.actor}
        for r in rows
    ]
    return paginate(request, items, params, FEED_SORTS)
