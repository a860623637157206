"""Channels that carry notifications out of the application, behind one small interface.

A channel is an object with a ``name`` and two methods:

- ``address(user, reach)``: whether and where this person can be reached (an e-mail address, a linked
  Telegram chat, an opted-in phone number: ``Reach`` holds what was loaded for the recipients in bulk);
  ``None`` means the channel is not offered to them;
- ``send(user, notifications, *, key)``: send one message (one notification, or a digest of several)
  and return a ``SendResult``. It must not raise for a delivery failure: it returns ``ok=False`` with
  the error, and the caller schedules a retry. ``key`` is the idempotency key of the delivery; channels
  pass it on where the other side can use it (the e-mail Message-ID).

``CHANNELS`` maps names to instances. Another channel is a class with these methods registered with
``register()`` and a value added to ``models.Channel``; SMS and Viber (``sms.py``) are registered that way.
A channel whose ``covers`` names another (Viber falls back to SMS) replaces it for a person who chose both.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
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
    # False: trying again cannot help (a number the provider refuses, the school's cost limit reached).
    retry: bool = True
    # What the provider said about a sent message (SMS and Viber): its id, segments and estimated cost.
    provider_id: str = ""
    segments: int = 0
    cost: Decimal | None = None


@dataclass(frozen=True)
class Reach:
    """What the channels need to know about a batch of recipients, loaded in bulk by ``services.notify``."""

    telegram_chats: dict[int, Any] = field(default_factory=dict)
    phones: dict[int, str] = field(default_factory=dict)  # user id -> opted-in number, when the school sends SMS
    viber: bool = False  # the school sends Viber messages too


class Channel(Protocol):
    name: str
    covers: str

    def address(self, user: Any, reach: Reach) -> str | None: ...

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
    covers = ""

    def address(self, user: Any, reach: Reach) -> str | None:
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
    covers = ""

    def address(self, user: Any, reach: Reach) -> str | None:
        if not settings.TELEGRAM_BOT_TOKEN:
            return None
        chat = reach.telegram_chats.get(user.pk)
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


def reachable(choice: Any, user: Any, reach: Reach) -> list[str]:
    """The channels ``choice`` asks for (``None``: every channel) that reach ``user``; a channel that covers
    another one (Viber with its SMS fallback) replaces it, so nobody gets the same text twice."""
    names = [
        name
        for name, channel in CHANNELS.items()
        if (choice is None or getattr(choice, name, False)) and channel.address(user, reach)
    ]
    covered = {CHANNELS[name].covers for name in names}
    return [name for name in names if name not in covered]


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
