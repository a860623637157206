"""Who may manage a school's webhooks and read their delivery log (issue 18).

- Only the school's administrators: a webhook sends the school's journal (marks, attendance, grades,
  lessons, enrolments) to another system, which is a decision about the whole school's data (R1.7).
- Nobody else of the school (director, deputy, secretary, teacher, student, parent: 403), never a
  read-only authority viewer, never another school's administrator (404: the school is not theirs).
- A subscription or delivery of another school is 404 (``webhook_subscriptions`` is scoped by school).
"""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.people.models import Role
from classbook.webhooks.models import Delivery, Subscription


def may_manage_webhooks(ctx: SchoolContext) -> bool:
    """The webhooks page and API, reading and writing alike (the log shows the school's data)."""
    return Role.ADMIN in ctx.roles and not ctx.is_read_only


def webhook_subscriptions(ctx: SchoolContext) -> QuerySet[Subscription]:
    """The school's subscriptions for those who manage them; nothing for anybody else (deny by default)."""
    if not may_manage_webhooks(ctx):
        return Subscription.objects.none()
    return Subscription.objects.filter(school=ctx.school)


def webhook_deliveries(ctx: SchoolContext, subscription: Subscription) -> QuerySet[Delivery]:
    """The delivery log of one of the school's subscriptions."""
    if not may_manage_webhooks(ctx) or subscription.school_id != ctx.school.pk:
        return Delivery.objects.none()
    return Delivery.objects.filter(school=ctx.school, subscription=subscription)
