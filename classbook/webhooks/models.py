"""Webhook subscriptions of a school and their delivery log (issue 18).

A subscription is the school's, managed by its administrators: a URL, the events it wants and the secret
that signs every delivery. A ``Delivery`` is one event for one subscription; it is also the delivery log
(status, attempts, last response code, times) the administrator reads.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class EventType(models.TextChoices):
    MARK = "mark.changed", _("A mark was set, changed or cleared")
    ATTENDANCE = "attendance.changed", _("Attendance was recorded or changed")
    PERIOD_GRADE = "period_grade.changed", _("A period grade was set or corrected")
    LESSON = "lesson.changed", _("A lesson was substituted, cancelled, merged or moved")
    ENROLMENT = "enrolment.changed", _("A student joined, moved to another class or left")
    PING = "ping", _("Test delivery")


# What a subscription may choose (a ping is sent on request only).
SUBSCRIBABLE = [e for e in EventType if e != EventType.PING]


class Subscription(SchoolOwned):
    """A school's webhook: deliveries of the chosen events, signed with ``secret`` (HMAC-SHA256).

    During a rotation the previous secret keeps signing too (a second ``v1=`` in the header) until
    ``previous_secret_until``, so the receiver can switch without losing deliveries.
    """

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(max_length=80)
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        indexes = [models.Index(fields=["school", "is_active"], name="webhook_school_active")]

    def __str__(self) -> str:
        return self.url

    def secrets(self, now: dt.datetime | None = None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one during a rotation."""
        now = now or timezone.now()
        keys = [self.secret]
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now:
            keys.append(self.previous_secret)
        return keys


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed")


class Delivery(SchoolOwned):
    """One event for one subscription: the payload, and what happened when it was sent (the delivery log)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    event = models.CharField(max_length=32, choices=EventType.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_id"], name="webhook_delivery_unique_event"),
        ]
        indexes = [
            models.Index(fields=["subscription", "-created_at", "-id"], name="webhook_delivery_log"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
            # The list's waiting and failed counts read only the open rows, not the whole log.
            models.Index(
                fields=["subscription", "status"],
                condition=Q(status__in=["pending", "failed"]),
                name="webhook_delivery_open",
            ),
        ]
