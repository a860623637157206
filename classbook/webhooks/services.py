"""Webhook subscriptions and their deliveries (issue 18): every change of a subscription is checked,
audited (``webhooks.subscription.*``) and made here; the page and the API call these functions.

Deliveries: ``record_events`` turns the other apps' after-commit events into one ``Delivery`` per
subscribed event, ``deliver`` sends them (signed, ``signing``) through ``sender`` and keeps the log;
a failure is retried with exponential backoff (1, 2, 4 … minutes, at most an hour apart) until
``WEBHOOKS_MAX_ATTEMPTS`` attempts, then the delivery is failed for good (it can be sent again by hand).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.context import build_context
from classbook.access.webhooks import may_manage_webhooks
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.events import send_on_commit
from classbook.webhooks import addresses, payloads, sender, signing
from classbook.webhooks.models import SUBSCRIBABLE, Delivery, DeliveryStatus, EventType, Subscription
from classbook.webhooks.signals import deliveries_ready

if TYPE_CHECKING:
    from classbook.people.models import User
    from classbook.schools.models import School

MAX_SUBSCRIPTIONS = 20  # per school: each one multiplies the worker's requests
ROTATION_GRACE = dt.timedelta(hours=24)  # the previous secret keeps signing this long after a rotation
STALE_CLAIM = dt.timedelta(minutes=15)  # a delivery claimed longer ago (its worker died) is offered again
USER_AGENT = "Classbook-Webhooks/1"


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOKS_MAX_ATTEMPTS", 8))


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: 1, 2, 4 … minutes, at most 60."""
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


# --- Subscriptions ----------------------------------------------------------------------------------


def _require_manager(acting_user: User, school: School) -> None:
    """The services re-check the rule the page and the API checked (access/webhooks.py)."""
    ctx = build_context(acting_user, school)
    if ctx is None or not may_manage_webhooks(ctx):
        raise PermissionDeniedError(_("Only the school's administrators manage webhooks."))


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    allowed = {str(e) for e in SUBSCRIBABLE}
    if not chosen:
        raise DomainError(_("Choose at least one event."), field="events")
    unknown = [e for e in chosen if e not in allowed]
    if unknown:
        raise DomainError(_("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}, field="events")
    return chosen


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    if not url or len(url) > 500:
        raise DomainError(_("Enter a URL of at most 500 characters."), field="url")
    addresses.check(url)
    return url


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > 200:
        raise DomainError(_("The description may have at most 200 characters."), field="description")
    return description


def _snapshot(sub: Subscription) -> dict[str, Any]:
    # Never the secret: the audit log is read by people who must not sign deliveries.
    return {"url": sub.url, "events": sub.events, "description": sub.description, "is_active": sub.is_active}


@transaction.atomic
def create_subscription(
    *, acting_user: User, school: School, url: str, events: Iterable[str], description: str = ""
) -> tuple[Subscription, str]:
    """A new webhook of the school; returns it with its secret (shown once: the page and the API say so)."""
    _require_manager(acting_user, school)
    url, chosen, description = _clean_url(url), _clean_events(events), _clean_description(description)
    if Subscription.objects.filter(school=school).count() >= MAX_SUBSCRIPTIONS:
        raise DomainError(_("A school can have at most %(max)s webhooks.") % {"max": MAX_SUBSCRIPTIONS})
    secret = signing.new_secret()
    sub = Subscription.objects.create(
        school=school, url=url, events=chosen, description=description, secret=secret, created_by=acting_user
    )
    log_action("webhooks.subscription.created", actor=acting_user, school=school, obj=sub, data={"new": _snapshot(sub)})
    return sub, secret


def _locked(subscription: Subscription) -> Subscription:
    sub = Subscription.objects.select_for_update().filter(pk=subscription.pk).select_related("school").first()
    if sub is None:
        raise ConflictError(_("The webhook was deleted in the meantime."))
    return sub


@transaction.atomic
def update_subscription(
    *,
    acting_user: User,
    subscription: Subscription,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Subscription:
    """Change what is given (``None`` leaves a field as it is); old and new values go to the audit log."""
    sub = _locked(subscription)
    _require_manager(acting_user, sub.school)
    before = _snapshot(sub)
    if url is not None:
        sub.url = _clean_url(url)
    if events is not None:
        sub.events = _clean_events(events)
    if description is not None:
        sub.description = _clean_description(description)
    if is_active is not None:
        sub.is_active = is_active
    after = _snapshot(sub)
    changes = {k: {"old": before[k], "new": after[k]} for k in after if before[k] != after[k]}
    if changes:
        sub.save()
        log_action(
            "webhooks.subscription.updated", actor=acting_user, school=sub.school, obj=sub, data={"changes": changes}
        )
    return sub


@transaction.atomic
def rotate_secret(*, acting_user: User, subscription: Subscription, keep_previous: bool = True) -> str:
    """A new secret; the previous one keeps signing for ``ROTATION_GRACE`` (or stops at once, when the
    secret leaked: ``keep_previous=False``). Returns the new secret (shown once)."""
    sub = _locked(subscription)
    _require_manager(acting_user, sub.school)
    now = timezone.now()
    until = now + ROTATION_GRACE if keep_previous else None
    sub.previous_secret, sub.previous_secret_until = (sub.secret, until) if keep_previous else ("", None)
    sub.secret = signing.new_secret()
    sub.save(update_fields=["secret", "previous_secret", "previous_secret_until", "updated_at"])
    log_action(
        "webhooks.subscription.secret_rotated",
        actor=acting_user,
        school=sub.school,
        obj=sub,
        data={"previous_valid_until": until.isoformat() if until else None},
    )
    return sub.secret


@transaction.atomic
def delete_subscription(*, acting_user: User, subscription: Subscription) -> None:
    """Delete the webhook and its delivery log (the audit log keeps what it was)."""
    sub = _locked(subscription)
    _require_manager(acting_user, sub.school)
    log_action(
        "webhooks.subscription.deleted",
        actor=acting_user,
        school=sub.school,
        obj=sub,
        data={"old": _snapshot(sub), "deliveries": sub.deliveries.count()},
    )
    sub.delete()


@transaction.atomic
def send_ping(*, acting_user: User, subscription: Subscription) -> Delivery:
    """A test delivery (event ``ping``) to check the URL and the receiver's signature check."""
    sub = _locked(subscription)
    _require_manager(acting_user, sub.school)
    delivery = _new_delivery(sub, EventType.PING, {"subscription_id": sub.pk}, timezone.now())
    delivery.save()
    send_on_commit(deliveries_ready, Delivery, {"ids": [delivery.pk]})
    return delivery


@transaction.atomic
def redeliver(*, acting_user: User, delivery: Delivery) -> Delivery:
    """Send a delivered or failed delivery again, with a fresh count of attempts (same event id)."""
    row = Delivery.objects.select_for_update().select_related("subscription__school").filter(pk=delivery.pk).first()
    if row is None:
        raise ConflictError(_("The delivery was deleted in the meantime."))
    _require_manager(acting_user, row.subscription.school)
    if row.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
        raise ConflictError(_("The delivery is still being sent."))
    row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, timezone.now()
    row.save(update_fields=["status", "attempts", "next_attempt_at"])
    send_on_commit(deliveries_ready, Delivery, {"ids": [row.pk]})
    return row


# --- Events ----------------------------------------------------------------------------------------


def has_subscribers(school_ids: Iterable[int]) -> bool:
    """Whether any active webhook may want these schools' events (one indexed query, before any task)."""
    return Subscription.objects.filter(school_id__in=set(school_ids), is_active=True).exists()


def _new_delivery(sub: Subscription, event: str, data: dict[str, Any], now: dt.datetime) -> Delivery:
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "event": str(event),
        "api_version": "1",
        "created_at": now.isoformat(),
        "school": {"id": sub.school.pk, "slug": sub.school.slug},
        "data": data,
    }
    return Delivery(school_id=sub.school_id, subscription=sub, event_id=event_id, event=event, payload=payload)


def record_events(source: str, items: list[dict[str, Any]]) -> list[int]:
    """One delivery per (event, subscription of the event's own school that chose it); sent after commit.

    Two queries whatever the number of events: the subscriptions of the schools concerned, and one
    bulk insert.
    """
    events = payloads.SOURCES[source](items)
    by_school: dict[int, list[Subscription]] = defaultdict(list)
    wanted = {school_id for school_id, _event, _data in events}
    for sub in Subscription.objects.filter(school_id__in=wanted, is_active=True).select_related("school"):
        by_school[sub.school_id].append(sub)
    now = timezone.now()
    rows = [
        _new_delivery(sub, event, data, now)
        for school_id, event, data in events
        for sub in by_school[school_id]
        if event in sub.events
    ]
    ids = [d.pk for d in Delivery.objects.bulk_create(rows)]
    if ids:
        send_on_commit(deliveries_ready, Delivery, {"ids": ids})
    return ids


# --- Sending ---------------------------------------------------------------------------------------


def _claim(delivery_id: int, now: dt.datetime) -> Delivery | None:
    with transaction.atomic():
        row = Delivery.objects.select_for_update(of=("self",)).filter(pk=delivery_id).first()
        if row is None or row.status != DeliveryStatus.PENDING or row.next_attempt_at > now:
            return None
        # Compare-and-set as well: on SQLite select_for_update is a no-op (the IMMEDIATE lock serialises).
        claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, attempts=row.attempts + 1, claimed_at=now
        )
        if not claimed:
            return None
    return Delivery.objects.select_related("subscription__school").get(pk=delivery_id)


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def _send(delivery: Delivery, now: dt.datetime) -> sender.Result:
    sub = delivery.subscription
    if not sub.is_active or not sub.school.is_active:
        return sender.Result(False, None, "The webhook is switched off.")
    body = body_of(delivery)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Classbook-Event": delivery.event,
        "X-Classbook-Delivery": str(delivery.event_id),
        "X-Classbook-Attempt": str(delivery.attempts),
        signing.HEADER: signing.header_value(sub.secrets(now), timestamp, body),
    }
    return sender.post(sub.url, body, headers)


def _finish(delivery: Delivery, result: sender.Result, started: dt.datetime) -> None:
    now = timezone.now()
    common: dict[str, Any] = {"last_attempt_at": started, "response_code": result.status, "last_error": result.error}
    if result.ok:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.SENT, delivered_at=now, **common
        )
        return
    failed = delivery.attempts >= max_attempts() or not delivery.subscription.is_active
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING,
        next_attempt_at=now + backoff(delivery.attempts),
        **common,
    )


def deliver(delivery_ids: Iterable[int]) -> dict[str, int]:
    """Send each due pending delivery once. Counts of sent, to retry (or failed for good) and skipped."""
    counts = {"sent": 0, "retry": 0, "skipped": 0}
    for delivery_id in delivery_ids:
        now = timezone.now()
        delivery = _claim(delivery_id, now)
        if delivery is None:
            counts["skipped"] += 1
            continue
        result = _send(delivery, now)
        _finish(delivery, result, now)
        counts["sent" if result.ok else "retry"] += 1
    return counts


def due_deliveries(limit: int = 500) -> list[int]:
    """Pending deliveries whose (retry) time has come; claims older than ``STALE_CLAIM`` are released first."""
    now = timezone.now()
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=DeliveryStatus.PENDING
    )
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def next_retry_at(delivery_ids: Iterable[int]) -> dt.datetime | None:
    return (
        Delivery.objects.filter(pk__in=list(delivery_ids), status=DeliveryStatus.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def prune_log(now: dt.datetime | None = None) -> int:
    """Remove delivered and failed deliveries older than ``WEBHOOKS_LOG_DAYS`` (waiting ones stay)."""
    days = int(getattr(settings, "WEBHOOKS_LOG_DAYS", 30))
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    done = [DeliveryStatus.SENT, DeliveryStatus.FAILED]
    deleted, _by_model = Delivery.objects.filter(status__in=done, created_at__lt=cutoff).delete()
    return deleted
