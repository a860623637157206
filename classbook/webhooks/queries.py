"""Read models of the webhooks page and API: the school's subscriptions with their log counts, one
subscription, and a page of its delivery log. Every read starts from ``access.webhooks``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from classbook.access import webhooks as rules
from classbook.access.context import SchoolContext
from classbook.access.scopes import get_or_404
from classbook.webhooks.models import Delivery, DeliveryStatus, Subscription

MAX_PAGE = 100


def _count(status: str) -> Coalesce:
    rows = Delivery.objects.filter(subscription=OuterRef("pk"), status=status).order_by().values("subscription")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), Value(0), output_field=IntegerField())


def subscriptions(ctx: SchoolContext) -> QuerySet[Subscription]:
    """One query: each subscription with its waiting and failed deliveries and its last delivery time.

    Subqueries on indexes (``webhook_delivery_open``, ``webhook_delivery_log``), so the cost does not grow
    with the delivered part of the log.
    """
    last = Delivery.objects.filter(subscription=OuterRef("pk")).order_by("-created_at", "-id").values("created_at")
    return (
        rules.webhook_subscriptions(ctx)
        .annotate(
            waiting=_count(DeliveryStatus.PENDING),
            failed=_count(DeliveryStatus.FAILED),
            last_delivery_at=Subquery(last[:1]),
        )
        .order_by("created_at", "id")
    )


def subscription(ctx: SchoolContext, subscription_id: int) -> Subscription:
    """One of the school's subscriptions, else 404 (another school's id, or a caller who does not manage)."""
    return get_or_404(rules.webhook_subscriptions(ctx).select_related("school"), pk=subscription_id)


def delivery(ctx: SchoolContext, sub: Subscription, delivery_id: int) -> Delivery:
    return get_or_404(rules.webhook_deliveries(ctx, sub), pk=delivery_id)


@dataclass(frozen=True)
class DeliveryPage:
    total: int
    limit: int
    offset: int
    items: list[Delivery]


def delivery_log(ctx: SchoolContext, sub: Subscription, *, status: str | None = None) -> QuerySet[Delivery]:
    """The subscription's delivery log, optionally of one status, unordered and unsliced: the API orders and
    pages it (``api.pagination``; one query for the page, a ``COUNT`` only when the page does not tell it)."""
    rows = rules.webhook_deliveries(ctx, sub)
    return rows.filter(status=status) if status else rows


def deliveries(
    ctx: SchoolContext, sub: Subscription, *, limit: int = 50, offset: int = 0, status: str | None = None
) -> DeliveryPage:
    """Newest first; two queries (the count and the page)."""
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    rows = delivery_log(ctx, sub, status=status)
    items = list(rows.order_by("-created_at", "-id")[offset : offset + limit])
    return DeliveryPage(total=rows.count(), limit=limit, offset=offset, items=items)
