"""The webhooks pages of a school's administrators: the list with the form to add one, and a webhook's
page (change it, rotate its secret, send a test, delete it, read its delivery log). Thin: the same
services and queries as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.webhooks import may_manage_webhooks
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number, whole_number
from classbook.webhooks import queries, services
from classbook.webhooks.models import SUBSCRIBABLE, DeliveryStatus

PAGE = 50


def _events() -> list[tuple[str, str]]:
    return [(str(e.value), str(e.label)) for e in SUBSCRIBABLE]


def _offset(request: HttpRequest) -> int:
    value = request.GET.get("offset", "")
    return min(whole_number(value, 0) or 0, 1_000_000)


@school_view(writes=True, rule=may_manage_webhooks)
def subscriptions(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    form: dict[str, Any] = {"url": "", "description": "", "events": [str(e.value) for e in SUBSCRIBABLE]}
    if request.method == "POST":
        form = {
            "url": request.POST.get("url", "")[:600],
            "description": request.POST.get("description", "")[:300],
            "events": request.POST.getlist("events")[:20],
        }
        try:
            sub, secret = services.create_subscription(acting_user=ctx.user, school=ctx.school, **form)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            return render(request, "webhooks/secret.html", {"ctx": ctx, "sub": sub, "secret": secret, "created": True})
    return render(
        request,
        "webhooks/list.html",
        {"ctx": ctx, "rows": list(queries.subscriptions(ctx)), "events": _events(), "form": form},
    )


def _act(request: HttpRequest, ctx: SchoolContext, sub: Any) -> HttpResponse | None:
    """One POST action of the webhook's page; a response when the page must not simply reload."""
    action = request.POST.get("action", "")
    if action == "save":
        services.update_subscription(
            acting_user=ctx.user,
            subscription=sub,
            url=request.POST.get("url", "")[:600],
            description=request.POST.get("description", "")[:300],
            events=request.POST.getlist("events")[:20],
            is_active=request.POST.get("is_active") == "on",
        )
        messages.success(request, _("The webhook is saved."))
    elif action in ("rotate", "rotate-now"):
        secret = services.rotate_secret(acting_user=ctx.user, subscription=sub, keep_previous=action == "rotate")
        sub.refresh_from_db()
        return render(request, "webhooks/secret.html", {"ctx": ctx, "sub": sub, "secret": secret, "created": False})
    elif action == "ping":
        services.send_ping(acting_user=ctx.user, subscription=sub)
        messages.success(request, _("A test delivery is on its way; its result appears in the log below."))
    elif action == "redeliver" and is_whole_number(request.POST.get("delivery", "")):
        row = queries.delivery(ctx, sub, int(request.POST["delivery"]))
        services.redeliver(acting_user=ctx.user, delivery=row)
        messages.success(request, _("The delivery will be sent again."))
    elif action == "delete":
        services.delete_subscription(acting_user=ctx.user, subscription=sub)
        messages.success(request, _("The webhook is deleted."))
        return redirect("webhooks:list", school=ctx.school.slug)
    return None


@school_view(writes=True, rule=may_manage_webhooks)
def subscription(request: HttpRequest, ctx: SchoolContext, webhook_id: int) -> HttpResponse:
    sub = queries.subscription(ctx, webhook_id)
    if request.method == "POST":
        try:
            response = _act(request, ctx, sub)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            return response or redirect("webhooks:detail", school=ctx.school.slug, webhook_id=sub.pk)
    status = request.GET.get("status", "")
    status = status if status in DeliveryStatus.values else ""
    page = queries.deliveries(ctx, sub, limit=PAGE, offset=_offset(request), status=status or None)
    return render(
        request,
        "webhooks/detail.html",
        {
            "ctx": ctx,
            "sub": sub,
            "events": _events(),
            "page": page,
            "status": status,
            "statuses": DeliveryStatus.choices,
            "next_offset": page.offset + PAGE if page.offset + PAGE < page.total else None,
            "prev_offset": max(0, page.offset - PAGE) if page.offset else None,
        },
    )
