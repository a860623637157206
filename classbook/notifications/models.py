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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_unique_channel"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending", digest=False), name="delivery_due"),
            models.Index(fields=["digest", "status"], name="delivery_digest"),
        ]


class Preference(models.Model):
    """A person's choice for one kind of notification. No row means the defaults (``services.DEFAULTS``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by e-mail"), default=True)
    telegram = models.BooleanField(_("by Telegram"), default=True)
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
