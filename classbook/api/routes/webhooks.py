"""Webhooks of a school (issue 18): the administrators' subscriptions, their secrets (returned once, on
creation and rotation), test deliveries and the delivery log. Thin: ``webhooks.queries`` and
``webhooks.services``; who may is ``access.webhooks.may_manage_webhooks``, as on the page."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from classbook.access import webhooks as rules
from classbook.access.context import SchoolContext, school_for
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.webhooks import queries, services
from classbook.webhooks.models import SUBSCRIBABLE, DeliveryStatus

router = Router(tags=["webhooks"])

EventName = Literal[tuple(str(e) for e in SUBSCRIBABLE)]  # type: ignore[valid-type]  # the enum in the document
StatusName = Literal[tuple(str(s) for s in DeliveryStatus)]  # type: ignore[valid-type]


class SubscriptionIn(Schema):
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://", description="https:// (see docs/api.md)")
    events: list[EventName] = Field(min_length=1, max_length=len(SUBSCRIBABLE))  # type: ignore[valid-type]
    description: str = Field("", max_length=200)


class SubscriptionPatch(Schema):
    url: str | None = Field(None, min_length=8, max_length=500, pattern=r"^https?://")
    events: list[EventName] | None = Field(None, min_length=1, max_length=len(SUBSCRIBABLE))  # type: ignore[valid-type]
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class SubscriptionOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    is_active: bool
    created_at: dt.datetime
    previous_secret_until: dt.datetime | None = Field(description="Until when the previous secret also signs")


class SubscriptionListOut(SubscriptionOut):
    waiting: int
    failed: int
    last_delivery_at: dt.datetime | None


class SecretOut(Schema):
    secret: str = Field(description="The signing secret. Shown only in this response; store it safely.")


class SubscriptionCreated(SubscriptionOut, SecretOut):
    pass


class RotateIn(Schema):
    keep_previous: bool = Field(True, description="Let the previous secret sign for 24 more hours")


class DeliveryOut(Schema):
    id: int
    event_id: uuid.UUID
    event: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    next_attempt_at: dt.datetime | None


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any]


WEBHOOK_SORTS = Sorts("created_at", created_at="created_at", url="url", id="id")
DELIVERY_SORTS = Sorts(
    "-created_at,-id",
    created_at="created_at",
    status="status",
    attempts="attempts",
    last_attempt_at="last_attempt_at",
    id="id",
)


class WebhookQuery(ListQuery):
    sort: str = WEBHOOK_SORTS.field()


class DeliveryQuery(ListQuery):
    status: StatusName | None = Field(None, description="Only deliveries in this state")  # type: ignore[valid-type]
    sort: str = DELIVERY_SORTS.field()


def _ctx(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, rules.may_manage_webhooks)


def _delivery_out(row: Any) -> dict[str, Any]:
    out = {k: getattr(row, k) for k in DeliveryOut.model_fields}
    out["next_attempt_at"] = row.next_attempt_at if row.status == DeliveryStatus.PENDING else None
    return out


@router.get("/{school}/webhooks", response=Page[SubscriptionListOut], summary="The school's webhooks")
def list_webhooks(request: HttpRequest, school: str, q: Query[WebhookQuery]) -> dict[str, Any]:
    return paginate(request, queries.subscriptions(_ctx(request, school)), q, WEBHOOK_SORTS)


@router.post("/{school}/webhooks", response={201: SubscriptionCreated}, summary="Add a webhook (secret returned once)")
def create_webhook(request: HttpRequest, school: str, payload: SubscriptionIn) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school)
    sub, secret = services.create_subscription(
        acting_user=ctx.user, school=ctx.school, url=payload.url, events=payload.events, description=payload.description
    )
    return Status(201, {**SubscriptionOut.from_orm(sub).dict(), "secret": secret})


@router.get("/{school}/webhooks/{int:webhook_id}", response=SubscriptionOut, summary="One webhook")
def get_webhook(request: HttpRequest, school: str, webhook_id: int) -> Any:
    return queries.subscription(_ctx(request, school), webhook_id)


@router.patch("/{school}/webhooks/{int:webhook_id}", response=SubscriptionOut, summary="Change a webhook")
def update_webhook(request: HttpRequest, school: str, webhook_id: int, payload: SubscriptionPatch) -> Any:
    ctx = _ctx(request, school)
    sub = queries.subscription(ctx, webhook_id)
    return services.update_subscription(acting_user=ctx.user, subscription=sub, **payload.dict(exclude_unset=True))


@router.delete("/{school}/webhooks/{int:webhook_id}", response={204: None}, summary="Delete a webhook and its log")
def delete_webhook(request: HttpRequest, school: str, webhook_id: int) -> Status[None]:
    ctx = _ctx(request, school)
    services.delete_subscription(acting_user=ctx.user, subscription=queries.subscription(ctx, webhook_id))
    return Status(204, None)


@router.post(
    "/{school}/webhooks/{int:webhook_id}/rotate-secret",
    response=SecretOut,
    summary="A new signing secret (returned once)",
)
def rotate_webhook_secret(request: HttpRequest, school: str, webhook_id: int, payload: RotateIn) -> dict[str, str]:
    ctx = _ctx(request, school)
    sub = queries.subscription(ctx, webhook_id)
    return {
        "secret": services.rotate_secret(acting_user=ctx.user, subscription=sub, keep_previous=payload.keep_previous)
    }


@router.post(
    "/{school}/webhooks/{int:webhook_id}/ping", response={202: DeliveryOut}, summary="Send a test delivery (event ping)"
)
def ping_webhook(request: HttpRequest, school: str, webhook_id: int) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school)
    row = services.send_ping(acting_user=ctx.user, subscription=queries.subscription(ctx, webhook_id))
    return Status(202, _delivery_out(row))


@router.get(
    "/{school}/webhooks/{int:webhook_id}/deliveries",
    response=Page[DeliveryOut],
    summary="The delivery log, newest first by default",
)
def list_deliveries(request: HttpRequest, school: str, webhook_id: int, q: Query[DeliveryQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    rows = queries.delivery_log(ctx, queries.subscription(ctx, webhook_id), status=q.status).defer("payload")
    return paginate(request, rows, q, DELIVERY_SORTS, _delivery_out)


@router.get(
    "/{school}/webhooks/{int:webhook_id}/deliveries/{int:delivery_id}",
    response=DeliveryDetailOut,
    summary="One delivery with its payload",
)
def get_delivery(request: HttpRequest, school: str, webhook_id: int, delivery_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    row = queries.delivery(ctx, queries.subscription(ctx, webhook_id), delivery_id)
    return {**_delivery_out(row), "payload": row.payload}


@router.post(
    "/{school}/webhooks/{int:webhook_id}/deliveries/{int:delivery_id}/redeliver",
    response={202: DeliveryOut},
    summary="Send a delivered or failed delivery again",
)
def redeliver(request: HttpRequest, school: str, webhook_id: int, delivery_id: int) -> Status[dict[str, Any]]:
    ctx = _ctx(request, school)
    row = queries.delivery(ctx, queries.subscription(ctx, webhook_id), delivery_id)
    return Status(202, _delivery_out(services.redeliver(acting_user=ctx.user, delivery=row)))
