"""Messages (R5.3), announcements and events, and the school forum (R5.4).

A conversation may be *about* a student (``Conversation.student``): every conversation with a parent or a
student is, and a parent's participation lasts only while their guardian link to that student is
current and "may see" (R1.3). Read state is one number per participant (``last_read_id``): a message
is read by a participant when its id is at most that number, so the unread counter is one indexed query.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned

BODY_MAX = 5000
SUBJECT_MAX = 200


class Conversation(SchoolOwned):
    """A direct conversation of two or more people of one school."""

    subject = models.CharField(pgettext_lazy("message", "subject"), max_length=SUBJECT_MAX, blank=True)
    student = models.ForeignKey(
        "people.Student",
        verbose_name=_("about student"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set when a parent writes and no staff member has answered since (R5.3: answer within 3 days).
    awaiting_reply_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [models.Index(fields=["school", "awaiting_reply_since"])]

    def __str__(self) -> str:
        return self.subject or f"#{self.pk}"


class ParticipantKind(models.TextChoices):
    STAFF = "staff", _("staff")
    GUARDIAN = "guardian", _("parent")
    STUDENT = "student", _("student")


class Participant(SchoolOwned):
    """A person in a conversation, in the capacity they joined it (staff, parent of the student, the student)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=ParticipantKind.choices)
    last_read_id = models.PositiveBigIntegerField(default=0)
    # Copies of the conversation's last message id and time, so the inbox and the unread counter
    # read one indexed table (written with every message, one UPDATE for all participants).
    latest_message_id = models.PositiveBigIntegerField(default=0)
    latest_message_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "user"], name="participant_unique"),
        ]
        indexes = [models.Index(fields=["school", "user", "-latest_message_at"])]


class Message(SchoolOwned):
    conversation = models.ForeignKey(Conversation, on_delete=models.PROTECT, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sender_kind = models.CharField(max_length=8, choices=ParticipantKind.choices)
    body = models.TextField(_("message"), max_length=BODY_MAX)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["conversation", "id"])]


def message_file_path(instance: MessageAttachment, filename: str) -> str:
    # A random name: the original name is kept in the row and never used as a path.
    return f"messages/{instance.school_id}/{uuid.uuid4().hex}"


class MessageAttachment(SchoolOwned):
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=message_file_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=200)
    # Verified from the file's bytes at upload (classbook.core.uploads), never the uploader's content type.
    mime_type = models.CharField(max_length=100, default="application/octet-stream")
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]


class Audience(models.TextChoices):
    SCHOOL = "school", _("Whole school")
    YEAR_LEVEL = "year_level", _("Year level")
    CLASS = "class", _("Class")
    STAFF = "staff", _("Staff only")


class Announcement(SchoolOwned):
    """An announcement or an event (with a date and place) for the school, a year level, a class or the staff."""

    audience = models.CharField(_("audience"), max_length=12, choices=Audience.choices)
    year_level = models.ForeignKey(
        "schools.YearLevel", verbose_name=_("year level"), null=True, blank=True, on_delete=models.PROTECT
    )
    school_class = models.ForeignKey(
        "schools.SchoolClass", verbose_name=_("class"), null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField(_("title"), max_length=SUBJECT_MAX)
    body = models.TextField(_("text"), max_length=BODY_MAX)
    event_start = models.DateTimeField(_("event starts"), null=True, blank=True)
    event_end = models.DateTimeField(_("event ends"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(audience__in=["school", "staff"], year_level__isnull=True, school_class__isnull=True)
                    | Q(audience="year_level", year_level__isnull=False, school_class__isnull=True)
                    | Q(audience="class", year_level__isnull=True, school_class__isnull=False)
                ),
                name="announcement_audience_target",
            ),
            models.CheckConstraint(
                condition=Q(event_end__isnull=True)
                | Q(event_start__isnull=False, event_end__gte=models.F("event_start")),
                name="announcement_event_dates",
            ),
        ]
        indexes = [models.Index(fields=["school", "withdrawn_at", "-published_at"])]

    def __str__(self) -> str:
        return self.title


class ForumTopic(SchoolOwned):
    """A topic of the school forum, opened by the director or a deputy (R5.4); who may read and reply is per topic."""

    title = models.CharField(_("title"), max_length=SUBJECT_MAX)
    body = models.TextField(_("text"), max_length=BODY_MAX)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    open_to_parents = models.BooleanField(_("parents take part"), default=True)
    open_to_students = models.BooleanField(_("students take part"), default=False)
    is_closed = models.BooleanField(_("closed for replies"), default=False)
    last_reply_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("forum topic")
        verbose_name_plural = _("forum topics")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class ForumReply(SchoolOwned):
    """A reply in a forum topic. A moderator hides a reply; it is kept, and the hiding is audited."""

    topic = models.ForeignKey(ForumTopic, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("reply"), max_length=BODY_MAX)
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    hidden_reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("forum reply")
        verbose_name_plural = _("forum replies")
        ordering = ["id"]
        indexes = [models.Index(fields=["topic", "id"])]
