"""Read models of the notification pages and API: always the requesting person's own rows in this school."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from classbook.access import notifications as notices_access
from classbook.access.context import SchoolContext
from classbook.notifications.models import ClassNotice, Notification
from classbook.notifications.texts import render
from classbook.schools.models import SchoolClass

PAGE_SIZE = 50


def own(ctx: SchoolContext) -> QuerySet[Notification]:
    """The user's notifications in the school of the request, newest first."""
    return Notification.objects.filter(school=ctx.school, user=ctx.user)


def unread_count(ctx: SchoolContext) -> int:
    return own(ctx).filter(read_at__isnull=True).count()


def own_filtered(ctx: SchoolContext, unread_only: bool = False) -> QuerySet[Notification]:
    rows = own(ctx)
    return rows.filter(read_at__isnull=True) if unread_only else rows


def rendered(n: Notification) -> dict[str, Any]:
    """A notification with its words rendered in the active language."""
    title, body = render(n)
    return {
        "id": n.pk,
        "kind": n.kind,
        "title": title,
        "body": body,
        "url": n.url,
        "created_at": n.created_at,
        "read": n.read_at is not None,
    }


def page(ctx: SchoolContext, number: int = 1, unread_only: bool = False) -> list[dict[str, Any]]:
    """One page of the list with the words rendered in the active language."""
    start = max(0, number - 1) * PAGE_SIZE
    return [rendered(n) for n in own_filtered(ctx, unread_only)[start : start + PAGE_SIZE + 1]]


def homeroom_class(ctx: SchoolContext, class_id: int) -> SchoolClass:
    """A class the user is the class teacher of (404 otherwise: another class, another school)."""
    if not notices_access.keeps_class(ctx, class_id):
        raise Http404
    return SchoolClass.objects.select_related("school").get(pk=class_id, school=ctx.school)


def homeroom_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    return SchoolClass.objects.filter(school=ctx.school, pk__in=ctx.homeroom_class_ids).order_by("name")


def class_notices(school_class: SchoolClass, limit: int = 100) -> QuerySet[ClassNotice]:
    return ClassNotice.objects.filter(school_class=school_class).select_related("student__user", "sent_by")[:limit]
