"""Every write of messaging (R5.3, R5.4): conversations, messages, read state, announcements, the forum.

Each service takes the caller's ``SchoolContext`` (its user is the actor), checks the rule of the action in
``classbook.access.messaging`` even if the caller already did, validates everything before writing
anything, runs in one transaction and sends its signal after commit. Messages and replies are never edited
or deleted: the rows are the record. A withdrawn announcement and a hidden forum reply are kept, with who
and when, and the act is in the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access import messaging as rules
from classbook.access.context import SchoolContext
from classbook.core import uploads
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.messaging import signals
from classbook.messaging.models import (
    BODY_MAX,
    SUBJECT_MAX,
    Announcement,
    Audience,
    Conversation,
    ForumReply,
    ForumTopic,
    Message,
    MessageAttachment,
    Participant,
    ParticipantKind,
)
from classbook.people.models import Student, User
from classbook.schools.models import SchoolClass, YearLevel

MAX_RECIPIENTS = 10
MAX_FILES = 5
POLICY = uploads.POLICIES["message"]
MAX_FILE_SIZE = POLICY.max_size


# --- validation -----------------------------------------------------------------------------------


def clean_text(value: str | None, *, field: str, limit: int, required: bool = True) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise DomainError(_("This field cannot be empty."), field=field)
    if len(text) > limit:
        raise DomainError(
            _("At most %(limit)d characters (now %(length)d).") % {"limit": limit, "length": len(text)}, field=field
        )
    return text


def clean_files(files: Sequence[UploadedFile]) -> list[uploads.CheckedUpload]:
    """Check every file before anything is written: the count, then each file's size and kind by its content
    (``classbook.core.uploads``, docs/messaging.md)."""
    if len(files) > MAX_FILES:
        raise DomainError(_("At most %(count)d files per message.") % {"count": MAX_FILES}, field="files")
    return [uploads.check_upload(upload, POLICY) for upload in files]


def _writer(ctx: SchoolContext) -> None:
    if not rules.may_use_messaging(ctx):
        raise PermissionDeniedError(_("Read-only access."))


# --- conversations (R5.3) -------------------------------------------------------------------------


def _append(
    ctx: SchoolContext, conversation: Conversation, kind: str, body: str, files: list[uploads.CheckedUpload]
) -> Message:
    message = Message.objects.create(
        school=ctx.school, conversation=conversation, sender=ctx.user, sender_kind=kind, body=body
    )
    for checked in files:
        attachment = MessageAttachment(
            school=ctx.school,
            message=message,
            original_name=checked.name,
            size=checked.size,
            mime_type=checked.kind.mime,
        )
        attachment.file.save(checked.name, checked.upload, save=False)
        attachment.save()
    # R5.3: a parent's message waits for a staff answer; a staff message answers it.
    if kind == ParticipantKind.GUARDIAN:
        awaiting = conversation.awaiting_reply_since or message.created_at
    elif kind == ParticipantKind.STAFF:
        awaiting = None
    else:
        awaiting = conversation.awaiting_reply_since
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message=message, last_message_at=message.created_at, awaiting_reply_since=awaiting
    )
    conversation.last_message, conversation.last_message_at = message, message.created_at
    conversation.awaiting_reply_since = awaiting
    Participant.objects.filter(conversation=conversation).update(
        latest_message_id=message.pk, latest_message_at=message.created_at
    )
    # The sender has read their own message.
    Participant.objects.filter(conversation=conversation, user=ctx.user).update(last_read_id=message.pk)
    transaction.on_commit(partial(signals.message_posted.send, sender=Message, instance=message))
    return message


def _kind_of(ctx: SchoolContext, user: User, student: Student | None) -> str:
    if student is not None and user.pk == student.user_id:
        return ParticipantKind.STUDENT
    if student is not None and rules.guardian_ids(ctx, student).filter(guardian_id=user.pk).exists():
        return ParticipantKind.GUARDIAN
    return ParticipantKind.STAFF


@transaction.atomic
def start_conversation(
    ctx: SchoolContext,
    *,
    recipient_ids: Sequence[int],
    body: str,
    subject: str = "",
    student: Student | None = None,
    files: Sequence[UploadedFile] = (),
) -> Conversation:
    """Open a conversation with people the contact rule allows (``access.messaging``), with a first message."""
    _writer(ctx)
    kind = rules.starter_kind(ctx, student)
    if kind is None:
        if student is None and not rules.writes_about_nobody(ctx):
            raise DomainError(_("Choose the child the conversation is about."), field="student")
        raise PermissionDeniedError(_("You may not start conversations here."))
    if student is not None and student.school_id != ctx.school.pk:
        raise DomainError(_("Choose the child the conversation is about."), field="student")
    ids = {int(pk) for pk in recipient_ids}
    ids.discard(ctx.user.pk)
    if not ids:
        raise DomainError(_("Choose at least one recipient."), field="recipients")
    if len(ids) > MAX_RECIPIENTS:
        raise DomainError(_("At most %(count)d recipients.") % {"count": MAX_RECIPIENTS}, field="recipients")
    recipients = list(rules.recipient_choices(ctx, student).filter(pk__in=ids))
    if len(recipients) != len(ids):
        raise PermissionDeniedError(_("You may not write to some of the chosen people."))
    subject = clean_text(subject, field="subject", limit=SUBJECT_MAX, required=False)
    body = clean_text(body, field="body", limit=BODY_MAX)
    cleaned = clean_files(files)

    conversation = Conversation.objects.create(school=ctx.school, subject=subject, student=student, created_by=ctx.user)
    Participant.objects.bulk_create(
        [Participant(school=ctx.school, conversation=conversation, user=ctx.user, kind=kind)]
        + [
            Participant(school=ctx.school, conversation=conversation, user=u, kind=_kind_of(ctx, u, student))
            for u in recipients
        ]
    )
    _append(ctx, conversation, kind, body, cleaned)
    log_action(
        "messaging.conversation.started",
        actor=ctx.user,
        school=ctx.school,
        obj=conversation,
        data={"participants": sorted([ctx.user.pk, *ids]), "student": student.pk if student else None},
    )
    return conversation


@transaction.atomic
def post_message(
    ctx: SchoolContext, *, conversation: Conversation, body: str, files: Sequence[UploadedFile] = ()
) -> Message:
    """Answer in a conversation: only a participant who still sees it (replies follow the conversation)."""
    _writer(ctx)
    me = rules.participations(ctx).filter(conversation=conversation).first()
    if me is None:
        raise PermissionDeniedError(_("You do not take part in this conversation."))
    body = clean_text(body, field="body", limit=BODY_MAX)
    cleaned = clean_files(files)
    return _append(ctx, conversation, me.kind, body, cleaned)


def mark_read(ctx: SchoolContext, *, conversation: Conversation) -> None:
    """The user has seen the conversation up to its last message (read receipts, the unread counter)."""
    if conversation.last_message_id is None:
        return
    rules.participations(ctx).filter(conversation=conversation).update(
        last_read_id=Greatest(F("last_read_id"), conversation.last_message_id)
    )


# --- announcements and events (R5.4) --------------------------------------------------------------


@transaction.atomic
def publish_announcement(
    ctx: SchoolContext,
    *,
    audience: str,
    title: str,
    body: str,
    year_level: YearLevel | None = None,
    school_class: SchoolClass | None = None,
    event_start: dt.datetime | None = None,
    event_end: dt.datetime | None = None,
    place: str = "",
) -> Announcement:
    """Publish for the school, a year level or the staff (director, deputies), or a class (also its class teacher)."""
    _writer(ctx)
    if audience not in Audience.values:
        raise DomainError(_("Choose the audience."), field="audience")
    if not rules.may_publish(ctx):
        raise PermissionDeniedError(_("You may not publish announcements."))
    if audience != Audience.CLASS and not rules.may_publish_any(ctx):
        raise PermissionDeniedError(_("A class teacher publishes for their own class only."))
    if audience == Audience.CLASS:
        if school_class is None:
            raise DomainError(_("Choose the class."), field="school_class")
        if not rules.publishable_classes(ctx).filter(pk=school_class.pk).exists():
            raise PermissionDeniedError(_("You may not publish for this class."))
        year_level = None
    elif audience == Audience.YEAR_LEVEL:
        if year_level is None or year_level.school_id != ctx.school.pk:
            raise DomainError(_("Choose the year level."), field="year_level")
        school_class = None
    else:
        year_level = school_class = None
    title = clean_text(title, field="title", limit=SUBJECT_MAX)
    body = clean_text(body, field="body", limit=BODY_MAX)
    place = clean_text(place, field="place", limit=200, required=False)
    if event_end and not event_start:
        raise DomainError(_("Give the start of the event too."), field="event_start")
    if event_start and event_end and event_end < event_start:
        raise DomainError(_("The event cannot end before it starts."), field="event_end")
    announcement = Announcement.objects.create(
        school=ctx.school,
        audience=audience,
        year_level=year_level,
        school_class=school_class,
        title=title,
        body=body,
        event_start=event_start,
        event_end=event_end,
        place=place,
        author=ctx.user,
    )
    log_action(
        "messaging.announcement.published",
        actor=ctx.user,
        school=ctx.school,
        obj=announcement,
        data={"audience": audience, "title": title},
    )
    transaction.on_commit(partial(signals.announcement_published.send, sender=Announcement, instance=announcement))
    return announcement


@transaction.atomic
def withdraw_announcement(ctx: SchoolContext, *, announcement: Announcement) -> Announcement:
    """Take an announcement down: its author or the administration. The row stays, with who and when."""
    _writer(ctx)
    if not rules.may_withdraw(ctx, announcement):
        raise PermissionDeniedError(_("You may not withdraw this announcement."))
    if announcement.withdrawn_at is None:
        announcement.withdrawn_at = timezone.now()
        announcement.withdrawn_by = ctx.user
        announcement.save(update_fields=["withdrawn_at", "withdrawn_by"])
        log_action("messaging.announcement.withdrawn", actor=ctx.user, school=ctx.school, obj=announcement)
    return announcement


# --- the school forum (R5.4) ----------------------------------------------------------------------


@transaction.atomic
def open_topic(
    ctx: SchoolContext, *, title: str, body: str, open_to_parents: bool = True, open_to_students: bool = False
) -> ForumTopic:
    """The director (or a deputy) opens a topic; staff always take part, parents and students as the topic says."""
    _writer(ctx)
    if not rules.may_open_topic(ctx):
        raise PermissionDeniedError(_("Only the director and deputies open forum topics."))
    title = clean_text(title, field="title", limit=SUBJECT_MAX)
    body = clean_text(body, field="body", limit=BODY_MAX)
    topic = ForumTopic.objects.create(
        school=ctx.school,
        title=title,
        body=body,
        author=ctx.user,
        open_to_parents=bool(open_to_parents),
        open_to_students=bool(open_to_students),
    )
    log_action(
        "messaging.forum_topic.opened",
        actor=ctx.user,
        school=ctx.school,
        obj=topic,
        data={"title": title, "parents": topic.open_to_parents, "students": topic.open_to_students},
    )
    return topic


@transaction.atomic
def set_topic_closed(ctx: SchoolContext, *, topic: ForumTopic, closed: bool) -> ForumTopic:
    _writer(ctx)
    if not rules.may_moderate(ctx):
        raise PermissionDeniedError(_("Only the director and deputies moderate the forum."))
    if topic.is_closed != closed:
        topic.is_closed = closed
        topic.save(update_fields=["is_closed"])
        log_action(
            "messaging.forum_topic.closed" if closed else "messaging.forum_topic.reopened",
            actor=ctx.user,
            school=ctx.school,
            obj=topic,
        )
    return topic


@transaction.atomic
def post_reply(ctx: SchoolContext, *, topic: ForumTopic, body: str) -> ForumReply:
    _writer(ctx)
    if topic.is_closed:
        raise DomainError(_("The topic is closed for replies."), field="body")
    if not rules.may_reply(ctx, topic):
        raise PermissionDeniedError(_("You may not reply in this topic."))
    body = clean_text(body, field="body", limit=BODY_MAX)
    reply = ForumReply.objects.create(school=ctx.school, topic=topic, author=ctx.user, body=body)
    ForumTopic.objects.filter(pk=topic.pk).update(last_reply_at=reply.created_at)
    transaction.on_commit(partial(signals.forum_reply_posted.send, sender=ForumReply, instance=reply))
    return reply


@transaction.atomic
def hide_reply(ctx: SchoolContext, *, reply: ForumReply, reason: str = "") -> ForumReply:
    """A moderator hides a reply: the text is kept (moderators still read it) and the act is audited."""
    _writer(ctx)
    if not rules.may_moderate(ctx):
        raise PermissionDeniedError(_("Only the director and deputies moderate the forum."))
    reason = clean_text(reason, field="reason", limit=200, required=False)
    if reply.hidden_at is None:
        reply.hidden_at = timezone.now()
        reply.hidden_by = ctx.user
        reply.hidden_reason = reason
        reply.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        log_action(
            "messaging.forum_reply.hidden",
            actor=ctx.user,
            school=ctx.school,
            obj=reply,
            data={"topic": reply.topic_id, "author": reply.author_id, "reason": reason},
        )
    return reply
