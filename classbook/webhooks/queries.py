"""Read models of the webhooks page and API: the school's subscriptions with their log counts, one
subscription, and a page of its delivery log. Every read starts from ``access.webhooks``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from classbook.access import webhooks as rules
from classbook.access.context import SchoolContext
from classbook.access.scopes import get_or_404
from classbook.webhooks.models import Delivery, DeliveryStatus, Subscription

MAX_PAGE = 100


def subscriptions(ctx: SchoolContext) -> QuerySet[Subscription]:
    """One query: each subscription with its waiting and failed deliveries and its last delivery time."""
    return (
        rules.webhook_subscriptions(ctx)
        .annotate(
            waiting=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
            failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
            last_delivery_at=Max("deliveries__created_at"),
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


def deliveries(
    ctx: SchoolContext, sub: Subscription, *, limit: int = 50, offset: int = 0, status: str | None = None
) -> DeliveryPage:
    """Newest first; two queries (the count and the page)."""
    limit, offset = max(1, min(limit, MAX_PAGE)), max(0, offset)
    rows = rules.webhook_deliveries(ctx, sub)
    if status:
        rows = rows.filter(status=status)
    items = list(rows.order_by("-created_at", "-id")[offset : offset + limit])
    return DeliveryPage(total=rows.count(), limit=limit, offset=offset, items=items)
