"""The book of orders and the record books (R7.2, R7.3, R7.5), under ``/api/v1/schools/{school}/``:

- ``GET  orders?year_id=&kind=`` — the book of orders (paged); ``GET orders/next-number?year_id=``;
- ``POST orders`` — draft an order (201); ``GET|PUT|DELETE orders/{id}`` (a signed order: 409);
- ``POST orders/{id}/sign`` — the director signs; the order takes effect at once when its day has come;
- ``POST years/{year_id}/close`` — end the year's open enrolments (``{"on": date}``, default its last day);
- ``GET  students/{id}/personal-file`` (JSON) and ``students/{id}/personal-file.pdf``.

Who may is ``classbook.access.records`` (as on the pages); writes go through ``classbook.records.services``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from classbook.access import records as rules
from classbook.access import scopes
from classbook.access.context import SchoolContext, school_for
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.records import documents, queries, services
from classbook.records.models import LineInput, Order, OrderInput, OrderKind

router = Router(tags=["records"])

SORTS = Sorts("-date,-number", date="date", number="number", id="id")


class OrderQuery(ListQuery):
    year_id: int | None = Field(None, ge=1, le=2**62)
    kind: OrderKind | None = None
    sort: str = SORTS.field()


class LineIn(Schema):
    student_id: int | None = Field(None, ge=1, le=2**62)
    new_student: dict[str, str] = Field(
        default_factory=dict, description="An arrival of a new student: last_name, first_name, patronymic, birth_date"
    )
    target_class_id: int | None = Field(None, ge=1, le=2**62)
    study_form: str = Field("", max_length=12)
    reason: str = Field("", max_length=255)


class OrderIn(Schema):
    year_id: int = Field(..., ge=1, le=2**62)
    number: int = Field(..., ge=1, le=99999)
    date: dt.date
    effective_on: dt.date
    kind: OrderKind
    text: str = Field(..., min_length=1, max_length=4000)
    lines: list[LineIn] = Field(default_factory=list, max_length=200)
    corrects_id: int | None = Field(None, ge=1, le=2**62)


class LineOut(Schema):
    student_id: int | None
    name: str
    target_class_id: int | None
    study_form: str
    reason: str


class OrderOut(Schema):
    id: int
    year_id: int
    number: int
    reference: str
    date: dt.date
    effective_on: dt.date
    kind: str
    text: str
    corrects_id: int | None
    signed: bool
    signed_by: str
    signed_at: dt.datetime | None
    applied_at: dt.datetime | None
    lines: list[LineOut]


class NextNumberOut(Schema):
    year_id: int
    number: int


class CloseIn(Schema):
    on: dt.date | None = None


class CloseOut(Schema):
    year_id: int
    closed: int


class MovementOut(Schema):
    day: dt.date
    what: str
    school_class: str
    reference: str


class ResultsOut(Schema):
    year: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


class PersonalFileOut(Schema):
    student_id: int
    full_name: str
    personal_file_number: str
    birth_date: dt.date | None
    address: str = Field(description="Empty unless the caller may see contacts")
    left_on: dt.date | None
    movements: list[MovementOut]
    results: list[ResultsOut]
    consents: list[dict[str, Any]]


def _ctx(request: HttpRequest, school: str, rule: Any) -> SchoolContext:
    return school_for(request.user, school, rule)


def _out(order: Order) -> dict[str, Any]:
    return {
        "id": order.pk,
        "year_id": order.year_id,
        "number": order.number,
        "reference": order.reference,
        "date": order.date,
        "effective_on": order.effective_on,
        "kind": order.kind,
        "text": order.text,
        "corrects_id": order.corrects_id,
        "signed": order.is_signed,
        "signed_by": order.signed_by.full_name if order.signed_by else "",
        "signed_at": order.signed_at,
        "applied_at": order.applied_at,
        "lines": [
            {
                "student_id": ln.student_id,
                "name": ln.name,
                "target_class_id": ln.target_class_id,
                "study_form": ln.study_form,
                "reason": ln.reason,
            }
            for ln in order.lines.all()
        ],
    }


def _input(body: OrderIn) -> OrderInput:
    return OrderInput(
        year_id=body.year_id,
        number=body.number,
        date=body.date,
        effective_on=body.effective_on,
        kind=str(body.kind),
        text=body.text,
        corrects_id=body.corrects_id,
        lines=[
            LineInput(
                student_id=ln.student_id,
                new_student=dict(ln.new_student),
                target_class_id=ln.target_class_id,
                study_form=ln.study_form,
                reason=ln.reason,
            )
            for ln in body.lines
        ],
    )


@router.get("/{school}/orders", response=Page[OrderOut], summary="The book of orders (R7.5)")
def list_orders(request: HttpRequest, school: str, q: Query[OrderQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_read_orders)
    qs = rules.orders(ctx).prefetch_related("lines__student__user")
    if q.year_id is not None:
        qs = qs.filter(year_id=q.year_id)
    if q.kind is not None:
        qs = qs.filter(kind=q.kind)
    return paginate(request, qs, q, SORTS, _out)


@router.get("/{school}/orders/next-number", response=NextNumberOut, summary="The suggested next number")
def next_number(request: HttpRequest, school: str, year_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_read_orders)
    year = scopes.get_or_404(queries.years(ctx), pk=year_id)
    return {"year_id": year.pk, "number": services.suggested_number(ctx.school, year)}


@router.post("/{school}/orders", response={201: OrderOut}, summary="Draft an order")
def create_order(request: HttpRequest, school: str, body: OrderIn) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school, rules.may_draft_orders)
    order = services.create_order(acting_user=ctx.user, school=ctx.school, data=_input(body))
    return Status(201, _out(queries.order_detail(ctx, order.pk)))


@router.get("/{school}/orders/{order_id}", response=OrderOut, summary="One order with its lines")
def get_order(request: HttpRequest, school: str, order_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_read_orders)
    return _out(queries.order_detail(ctx, order_id))


@router.put("/{school}/orders/{order_id}", response=OrderOut, summary="Change a draft (a signed order: 409)")
def update_order(request: HttpRequest, school: str, order_id: int, body: OrderIn) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_draft_orders)
    order = services.update_order(acting_user=ctx.user, order=queries.order_detail(ctx, order_id), data=_input(body))
    return _out(queries.order_detail(ctx, order.pk))


@router.delete("/{school}/orders/{order_id}", response={204: None}, summary="Delete a draft (a signed order: 409)")
def delete_order(request: HttpRequest, school: str, order_id: int) -> Status[None]:
    ctx = _ctx(request, school, rules.may_draft_orders)
    services.delete_draft(acting_user=ctx.user, order=queries.order_detail(ctx, order_id))
    return Status(204, None)


@router.post("/{school}/orders/{order_id}/sign", response=OrderOut, summary="Sign an order (the director)")
def sign_order(request: HttpRequest, school: str, order_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_sign_orders)
    services.sign_order(acting_user=ctx.user, order=queries.order_detail(ctx, order_id))
    return _out(queries.order_detail(ctx, order_id))


@router.post("/{school}/years/{year_id}/close", response=CloseOut, summary="Close a school year's enrolments")
def close_year(request: HttpRequest, school: str, year_id: int, body: CloseIn) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_close_years)
    year = scopes.get_or_404(queries.years(ctx), pk=year_id)
    return {"year_id": year.pk, "closed": services.close_year(acting_user=ctx.user, year=year, on=body.on)}


@router.get("/{school}/students/{student_id}/personal-file", response=PersonalFileOut, summary="A personal file")
def personal_file(request: HttpRequest, school: str, student_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school, rules.may_read_personal_files)
    file = queries.personal_file(ctx, student_id)
    s = file.student
    return {
        "student_id": s.pk,
        "full_name": s.user.full_name,
        "personal_file_number": s.personal_file_number,
        "birth_date": s.birth_date,
        "address": s.address if file.show_contacts else "",
        "left_on": s.left_on,
        "movements": [vars(m) for m in file.movements],
        "results": [vars(r) for r in file.results],
        "consents": [
            {"purpose": c.purpose, "given_by": c.given_by, "given_on": c.given_on, "withdrawn_on": c.withdrawn_on}
            for c in file.consents
        ],
    }


@router.get("/{school}/students/{student_id}/personal-file.pdf", summary="A personal file as PDF (to hand over)")
def personal_file_pdf(request: HttpRequest, school: str, student_id: int) -> HttpResponse:
    ctx = _ctx(request, school, rules.may_read_personal_files)
    file = queries.personal_file(ctx, student_id)
    response = HttpResponse(documents.personal_file_pdf(ctx.school, file), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="personal-file-{file.student.pk}.pdf"'
    return response
