"""Notification services (R5.5, R2.10): who is told, through which channel, and the delivery guarantees.

``notify()`` is the one entry point for every kind of event: it writes one ``Notification`` per
recipient (in-app, the bell) and one ``Delivery`` per external channel the recipient chose, in a few
bulk statements, and returns the deliveries to send at once. The tasks in ``tasks.py`` send them with
``deliver()``: a delivery is claimed (``select_for_update`` + a status compare-and-set), sent, and
marked sent; a failure puts it back with the next retry time, so a retry never sends a sent delivery
again.

Recipients of a student's event are the student and the guardians whose link allows seeing the
child and has not ended — never anyone else (``student_recipients``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.context import build_context
from classbook.access.journal import is_class_teacher_of
from classbook.access.notifications import may_manage_phone_settings, may_opt_in_phone
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.events import send_on_commit
from classbook.journal.absences import absence_counts
from classbook.journal.models import Attendance
from classbook.journal.stats import class_tallies, weighted_averages
from classbook.notifications import sms
from classbook.notifications.channels import CHANNELS, Reach, SendResult, reachable
from classbook.notifications.models import (
    ClassNotice,
    Delivery,
    DigestRun,
    Kind,
    NoticePolicy,
    Notification,
    PhoneOptIn,
    PhoneSettings,
    PhoneUsage,
    Preference,
    Status,
    TelegramLink,
)
from classbook.notifications.signals import deliveries_ready
from classbook.people.models import GuardianLink, Student, User
from classbook.schools.models import School, SchoolClass
from classbook.signing import keystore

# Retries: 1, 2, 4, 8 ... minutes, at most an hour apart; failed for good after MAX_ATTEMPTS.
MAX_ATTEMPTS = 8
# A delivery claimed longer ago than this (a worker died mid-send) is offered again.
STALE_CLAIM = dt.timedelta(minutes=15)
TELEGRAM_CODE_TTL = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class Choice:
    in_app: bool = True
    email: bool = True
    telegram: bool = True
    sms: bool = False
    viber: bool = False
    digest: bool = False


CHOICE_FIELDS = ("in_app", "email", "telegram", "sms", "viber", "digest")
# SMS and Viber cost the school money: by default only what must not wait (and only to people who opted in).
_URGENT = Choice(sms=True, viber=True)
# Without a saved preference: everything in the app; absences, period marks, timetable changes, messages
# and class notices at once by e-mail/Telegram; marks and homework in the daily digest.
DEFAULTS: dict[str, Choice] = {kind: Choice() for kind in Kind.values}
DEFAULTS[Kind.MARK] = Choice(digest=True)
DEFAULTS[Kind.HOMEWORK] = Choice(digest=True)
# Forum replies can be many: in the app at once, by e-mail/Telegram in the digest. Absence reports and
# flagged marks (to teachers, and their outcome to parents) come at once, like messages.
DEFAULTS[Kind.FORUM] = Choice(digest=True)
for _kind in (Kind.ABSENCE, Kind.PERIOD_GRADE, Kind.CLASS_NOTICE, Kind.ACCOUNT):
    DEFAULTS[_kind] = _URGENT
# Kinds a person cannot switch off: notices about their own account (who changed it, and when).
ALWAYS_SENT = frozenset({Kind.ACCOUNT})


# --- Recipients -------------------------------------------------------------------------------------


def student_recipients(school_id: int, student_ids: Iterable[int]) -> dict[int, list[int]]:
    """student id -> user ids to tell: the student and their guardians with an active ``may_see`` link.

    Only rows of ``school_id`` count (a link recorded in another school never leaks). Two queries.
    """
    ids = set(student_ids)
    if not ids:
        return {}
    today = timezone.localdate()
    found: dict[int, list[int]] = defaultdict(list)
    for student_id, user_id in Student.objects.filter(
        school_id=school_id, pk__in=ids, user__is_active=True
    ).values_list("pk", "user_id"):
        found[student_id].append(user_id)
    links = GuardianLink.objects.filter(
        school_id=school_id, student_id__in=ids, may_see=True, guardian__is_active=True
    ).filter(Q(ended_on__isnull=True) | Q(ended_on__gt=today))
    for student_id, user_id in links.values_list("student_id", "guardian_id"):
        if user_id not in found[student_id]:
            found[student_id].append(user_id)
    return dict(found)


# --- Preferences ------------------------------------------------------------------------------------


def choices_for(user_ids: Iterable[int], kind: str) -> dict[int, Choice]:
    ids = list(user_ids)
    chosen = {p.user_id: _choice(p) for p in Preference.objects.filter(user_id__in=ids, kind=kind)}
    return {uid: chosen.get(uid, DEFAULTS[kind]) for uid in ids}


def _choice(p: Preference) -> Choice:
    return Choice(**{name: getattr(p, name) for name in CHOICE_FIELDS})


def settable_kinds() -> list[str]:
    """The kinds a person may choose channels for (``ALWAYS_SENT`` ones are not theirs to turn off)."""
    return [kind for kind in Kind.values if kind not in ALWAYS_SENT]


def preferences(user: Any) -> list[dict[str, Any]]:
    """The person's choice for every kind (saved or default), in the order of ``Kind``."""
    saved = {p.kind: p for p in Preference.objects.filter(user=user)}
    rows = []
    for kind, label in Kind.choices:
        if kind in ALWAYS_SENT:
            continue
        p = saved.get(kind)
        c = _choice(p) if p else DEFAULTS[kind]
        rows.append({"kind": kind, "label": str(label), **{name: getattr(c, name) for name in CHOICE_FIELDS}})
    return rows


@transaction.atomic
def set_preferences(*, acting_user: User, items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Save the person's own choices per kind (channels, at once or in the daily digest)."""
    for item in items:
        kind = item.get("kind")
        if kind not in Kind.values or kind in ALWAYS_SENT:
            raise DomainError(_("Unknown kind of notification."), field="kind")
        values = {name: bool(item.get(name, getattr(DEFAULTS[kind], name))) for name in CHOICE_FIELDS}
        Preference.objects.update_or_create(user=acting_user, kind=kind, defaults=values)
    return preferences(acting_user)


# --- Notify -----------------------------------------------------------------------------------------


def reach_of(school_id: int, ids: list[int]) -> Reach:
    """Linked Telegram chats (1 query) and opted-in phones where the school sends SMS (1 query)."""
    chats = dict(TelegramLink.objects.filter(user_id__in=ids, chat_id__isnull=False).values_list("user_id", "chat_id"))
    phones, viber = sms.phones_for(school_id, ids)
    return Reach(telegram_chats=chats, phones=phones, viber=viber)


def notify(
    *,
    school: School | int,
    kind: str,
    user_ids: Iterable[int],
    params: dict[str, Any],
    event_key: str,
    url: str = "",
    params_per_user: dict[int, dict[str, Any]] | None = None,
) -> list[int]:
    """Tell ``user_ids`` about one event. Returns the ids of deliveries to send now (the rest wait for the digest).

    Idempotent per ``(school, user, event_key)``: calling it again for the same event makes nothing new.
    Statements: preferences (1), Telegram links (1), opted-in phones (1), users (1), notifications insert +
    read back (2), deliveries insert + read back (2), whatever the number of recipients.

    Other apps call it directly, for example messaging::

        notify(school=school, kind=Kind.MESSAGE, user_ids=[...], event_key=f"message:{message.pk}",
               params={"title": ..., "text": ...}, url=...)
    """
    school_id = school if isinstance(school, int) else school.pk
    ids = sorted(set(user_ids))
    if not ids:
        return []
    if kind not in Kind.values:
        raise ValueError(f"unknown notification kind {kind!r}")
    choices = choices_for(ids, kind)
    reach = reach_of(school_id, ids)
    users = {u.pk: u for u in User.objects.filter(pk__in=ids, is_active=True).only("pk", "email", "phone")}
    now = timezone.now()
    rows = []
    wanted: dict[int, list[str]] = {}
    for uid in ids:
        choice = choices[uid]
        if uid not in users:
            continue
        wanted[uid] = reachable(choice, users[uid], reach)
        if not choice.in_app and not wanted[uid]:
            continue
        row_params = params | (params_per_user or {}).get(uid, {})
        rows.append(
            Notification(
                school_id=school_id,
                user_id=uid,
                kind=kind,
                params=row_params,
                url=url[:300],
                event_key=event_key[:120],
                created_at=now,
                # Not wanted in the app: born read, so it does not ring the bell, yet the record stays.
                read_at=None if choice.in_app else now,
            )
        )
    if not rows:
        return []
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    # Read back by the event key, not only the rows just made: a fan-out retried after a crash between
    # the two inserts completes the deliveries (they are unique per notification and channel).
    made = list(
        Notification.objects.filter(
            school_id=school_id, event_key=event_key[:120], user_id__in=[r.user_id for r in rows]
        ).values_list("pk", "user_id")
    )
    deliveries = []
    for pk, uid in made:
        choice = choices[uid]
        for name in wanted[uid]:
            deliveries.append(
                Delivery(
                    school_id=school_id, notification_id=pk, channel=name, digest=choice.digest, next_attempt_at=now
                )
            )
    if not deliveries:
        return []
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    due = list(
        Delivery.objects.filter(
            notification_id__in=[pk for pk, _uid in made], digest=False, status=Status.PENDING
        ).values_list("pk", flat=True)
    )
    if due:
        # After commit, the receiver enqueues one send task for all deliveries of the transaction.
        send_on_commit(deliveries_ready, Delivery, {"ids": due})
    return due


def notify_account(*, school_id: int, user_id: int, params: dict[str, Any], event_key: str) -> list[int]:
    """Tell a person about an event on their own account (issue 9): in the app and at once through every
    channel that reaches them, whatever their preferences, and even when the account is deactivated
    (a notice of a deactivation or of a changed password is exactly what they must not miss).

    Idempotent per ``(school, user, event_key)`` like ``notify``. Returns the deliveries to send now.
    """
    user = User.objects.filter(pk=user_id).only("pk", "email", "phone").first()
    if user is None:
        return []
    reach = reach_of(school_id, [user_id])
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                school_id=school_id,
                user_id=user_id,
                kind=Kind.ACCOUNT,
                params=params,
                event_key=event_key[:120],
                created_at=now,
            )
        ],
        ignore_conflicts=True,
    )
    pk = Notification.objects.get(school_id=school_id, user_id=user_id, event_key=event_key[:120]).pk
    deliveries = [
        Delivery(school_id=school_id, notification_id=pk, channel=name, digest=False, next_attempt_at=now)
        for name in reachable(None, user, reach)
    ]
    if not deliveries:
        return []
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    due = list(Delivery.objects.filter(notification_id=pk, status=Status.PENDING).values_list("pk", flat=True))
    if due:
        send_on_commit(deliveries_ready, Delivery, {"ids": due})
    return due


def send_account_email(*, user_id: int, params: dict[str, Any], event_key: str) -> bool:
    """E-mail an account notice to a person who belongs to no school (a platform operator): there is no
    school to keep an in-app notice in, so the message is sent directly. Returns whether it was sent."""
    user = User.objects.filter(pk=user_id).first()
    channel = CHANNELS["email"]
    if user is None or not channel.address(user, Reach()):
        return False
    key = "cb-" + hashlib.sha256(f"{user_id}:{event_key}".encode()).hexdigest()[:32]
    return channel.send(user, [Notification(user=user, kind=Kind.ACCOUNT, params=params)], key=key).ok


def notify_students(
    *,
    school: School | int,
    kind: str,
    student_ids: Iterable[int],
    params_per_student: dict[int, dict[str, Any]],
    event_key: str,
    url: str = "",
) -> list[int]:
    """Tell each student and their guardians (``student_recipients``) about an event concerning them."""
    school_id = school if isinstance(school, int) else school.pk
    recipients = student_recipients(school_id, student_ids)
    per_user: dict[int, dict[str, Any]] = {}
    for student_id, user_ids in recipients.items():
        for uid in user_ids:
            per_user[uid] = params_per_student.get(student_id, {})
    return notify(
        school=school_id,
        kind=kind,
        user_ids=per_user,
        params={},
        event_key=event_key,
        url=url,
        params_per_user=per_user,
    )


# --- Delivery ---------------------------------------------------------------------------------------


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _claim(delivery_id: int, now: dt.datetime) -> Delivery | None:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update(of=("self",)).filter(pk=delivery_id, digest=False).first()
        if delivery is None or delivery.status != Status.PENDING or delivery.next_attempt_at > now:
            return None
        # Compare-and-set as well: on SQLite select_for_update is a no-op (the IMMEDIATE lock serialises).
        claimed = Delivery.objects.filter(pk=delivery_id, status=Status.PENDING).update(
            status=Status.SENDING, attempts=delivery.attempts + 1, claimed_at=now
        )
        if not claimed:
            return None
    return Delivery.objects.select_related("notification__user__telegram_link").get(pk=delivery_id)


def _provider_fields(result: SendResult) -> dict[str, Any]:
    """What an SMS or Viber send adds to the delivery record (nothing for e-mail and Telegram)."""
    if not result.provider_id:
        return {}
    return {"provider_id": result.provider_id, "segments": result.segments, "cost": result.cost}


def _finish(delivery: Delivery, result: SendResult, now: dt.datetime) -> None:
    if result.ok:
        Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=Status.SENT, sent_at=now, last_error="", **_provider_fields(result)
        )
        return
    error = result.error
    failed = delivery.attempts >= MAX_ATTEMPTS or not result.retry
    Delivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
        status=Status.FAILED if failed else Status.PENDING,
        next_attempt_at=now + backoff(delivery.attempts),
        last_error=error[:500],
    )


def deliver(delivery_ids: Iterable[int]) -> dict[str, int]:
    """Send each due pending delivery once. Returns counts of sent, failed (to retry) and skipped."""
    counts = {"sent": 0, "retry": 0, "skipped": 0}
    for delivery_id in delivery_ids:
        now = timezone.now()
        delivery = _claim(delivery_id, now)
        if delivery is None:
            counts["skipped"] += 1
            continue
        channel = CHANNELS.get(delivery.channel)
        notification = delivery.notification
        if channel is None:
            result = SendResult(False, f"unknown channel {delivery.channel}")
        else:
            result = channel.send(notification.user, [notification], key=f"cb-{delivery.pk}-{delivery.channel}")
        _finish(delivery, result, timezone.now())
        counts["sent" if result.ok else "retry"] += 1
    return counts


def due_deliveries(limit: int = 500) -> list[int]:
    """Pending deliveries whose retry time has come; claims older than ``STALE_CLAIM`` are released first."""
    now = timezone.now()
    Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(status=Status.PENDING)
    return list(
        Delivery.objects.filter(status=Status.PENDING, digest=False, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def next_retry_at(delivery_ids: Iterable[int]) -> dt.datetime | None:
    return (
        Delivery.objects.filter(pk__in=list(delivery_ids), status=Status.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


# --- Daily digest -----------------------------------------------------------------------------------


def send_digests(day: dt.date | None = None) -> dict[str, int]:
    """One digest per person per channel per day with the digest deliveries waiting (idempotent).

    A ``DigestRun`` row per (user, channel, day) records the digest; a rerun the same day skips people
    whose digest was sent, and retries those whose send failed. Items that arrive after the day's
    digest was sent wait for the next day's.
    """
    day = day or timezone.localdate()
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    waiting = (
        Delivery.objects.filter(digest=True, status=Status.PENDING)
        .values_list("notification__user_id", "channel")
        .distinct()
    )
    for user_id, channel_name in sorted(set(waiting)):
        with transaction.atomic():
            run, _created = DigestRun.objects.select_for_update().get_or_create(
                user_id=user_id, channel=channel_name, day=day
            )
            if run.status != Status.PENDING:
                counts["skipped"] += 1
                continue
            ids = list(
                Delivery.objects.select_for_update(of=("self",))
                .filter(digest=True, status=Status.PENDING, channel=channel_name, notification__user_id=user_id)
                .values_list("pk", flat=True)
            )
            Delivery.objects.filter(pk__in=ids).update(status=Status.SENDING, claimed_at=timezone.now())
            DigestRun.objects.filter(pk=run.pk).update(status=Status.SENDING, attempts=run.attempts + 1, items=len(ids))
        notifications = list(
            Notification.objects.filter(deliveries__pk__in=ids)
            .select_related("user__telegram_link")
            .order_by("created_at")
        )
        channel = CHANNELS.get(channel_name)
        user = notifications[0].user if notifications else None
        if channel is None or user is None:
            result = SendResult(False, "nothing to send")
        else:
            result = channel.send(user, notifications, key=f"cb-digest-{user_id}-{channel_name}-{day.isoformat()}")
        ok, error = result.ok, result.error
        now = timezone.now()
        with transaction.atomic():
            if ok:
                Delivery.objects.filter(pk__in=ids).update(
                    status=Status.SENT, sent_at=now, attempts=1, **_provider_fields(result)
                )
                DigestRun.objects.filter(pk=run.pk).update(status=Status.SENT, sent_at=now, last_error="")
                counts["sent"] += 1
            else:
                # A failure that no retry can mend (the school's SMS limit reached): failed, not tried every day.
                status = Status.PENDING if result.retry else Status.FAILED
                Delivery.objects.filter(pk__in=ids).update(status=status, last_error=error[:500])
                DigestRun.objects.filter(pk=run.pk).update(status=status, last_error=error[:500])
                counts["failed"] += 1
    return counts


# --- In-app list ------------------------------------------------------------------------------------


def mark_read(*, acting_user: User, school: School, ids: Iterable[int] | None = None) -> int:
    """Mark the person's own notifications in this school read (all of them when ``ids`` is None)."""
    rows = Notification.objects.filter(user=acting_user, school=school, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


# --- Telegram link ----------------------------------------------------------------------------------


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@transaction.atomic
def start_telegram_link(*, acting_user: User) -> dict[str, str]:
    """A one-time code the person sends to the bot as ``/start <code>``; shown once, stored hashed."""
    if not settings.TELEGRAM_BOT_TOKEN:
        raise DomainError(_("Telegram notifications are not set up on this server."), code="telegram_off")
    code = secrets.token_urlsafe(12)
    TelegramLink.objects.update_or_create(
        user=acting_user,
        defaults={"code_hash": _hash(code), "code_expires_at": timezone.now() + TELEGRAM_CODE_TTL},
    )
    bot = settings.TELEGRAM_BOT_USERNAME
    return {"code": code, "url": f"https://t.me/{bot}?start={code}" if bot else "", "command": f"/start {code}"}


@transaction.atomic
def link_telegram_chat(*, code: str, chat_id: int) -> User | None:
    """The bot received ``/start <code>`` from ``chat_id``: link that chat to the code's owner (once)."""
    link = (
        TelegramLink.objects.select_for_update()
        .select_related("user")
        .filter(code_hash=_hash(code.strip()), code_expires_at__gt=timezone.now())
        .first()
    )
    if not code.strip() or link is None:
        return None
    TelegramLink.objects.filter(chat_id=chat_id).exclude(pk=link.pk).update(chat_id=None, linked_at=None)
    link.chat_id = chat_id
    link.code_hash = ""
    link.code_expires_at = None
    link.linked_at = timezone.now()
    link.save()
    return link.user


@transaction.atomic
def unlink_telegram(*, acting_user: User) -> None:
    TelegramLink.objects.filter(user=acting_user).delete()


def telegram_status(user: Any) -> dict[str, Any]:
    link = TelegramLink.objects.filter(user=user).first()
    return {
        "available": bool(settings.TELEGRAM_BOT_TOKEN),
        "linked": bool(link and link.chat_id),
        "linked_at": link.linked_at if link else None,
    }


# --- SMS and Viber: the school's settings and the person's opt-in ---------------------------------------


def _require_phone_manager(acting_user: User, school: School) -> None:
    """The services re-check the rule the page checked (access/notifications.py)."""
    ctx = build_context(acting_user, school)
    if ctx is None or not may_manage_phone_settings(ctx):
        raise PermissionDeniedError(_("Only the school's administrators and director manage SMS and Viber."))


def phone_settings(school: School) -> PhoneSettings:
    return PhoneSettings.objects.filter(school=school).first() or PhoneSettings(school=school)


def phone_usage(school: School) -> PhoneUsage:
    month = timezone.localdate().replace(day=1)
    return PhoneUsage.objects.filter(school=school, month=month).first() or PhoneUsage(school=school, month=month)


SENDER = re.compile(r"^[A-Za-z0-9 .&_-]{1,11}$")
PHONE_SETTING_FIELDS = (
    "enabled",
    "sms_sender",
    "viber_sender",
    "price_per_segment",
    "price_per_viber",
    "monthly_limit",
)


def _clean_phone_settings(values: dict[str, Any]) -> dict[str, Any]:
    """Checked values (each refusal a translated error naming its field)."""
    clean: dict[str, Any] = {"enabled": bool(values.get("enabled"))}
    for name in ("sms_sender", "viber_sender"):
        sender = str(values.get(name) or "").strip()
        if sender and not SENDER.match(sender):
            message = _("A sender name is up to 11 Latin letters, digits and spaces, as registered with the provider.")
            raise DomainError(message, field=name)
        clean[name] = sender
    for name in ("price_per_segment", "price_per_viber", "monthly_limit"):
        try:
            amount = Decimal(str(values.get(name) or "0").replace(",", ".").strip())
        except ArithmeticError:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0 or amount > Decimal("99999999"):
            raise DomainError(_("Enter an amount of zero or more, e.g. 1.25."), field=name)
        clean[name] = amount.quantize(Decimal("0.0001") if name != "monthly_limit" else Decimal("0.01"))
    return clean


@transaction.atomic
def save_phone_settings(
    *, acting_user: User, school: School, values: dict[str, Any], token: str | None = None
) -> PhoneSettings:
    """Save the school's SMS and Viber settings; a new token is stored encrypted (never shown again, never audited).

    Raising the limit above what was spent this month lets sending go on (the stop is lifted, audited).
    """
    _require_phone_manager(acting_user, school)
    clean = _clean_phone_settings(values)
    conf = PhoneSettings.objects.select_for_update().filter(school=school).first() or PhoneSettings(school=school)
    old = {name: str(getattr(conf, name)) for name in PHONE_SETTING_FIELDS}
    token = (token or "").strip()
    if token:
        conf.token_encrypted = keystore.encrypt(token.encode())
        conf.last_error, conf.last_error_at = "", None
    if clean["enabled"] and (not clean["sms_sender"] or not (token or conf.token_encrypted)):
        raise DomainError(_("To switch sending on, enter the token and the SMS sender name."), field="enabled")
    for name, value in clean.items():
        setattr(conf, name, value)
    conf.updated_by, conf.updated_at = acting_user, timezone.now()
    conf.save()
    new = {name: str(getattr(conf, name)) for name in PHONE_SETTING_FIELDS}
    data: dict[str, Any] = {"old": old, "new": new, "token_changed": bool(token)}
    usage = PhoneUsage.objects.filter(school=school, month=timezone.localdate().replace(day=1)).first()
    if usage is not None and usage.limit_reached_at is not None and usage.cost < conf.monthly_limit:
        PhoneUsage.objects.filter(pk=usage.pk).update(limit_reached_at=None)
        data["resumed"] = True
    log_action("notifications.phone.settings_saved", actor=acting_user, school=school, obj=conf, data=data)
    return conf


def phone_status(user: Any) -> dict[str, Any]:
    """The person's number, whether it can take SMS, and whether they opted in for it."""
    number = sms.normalize_phone(user.phone)
    opt_in = PhoneOptIn.objects.filter(user=user).first()
    return {
        "phone": user.phone,
        "valid": bool(number),
        "opted_in": bool(opt_in and number and opt_in.phone == number),
        "opted_in_at": opt_in.opted_in_at if opt_in else None,
    }


@transaction.atomic
def rotate_phone_tokens() -> int:
    """Re-encrypt every school's SMS token with the current ``SIGNING_KEY`` (after a rotation, docs/signing.md)."""
    count = 0
    for conf in PhoneSettings.objects.select_for_update().iterator():
        if not conf.token_encrypted:
            continue
        conf.token_encrypted = keystore.rotate(conf.token_encrypted)
        conf.save(update_fields=["token_encrypted"])
        count += 1
    return count


@transaction.atomic
def opt_in_phone(*, acting_user: User, school: School) -> PhoneOptIn:
    """The guardian agrees to receive notifications by SMS or Viber at the number in their profile (audited)."""
    ctx = build_context(acting_user, school)
    if ctx is None or not may_opt_in_phone(ctx):
        raise PermissionDeniedError(_("Only parents receive notifications by SMS or Viber."))
    number = sms.normalize_phone(acting_user.phone)
    if not number:
        raise DomainError(_("Your profile has no phone number that can receive SMS."), field="phone")
    opt_in, _created = PhoneOptIn.objects.update_or_create(
        user=acting_user, defaults={"phone": number, "opted_in_at": timezone.now()}
    )
    log_action("notifications.phone.opted_in", actor=acting_user, school=school, obj=opt_in, data={"phone": number})
    return opt_in


@transaction.atomic
def opt_out_phone(*, acting_user: User, school: School) -> None:
    """Nothing more by SMS or Viber; deliveries still waiting are not sent (they find no opted-in number)."""
    deleted, _rows = PhoneOptIn.objects.filter(user=acting_user).delete()
    if deleted:
        log_action("notifications.phone.opted_out", actor=acting_user, school=school, data={})


# --- Class teacher's notices (R2.10) ----------------------------------------------------------------


def notice_policy(school: School) -> NoticePolicy:
    policy = NoticePolicy.objects.filter(school=school).first()
    return policy or NoticePolicy(school=school)


@dataclass
class NoticeCandidate:
    student_id: int
    name: str
    average: Decimal | None
    absences: int
    failing: bool
    often_absent: bool


def notice_candidates(school_class: SchoolClass) -> list[NoticeCandidate]:
    """Students of the class below the school's average threshold or with many absences (five queries: the
    thresholds, the students, the weighting rule, the marks, the absences)."""
    policy = notice_policy(school_class.school)
    today = timezone.localdate()
    since = today - dt.timedelta(days=policy.window_days)
    students = list(
        Student.objects.filter(
            school_id=school_class.school_id,
            enrolments__school_class=school_class,
            enrolments__start__lte=today,
        )
        .filter(Q(enrolments__end__isnull=True) | Q(enrolments__end__gte=today))
        .select_related("user")
        .distinct()
    )
    ids = [s.pk for s in students]
    # The student's average across the class's journals over the window's lessons (``since`` to today; a mark
    # at a future lesson is not of "the last days"): the journal's one definition
    # (``journal.stats``: the school's one weighting rule and its one rounding rule), as the grid and the
    # diary compute it.
    tallies = class_tallies(
        school_class.pk,
        since,
        today,
        weighted=weighted_averages(school_class.school_id),
        student_ids=ids,
    )
    absences = {
        sid: counts.missed
        for sid, counts in absence_counts(
            Attendance.objects.filter(
                school_id=school_class.school_id,
                student_id__in=ids,
                lesson__date__gte=since,
                lesson__assignment__school_class=school_class,
            )
        ).items()
    }
    found = []
    for student in students:
        tally = tallies.get(student.pk)
        avg = tally.mean(school_class.school) if tally is not None else None
        failing = avg is not None and avg < policy.average_below
        often = absences.get(student.pk, 0) >= policy.absences_at_least
        if failing or often:
            found.append(
                NoticeCandidate(student.pk, student.user.full_name, avg, absences.get(student.pk, 0), failing, often)
            )
    found.sort(key=lambda c: c.name)
    return found


def send_class_notices(
    *, acting_user: User, school_class: SchoolClass, student_ids: Iterable[int]
) -> list[ClassNotice]:
    """The class teacher sends the notice to the parents of the chosen students among the candidates (R2.10).

    Each notice is recorded (``ClassNotice`` and the audit log); the parents are told through their channels.
    """
    if not is_class_teacher_of(acting_user, school_class):
        raise PermissionDeniedError(_("Only the class teacher may send these notices."))
    chosen = set(student_ids)
    candidates = [c for c in notice_candidates(school_class) if c.student_id in chosen]
    if not candidates:
        raise DomainError(_("Choose students from the list."), code="nothing_chosen")
    policy = notice_policy(school_class.school)
    now = timezone.now()
    notices = []
    with transaction.atomic():
        recipients = student_recipients(school_class.school_id, [c.student_id for c in candidates])
        student_users = dict(
            Student.objects.filter(pk__in=[c.student_id for c in candidates]).values_list("pk", "user_id")
        )
        for c in candidates:
            parents = [uid for uid in recipients.get(c.student_id, []) if uid != student_users.get(c.student_id)]
            notice = ClassNotice.objects.create(
                school_id=school_class.school_id,
                school_class=school_class,
                student_id=c.student_id,
                sent_by=acting_user,
                sent_at=now,
                average=c.average,
                absences=c.absences,
                recipients=len(parents),
            )
            log_action(
                "notifications.class_notice.sent",
                actor=acting_user,
                school=school_class.school,
                obj=notice,
                data={"student": c.student_id, "average": str(c.average), "absences": c.absences, "to": parents},
            )
            params = {
                "student": c.name,
                "average": str(c.average) if c.average is not None else "—",
                "absences": c.absences,
                "days": policy.window_days,
                "teacher": acting_user.full_name,
            }
            notify(
                school=school_class.school_id,
                kind=Kind.CLASS_NOTICE,
                user_ids=parents,
                params=params,
                event_key=f"class-notice:{notice.pk}",
            )
            notices.append(notice)
    return notices
