"""Notifications (R5.5, R2.10): what a person was told, through which channels, and whether it arrived.

A ``Notification`` is one event for one recipient in one school (the in-app "bell" list). Each
external channel that should carry it is a ``Delivery`` row with its own status, attempts and next
retry time, so nothing is lost when a mail server is down and nothing is sent twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class Kind(models.TextChoices):
    MARK = "mark", _("New mark")
    ABSENCE = "absence", _("Absence")
    HOMEWORK = "homework", _("Homework set")
    PERIOD_GRADE = "period_grade", _("Period mark published")
    TIMETABLE = "timetable", _("Timetable change")
    MESSAGE = "message", _("New message")
    ANNOUNCEMENT = "announcement", _("Announcement")
    CLASS_NOTICE = "class_notice", _("Notice from the class teacher")
    FORUM = "forum", _("Reply in the forum")
    ABSENCE_REPORT = "absence_report", _("Absence report")
    MARK_FLAG = "mark_flag", _("Flagged mark")
    # Events on the person's own account (issue 9): always sent, not a preference (``services.notify_account``).
    ACCOUNT = "account", _("Your account")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    TELEGRAM = "telegram", _("Telegram")
    SMS = "sms", _("SMS")
    VIBER = "viber", _("Viber")


class Notification(SchoolOwned):
    """One event for one recipient. The text is rendered from ``kind`` and ``params`` in the reader's language."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    # The event this notification came from ("mark:<id>:<version>", "lesson-change:<id>" ...): a retried
    # fan-out task finds the row it already made instead of making a second one.
    event_key = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["school", "user", "event_key"], name="notification_unique_event")
        ]
        indexes = [
            models.Index(fields=["user", "school", "-created_at"]),
            models.Index(fields=["user", "school"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]


class Status(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(SchoolOwned):
    """One notification through one channel. (notification, channel) is unique: the idempotency key."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    digest = models.BooleanField(default=False, help_text="Sent in the daily digest, not at once")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # SMS and Viber (``sms.py``): the provider's message id, what the message cost (segments x price, an
    # estimate of what the provider bills), and the delivery report polled from the provider.
    provider_id = models.CharField(max_length=64, blank=True)
    segments = models.PositiveSmallIntegerField(default=0)
    cost = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    report = models.CharField(max_length=32, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_unique_channel"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending", digest=False), name="delivery_due"),
            models.Index(fields=["digest", "status"], name="delivery_digest"),
            models.Index(
                fields=["school", "sent_at"],
                condition=Q(status="sent", reported_at__isnull=True) & ~Q(provider_id=""),
                name="delivery_awaiting_report",
            ),
        ]


class Preference(models.Model):
    """A person's choice for one kind of notification. No row means the defaults (``services.DEFAULTS``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by e-mail"), default=True)
    telegram = models.BooleanField(_("by Telegram"), default=True)
    sms = models.BooleanField(_("by SMS"), default=False)
    viber = models.BooleanField(_("by Viber"), default=False)
    digest = models.BooleanField(_("once a day, in a digest"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="preference_unique_kind")]


class DigestRun(models.Model):
    """One daily digest of one person through one channel: made once, whatever reruns the command."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    day = models.DateField()
    items = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "channel", "day"], name="digestrun_unique_day")]


class TelegramLink(models.Model):
    """The Telegram chat a person linked with a one-time code (``/start <code>`` to the school's bot)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="telegram_link")
    chat_id = models.BigIntegerField(null=True, blank=True, unique=True)
    code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    linked_at = models.DateTimeField(null=True, blank=True)


class NoticePolicy(SchoolOwned):
    """The school's thresholds for the class teacher's notices to parents (R2.10)."""

    average_below = models.DecimalField(
        _("average mark below"), max_digits=4, decimal_places=2, default=4, help_text=_("On the school's scale")
    )
    absences_at_least = models.PositiveSmallIntegerField(_("absences at least"), default=10)
    window_days = models.PositiveSmallIntegerField(_("over the last days"), default=30)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school"], name="noticepolicy_unique_school")]


class ClassNotice(SchoolOwned):
    """A notice the class teacher sent to a student's parents (R2.10): recorded with its reasons."""

    school_class = models.ForeignKey("schools.SchoolClass", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    average = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    absences = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["school_class", "-sent_at"])]


class PhoneOptIn(models.Model):
    """A person agreed to receive notifications by SMS or Viber at this number (the one in their profile).

    The number is kept as it was when they agreed: once the profile's phone changes, the opt-in no longer
    applies (nobody else's phone is written to by a stale consent) until they agree again for the new one.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_opt_in")
    phone = models.CharField(max_length=16)
    opted_in_at = models.DateTimeField(default=timezone.now)


class PhoneSettings(SchoolOwned):
    """A school's SMS and Viber gateway (TurboSMS): its token (encrypted at rest), sender names, prices and
    the monthly cost limit. One row per school; without it (or switched off) nothing goes by SMS or Viber."""

    enabled = models.BooleanField(_("send SMS and Viber messages"), default=False)
    token_encrypted = models.BinaryField(blank=True, default=b"")
    sms_sender = models.CharField(_("SMS sender name"), max_length=20, blank=True)
    viber_sender = models.CharField(
        _("Viber sender name"), max_length=40, blank=True, help_text=_("Empty: Viber is not used")
    )
    price_per_segment = models.DecimalField(_("price of one SMS segment"), max_digits=8, decimal_places=4, default=0)
    price_per_viber = models.DecimalField(_("price of one Viber message"), max_digits=8, decimal_places=4, default=0)
    monthly_limit = models.DecimalField(_("monthly cost limit"), max_digits=10, decimal_places=2, default=0)
    # The provider's last refusal of the school's requests (a wrong token, an empty balance), shown on the page.
    last_error = models.CharField(max_length=300, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school"], name="phonesettings_unique_school")]


class PhoneUsage(SchoolOwned):
    """What a school's SMS and Viber messages cost in one calendar month: reserved before each send, released
    when the send fails; ``limit_reached_at`` is set (and audited) when a message would pass the limit."""

    month = models.DateField()
    messages = models.PositiveIntegerField(default=0)
    segments = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    limit_reached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school", "month"], name="phoneusage_unique_month")]
