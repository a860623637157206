"""The bell page (own notifications in this school), notification settings, class teacher's notices,
and the Telegram bot's webhook."""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from classbook.access import notifications as notices_access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core.errors import DomainError
from classbook.core.params import is_whole_number
from classbook.notifications import queries, services
from classbook.notifications.channels import link_reply

CHANNEL_FIELDS = services.CHOICE_FIELDS


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if is_whole_number(v)]


@school_view()
def inbox(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    if request.method == "POST":
        ids = None if request.POST.get("all") else _ids(request.POST.getlist("id"))
        services.mark_read(acting_user=ctx.user, school=ctx.school, ids=ids)
        return redirect("notifications:inbox", school=ctx.school.slug)
    number = int(request.GET["page"]) if is_whole_number(request.GET.get("page", "")) else 1
    rows = queries.page(ctx, number)
    return render(
        request,
        "notifications/inbox.html",
        {
            "ctx": ctx,
            "rows": rows[: queries.PAGE_SIZE],
            "unread": queries.unread_count(ctx),
            "page": number,
            "has_next": len(rows) > queries.PAGE_SIZE,
            "homeroom": queries.homeroom_classes(ctx) if ctx.homeroom_class_ids else [],
        },
    )


@school_view()
def preferences(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    code = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "telegram-link":
                code = services.start_telegram_link(acting_user=ctx.user)
            elif action in ("phone-opt-in", "phone-opt-out"):
                _phone_opt(request, ctx, action)
                return redirect("notifications:preferences", school=ctx.school.slug)
            elif action == "telegram-unlink":
                services.unlink_telegram(acting_user=ctx.user)
                messages.success(request, _("Telegram is no longer linked."))
                return redirect("notifications:preferences", school=ctx.school.slug)
            else:
                items = [
                    {"kind": kind, **{f: request.POST.get(f"{kind}-{f}") == "on" for f in CHANNEL_FIELDS}}
                    for kind in request.POST.getlist("kind")
                ]
                services.set_preferences(acting_user=ctx.user, items=items)
                messages.success(request, _("Your notification settings are saved."))
                return redirect("notifications:preferences", school=ctx.school.slug)
        except DomainError as exc:
            messages.error(request, str(exc.message))
    return render(
        request,
        "notifications/preferences.html",
        {
            "ctx": ctx,
            "rows": services.preferences(request.user),
            "telegram": services.telegram_status(request.user),
            "code": code,
            "has_email": bool(getattr(request.user, "email", "")),
            "phone": services.phone_status(request.user) if notices_access.may_opt_in_phone(ctx) else None,
        },
    )


def _phone_opt(request: HttpRequest, ctx: SchoolContext, action: str) -> None:
    if action == "phone-opt-in":
        services.opt_in_phone(acting_user=ctx.user, school=ctx.school)
        messages.success(request, _("Notifications may now come by SMS or Viber to your phone number."))
    else:
        services.opt_out_phone(acting_user=ctx.user, school=ctx.school)
        messages.success(request, _("Nothing more comes by SMS or Viber."))


@school_view(writes=True, rule=notices_access.may_manage_phone_settings)
def phone_settings(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's SMS and Viber gateway: token, senders, prices, the monthly limit and this month's spending."""
    status = 200
    if request.method == "POST":
        try:
            services.save_phone_settings(
                acting_user=ctx.user,
                school=ctx.school,
                values={name: request.POST.get(name, "") for name in services.PHONE_SETTING_FIELDS},
                token=request.POST.get("token", ""),
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            status = 422
        else:
            messages.success(request, _("The SMS and Viber settings are saved."))
            return redirect("notifications:phone_settings", school=ctx.school.slug)
    context = {
        "ctx": ctx,
        "conf": services.phone_settings(ctx.school),
        "usage": services.phone_usage(ctx.school),
        "form": request.POST if request.method == "POST" else None,
    }
    return render(request, "notifications/phone_settings.html", context, status=status)


@school_view(rule=notices_access.may_send_class_notices)
def class_notices(request: HttpRequest, ctx: SchoolContext, class_id: int) -> HttpResponse:
    """Preview of the students over the school's thresholds; the class teacher sends the notice (R2.10)."""
    school_class = queries.homeroom_class(ctx, class_id)
    if request.method == "POST":
        try:
            sent = services.send_class_notices(
                acting_user=ctx.user, school_class=school_class, student_ids=_ids(request.POST.getlist("student"))
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Notices sent: %(count)s.") % {"count": len(sent)})
            return redirect("notifications:class_notices", school=ctx.school.slug, class_id=class_id)
    return render(
        request,
        "notifications/class_notices.html",
        {
            "ctx": ctx,
            "school_class": school_class,
            "candidates": services.notice_candidates(school_class),
            "policy": services.notice_policy(ctx.school),
            "sent": queries.class_notices(school_class),
        },
    )


@csrf_exempt
@require_POST
def telegram_webhook(request: HttpRequest) -> HttpResponse:
    """Telegram calls this with each update to the bot; only ``/start <code>`` is understood.

    The request must carry the secret given to ``setWebhook`` in ``X-Telegram-Bot-Api-Secret-Token``.
    """
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    sent = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not settings.TELEGRAM_BOT_TOKEN or not hmac.compare_digest(secret.encode(), sent.encode()):
        return HttpResponseForbidden()
    try:
        update: Any = json.loads(request.body or b"{}")
        message = update.get("message") or {}
        text = str(message.get("text") or "")
        chat_id = int(message["chat"]["id"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return JsonResponse({"ok": True})  # not a message we handle; Telegram must not retry it
    if text.startswith("/start"):
        code = text.removeprefix("/start").strip()
        user = services.link_telegram_chat(code=code, chat_id=chat_id) if code else None
        link_reply(chat_id, user is not None, getattr(user, "language", None))
    return JsonResponse({"ok": True})
