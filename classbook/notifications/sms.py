"""SMS and Viber channels (R5.5) through the school's TurboSMS account (``turbosms.py``).

- **Who is reached**: a person who opted in for the phone number in their profile (``PhoneOptIn``; a changed
  number needs a new opt-in), in a school whose SMS settings are switched on with a token and a sender.
- **Viber** sends Viber with the same text as an SMS fallback (the provider tries Viber first), so it
  ``covers`` the SMS channel: a person who chose both gets one message.
- **Cost limit**: before each send the message's cost (segments x the school's price; a Viber message the
  higher of the Viber price and its SMS fallback) is reserved in the month's ``PhoneUsage`` row, under a row
  lock; a send that fails gives it back. A message that would pass the limit is not sent, the month is marked
  ``limit_reached_at`` (audited once, shown on the settings page) and nothing more goes that month until an
  administrator raises the limit.
- **Idempotency**: the delivery's key is TurboSMS's ``sequence_id`` (the provider executes a request with the
  same id once), on top of our own claim of the delivery.
- **Delivery reports**: ``poll_reports`` asks the provider for the status of recent messages and writes it on
  the delivery (``report``, ``reported_at`` once final).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery
from django.utils import timezone

from classbook.core.audit import log_action
from classbook.notifications import segments, turbosms
from classbook.notifications.channels import Reach, SendResult, compose, register
from classbook.notifications.models import Delivery, Notification, PhoneOptIn, PhoneSettings, PhoneUsage, Status
from classbook.signing import keystore

# Reports are asked for while a message is this young; what is not final by then stays as last reported.
REPORT_WINDOW = dt.timedelta(days=3)
REPORT_BATCH = 100
DELIVERED = frozenset({"delivered", "read"})
NOT_DELIVERED = frozenset({"expired", "undelivered", "undeliverable", "rejected", "failed", "deleted", "canceled"})


# --- Numbers and opt-ins --------------------------------------------------------------------------------


def normalize_phone(value: str) -> str:
    """The number in international digits (``380671234567``), or "" when it cannot be one.

    A Ukrainian number written nationally (``067 123 45 67``) gets the country code."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 10 and digits.startswith("0"):
        digits = "38" + digits
    return digits if 11 <= len(digits) <= 15 else ""


def phones_for(school_id: int, user_ids: list[int]) -> tuple[dict[int, str], bool]:
    """Opted-in numbers of ``user_ids`` if the school sends SMS (else none), and whether it sends Viber. One query."""
    sender = Subquery(
        PhoneSettings.objects.filter(school_id=school_id, enabled=True)
        .exclude(sms_sender="")
        .values("viber_sender")[:1]
    )
    rows = (
        PhoneOptIn.objects.filter(user_id__in=user_ids)
        .annotate(viber_sender=sender)
        .filter(viber_sender__isnull=False)
        .values_list("user_id", "phone", "viber_sender")
    )
    phones, viber = {}, False
    for user_id, phone, viber_sender in rows:
        phones[user_id] = phone
        viber = viber or bool(viber_sender)
    return phones, viber


def _current_number(user: Any, opted: str | None) -> str:
    """The person's number if their opt-in is for the number now in their profile."""
    number = normalize_phone(getattr(user, "phone", ""))
    return number if number and number == opted else ""


# --- Settings, text and cost ----------------------------------------------------------------------------


def token_of(conf: PhoneSettings) -> str:
    if not conf.token_encrypted:
        return ""
    try:
        return keystore.decrypt(conf.token_encrypted).decode()
    except keystore.InvalidToken:
        return ""


def text_for(user: Any, notifications: Sequence[Notification]) -> str:
    """Subject and body in the reader's language, cut to ``SMS_MAX_SEGMENTS`` segments."""
    subject, body = compose(user, notifications)
    return segments.truncate(f"{subject}\n{body}".strip(), settings.SMS_MAX_SEGMENTS)


def cost_of(conf: PhoneSettings, parts: int, viber: bool) -> Decimal:
    sms_cost = conf.price_per_segment * parts
    return max(sms_cost, conf.price_per_viber) if viber else sms_cost


def _month() -> dt.date:
    return timezone.localdate().replace(day=1)


def reserve(conf: PhoneSettings, cost: Decimal, parts: int) -> bool:
    """Count the message against the school's month, or refuse (and stop the month) if it would pass the limit."""
    month = _month()
    with transaction.atomic():
        PhoneUsage.objects.get_or_create(school_id=conf.school_id, month=month)
        usage = PhoneUsage.objects.select_for_update().get(school_id=conf.school_id, month=month)
        if usage.limit_reached_at is None and usage.cost + cost <= conf.monthly_limit:
            PhoneUsage.objects.filter(pk=usage.pk).update(
                cost=F("cost") + cost, segments=F("segments") + parts, messages=F("messages") + 1
            )
            return True
        if usage.limit_reached_at is None:
            usage.limit_reached_at = timezone.now()
            usage.save(update_fields=["limit_reached_at"])
            log_action(
                "notifications.phone.limit_reached",
                actor=None,
                school=conf.school,
                obj=usage,
                data={"month": month.isoformat(), "spent": str(usage.cost), "limit": str(conf.monthly_limit)},
            )
        return False


def release(conf: PhoneSettings, cost: Decimal, parts: int) -> None:
    """Give back what a failed send reserved."""
    PhoneUsage.objects.filter(school_id=conf.school_id, month=_month()).update(
        cost=F("cost") - cost, segments=F("segments") - parts, messages=F("messages") - 1
    )


def note_refusal(conf: PhoneSettings, error: str) -> None:
    """Keep the provider's refusal of the school's account (token, balance) for the settings page."""
    PhoneSettings.objects.filter(pk=conf.pk).update(last_error=error[:300], last_error_at=timezone.now())


# --- The channels ---------------------------------------------------------------------------------------


class SmsChannel:
    """Plain SMS from the school's sender name."""

    name = "sms"
    covers = ""
    viber = False

    def address(self, user: Any, reach: Reach) -> str | None:
        return _current_number(user, reach.phones.get(user.pk)) or None

    def send(self, user: Any, notifications: Sequence[Notification], *, key: str) -> SendResult:
        conf = PhoneSettings.objects.select_related("school").filter(school_id=notifications[0].school_id).first()
        token = token_of(conf) if conf is not None and conf.enabled and conf.sms_sender else ""
        if conf is None or not token or (self.viber and not conf.viber_sender):
            return SendResult(False, f"{self.name} is not set up for the school", retry=False)
        opt_in = PhoneOptIn.objects.filter(user_id=user.pk).values_list("phone", flat=True).first()
        phone = _current_number(user, opt_in)
        if not phone:
            return SendResult(False, "no opted-in phone number", retry=False)
        text = text_for(user, notifications)
        parts = segments.count(text).count
        cost = cost_of(conf, parts, self.viber)
        if not reserve(conf, cost, parts):
            return SendResult(False, "the school's monthly SMS cost limit is reached", retry=False)
        return self._send(conf, token, phone, text, key, parts, cost)

    def _send(
        self, conf: PhoneSettings, token: str, phone: str, text: str, key: str, parts: int, cost: Decimal
    ) -> SendResult:
        try:
            sent = turbosms.send(
                token,
                phone=phone,
                text=text,
                sms_sender=conf.sms_sender,
                viber_sender=conf.viber_sender if self.viber else "",
                sequence_id=key,
            )
        except turbosms.ProviderError as exc:
            release(conf, cost, parts)
            if exc.refused_token or exc.code == 203:
                note_refusal(conf, str(exc))
            return SendResult(False, str(exc)[:500], retry=exc.retry)
        if conf.last_error:
            PhoneSettings.objects.filter(pk=conf.pk).update(last_error="", last_error_at=None)
        return SendResult(True, provider_id=sent.message_id[:64], segments=parts, cost=cost)


class ViberChannel(SmsChannel):
    """A Viber business message, with the same text by SMS when Viber cannot deliver it."""

    name = "viber"
    covers = "sms"
    viber = True

    def address(self, user: Any, reach: Reach) -> str | None:
        return super().address(user, reach) if reach.viber else None


register(SmsChannel())
register(ViberChannel())


# --- Delivery reports -----------------------------------------------------------------------------------


def _is_final(status: str) -> bool:
    word = status.strip().lower()
    return word in DELIVERED or word in NOT_DELIVERED


def awaiting_reports(limit: int = 2000) -> dict[int, list[str]]:
    """school id -> provider message ids of recent SMS/Viber messages without a final report."""
    rows = (
        Delivery.objects.filter(
            status=Status.SENT, reported_at__isnull=True, sent_at__gte=timezone.now() - REPORT_WINDOW
        )
        .exclude(provider_id="")
        .order_by("sent_at")
        .values_list("school_id", "provider_id")[:limit]
    )
    found: dict[int, list[str]] = defaultdict(list)
    for school_id, provider_id in rows:
        if provider_id not in found[school_id]:
            found[school_id].append(provider_id)
    return dict(found)


def poll_reports() -> dict[str, int]:
    """Ask the provider for the status of every recent message without a final report; write what it says."""
    counts = {"asked": 0, "final": 0, "errors": 0}
    waiting = awaiting_reports()
    confs = {c.school_id: c for c in PhoneSettings.objects.filter(school_id__in=list(waiting))}
    for school_id, ids in waiting.items():
        conf = confs.get(school_id)
        token = token_of(conf) if conf is not None else ""
        if conf is None or not token:
            continue
        for start in range(0, len(ids), REPORT_BATCH):
            batch = ids[start : start + REPORT_BATCH]
            counts["asked"] += len(batch)
            try:
                found = turbosms.statuses(token, batch)
            except turbosms.ProviderError as exc:
                counts["errors"] += 1
                if exc.refused_token:
                    note_refusal(conf, str(exc))
                break
            counts["final"] += _write_reports(school_id, found)
    return counts


def _write_reports(school_id: int, found: dict[str, dict[str, str]]) -> int:
    now, final = timezone.now(), 0
    for message_id, answer in found.items():
        status = answer["status"]
        done = _is_final(status)
        final += done
        label = f"{answer['type']}: {status}" if answer.get("type") else status
        Delivery.objects.filter(school_id=school_id, provider_id=message_id, reported_at__isnull=True).update(
            report=label[:32], reported_at=now if done else None
        )
    return final
