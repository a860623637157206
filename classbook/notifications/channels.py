"""Channels that carry notifications out of the application, behind one small interface.

A channel is an object with a ``name`` and two methods:

- ``address(user, links)``: whether and where this person can be reached (an e-mail address, a linked
  Telegram chat); ``None`` means the channel is not offered to them;
- ``send(user, notifications, *, key)``: send one message (one notification, or a digest of several)
  and return a ``SendResult``. It must not raise for a delivery failure: it returns ``ok=False`` with
  the error, and the caller schedules a retry. ``key`` is the idempotency key of the delivery; channels
  pass it on where the other side can use it (the e-mail Message-ID).

``CHANNELS`` maps names to instances. Another channel (SMS, Viber, web push) is a class with these
methods registered with ``register()`` and a value added to ``models.Channel``.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from classbook.notifications.models import Notification
from classbook.notifications.texts import render


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""


class Channel(Protocol):
    name: str

    def address(self, user: Any, telegram_chats: dict[int, Any]) -> str | None: ...

    def send(self, user: Any, notifications: Sequence[Notification], *, key: str) -> SendResult: ...


def language_of(user: Any) -> str:
    return user.language or settings.LANGUAGE_CODE


def compose(user: Any, notifications: Sequence[Notification]) -> tuple[str, str]:
    """Subject and plain text body in the recipient's language."""
    with translation.override(language_of(user)):
        texts = [render(n) for n in notifications]
        if len(texts) == 1:
            title, body = texts[0]
            return title, f"{body}\n"
        subject = ngettext(
            "Classbook: %(count)d notification today", "Classbook: %(count)d notifications today", len(texts)
        ) % {"count": len(texts)}
        lines = [f"- {title}: {body}" for title, body in texts]
        return subject, "\n".join(lines) + "\n"


class EmailChannel:
    """E-mail through Django's mail backend (SMTP settings from the environment, see docs/deployment.md)."""

    name = "email"

    def address(self, user: Any, telegram_chats: dict[int, Any]) -> str | None:
        return user.email or None

    def send(self, user: Any, notifications: Sequence[Notification], *, key: str) -> SendResult:
        if not user.email:
            return SendResult(False, "no e-mail address")
        subject, body = compose(user, notifications)
        message = EmailMessage(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
            headers={"Message-ID": f"<{key}@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}>"},
        )
        try:
            message.send(fail_silently=False)
        except Exception as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(True)


def telegram_call(method: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One Bot API call over HTTPS (the standard library; no extra dependency)."""
    url = f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/{method}"
    request = urllib.request.Request(  # noqa: S310 - the URL is the configured Bot API endpoint
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=settings.TELEGRAM_TIMEOUT) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read().decode() or "{}")
    if not answer.get("ok"):
        raise RuntimeError(str(answer.get("description") or "Telegram refused the message"))
    return answer


class TelegramChannel:
    """Messages from the school's Telegram bot to the chat the person linked (``/start <code>``)."""

    name = "telegram"

    def address(self, user: Any, telegram_chats: dict[int, Any]) -> str | None:
        if not settings.TELEGRAM_BOT_TOKEN:
            return None
        chat = telegram_chats.get(user.pk)
        return str(chat) if chat else None

    def send(self, user: Any, notifications: Sequence[Notification], *, key: str) -> SendResult:
        link = getattr(user, "telegram_link", None)
        if not settings.TELEGRAM_BOT_TOKEN or link is None or not link.chat_id:
            return SendResult(False, "no linked Telegram chat")
        subject, body = compose(user, notifications)
        try:
            telegram_call("sendMessage", {"chat_id": link.chat_id, "text": f"{subject}\n\n{body}"[:4096]})
        except (OSError, RuntimeError, ValueError, urllib.error.URLError) as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}"[:500])
        return SendResult(True)


CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    CHANNELS[channel.name] = channel


register(EmailChannel())
register(TelegramChannel())


def link_reply(chat_id: int, linked: bool, language: str | None = None) -> None:
    """Answer ``/start <code>`` in the chat; a failure to answer is not an error of the link itself."""
    with translation.override(language or settings.LANGUAGE_CODE):
        text = (
            _("This chat now receives your Classbook notifications.")
            if linked
            else _("This code is not valid or has expired. Create a new one on your notification settings page.")
        )
    with contextlib.suppress(OSError, RuntimeError, ValueError):
        telegram_call("sendMessage", {"chat_id": chat_id, "text": text})
