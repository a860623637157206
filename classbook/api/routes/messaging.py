"""Messages, announcements and the school forum API (R5.3, R5.4), under ``/api/v1/schools/{school}/``.

Thin: rows come from ``classbook.access.messaging`` (anything the caller may not see is 404), writes go
through ``classbook.messaging.services``. Messages with files are sent as ``multipart/form-data``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from classbook.access import messaging as rules
from classbook.access.context import SchoolContext, resolve_school, school_for
from classbook.access.scopes import directory, get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core import uploads
from classbook.messaging import queries, services
from classbook.messaging.models import Announcement, Conversation, ForumReply, ForumTopic, Message
from classbook.schools.models import YearLevel

router = Router(tags=["messaging"])


def _member(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, rules.may_use_messaging)


class PersonOut(Schema):
    id: int
    name: str


def _person(user: Any) -> dict[str, Any]:
    return {"id": user.pk, "name": user.full_name or user.username}


# --- conversations --------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    name: str
    size: int
    mime_type: str  # verified from the file's content at upload
    url: str


class MessageOut(Schema):
    id: int
    sender: PersonOut
    body: str
    created_at: dt.datetime
    attachments: list[AttachmentOut]
    read_by: list[int]  # for your own messages: who has read it


class ConversationOut(Schema):
    id: int
    subject: str
    student_id: int | None
    participants: list[PersonOut]
    last_message_at: dt.datetime | None
    unread: bool


ConversationPage = Page[ConversationOut]
CONVERSATION_SORTS = Sorts("-last_message_at", last_message_at="latest_message_at", id="conversation_id")
# "rank,name": the class teacher first, then the child's teachers, the administration, others (as the page).
RECIPIENT_SORTS = Sorts("name", name="name", id="id", rank="rank")
ANNOUNCEMENT_SORTS = Sorts("-published_at", published_at="published_at", event_start="event_start", id="id")
TOPIC_SORTS = Sorts("-created_at", created_at="created_at", title="title", id="id")


class ConversationQuery(ListQuery):
    sort: str = CONVERSATION_SORTS.field()


class RecipientQuery(ListQuery):
    student_id: int | None = Field(None, ge=1, le=2**62, description="Write about this child (parents, teachers)")
    sort: str = RECIPIENT_SORTS.field()


class AnnouncementQuery(ListQuery):
    sort: str = ANNOUNCEMENT_SORTS.field()


class TopicQuery(ListQuery):
    sort: str = TOPIC_SORTS.field()


class ConversationDetail(Schema):
    id: int
    subject: str
    student_id: int | None
    participants: list[PersonOut]
    page: int
    pages: int
    messages: list[MessageOut]


def _message_out(school: str, m: Message, read_by: list[Any]) -> dict[str, Any]:
    return {
        "id": m.pk,
        "sender": _person(m.sender),
        "body": m.body,
        "created_at": m.created_at,
        "attachments": [
            {
                "id": f.pk,
                "name": f.original_name,
                "size": f.size,
                "mime_type": f.mime_type,
                "url": f"/api/v1/schools/{school}/messages/files/{f.pk}",
            }
            for f in m.attachments.all()
        ],
        "read_by": [u.pk for u in read_by],
    }


def _detail(request: HttpRequest, ctx: SchoolContext, school: str, conv: Conversation, page: Any) -> dict[str, Any]:
    detail = queries.conversation_detail(ctx, conv, page)
    return {
        "id": conv.pk,
        "subject": conv.subject,
        "student_id": conv.student_id,
        "participants": [_person(p.user) for p in detail["participants"]],
        "page": detail["page"].number,
        "pages": detail["page"].paginator.num_pages,
        "messages": [_message_out(school, r.message, r.read_by) for r in detail["rows"]],
    }


@router.get("/{school}/messages/conversations", response=ConversationPage, summary="Your conversations, newest first")
def list_conversations(request: HttpRequest, school: str, q: Query[ConversationQuery]) -> dict[str, Any]:
    ctx = _member(request, school)
    return paginate(
        request,
        queries.inbox_participations(ctx),
        q,
        CONVERSATION_SORTS,
        lambda r: {
            "id": r.conversation.pk,
            "subject": r.conversation.subject,
            "student_id": r.conversation.student_id,
            "participants": [_person(u) for u in r.others],
            "last_message_at": r.conversation.last_message_at,
            "unread": r.unread,
        },
        rows_out=lambda rows: queries.inbox_rows(ctx, rows),
    )


class UnreadOut(Schema):
    unread: int


@router.get("/{school}/messages/unread", response=UnreadOut, summary="How many conversations have unread messages")
def unread(request: HttpRequest, school: str) -> dict[str, int]:
    return {"unread": rules.unread_count(_member(request, school))}


class RecipientOut(PersonOut):
    role: str = Field("", description="Their role for the child: class teacher, teacher of <subjects>, director…")
    rank: int = Field(3, description="0 the class teacher, 1 the child's teachers, 2 the administration, 3 others")


@router.get("/{school}/messages/recipients", response=Page[RecipientOut], summary="Whom you may write to")
def recipients(request: HttpRequest, school: str, q: Query[RecipientQuery]) -> dict[str, Any]:
    ctx = _member(request, school)
    student = get_or_404(rules.conversation_students(ctx), pk=q.student_id) if q.student_id else None
    rows = queries.recipients_for(ctx, list(rules.recipient_choices(ctx, student)), student)
    people = [{**_person(r.user), "role": r.role, "rank": r.rank} for r in rows]
    return paginate(request, people, q, RECIPIENT_SORTS)


@router.post(
    "/{school}/messages/conversations",
    response={201: ConversationDetail},
    summary="Start a conversation (multipart: recipient_ids, subject, body, student_id, files)",
)
def start_conversation(
    request: HttpRequest,
    school: str,
    body: Form[str],
    recipient_ids: Form[list[int]],
    subject: Form[str] = "",
    student_id: Form[int | None] = None,
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status:
    ctx = _member(request, school)
    student = get_or_404(rules.conversation_students(ctx), pk=student_id) if student_id else None
    conv = services.start_conversation(
        ctx, recipient_ids=recipient_ids, subject=subject, body=body, student=student, files=files or []
    )
    return Status(201, _detail(request, ctx, school, conv, None))


@router.get("/{school}/messages/conversations/{conversation_id}", response=ConversationDetail, summary="A conversation")
def get_conversation(
    request: HttpRequest, school: str, conversation_id: int, page: int | None = None
) -> dict[str, Any]:
    ctx = _member(request, school)
    conv = get_or_404(rules.conversations(ctx), pk=conversation_id)
    return _detail(request, ctx, school, conv, page)


@router.post(
    "/{school}/messages/conversations/{conversation_id}/messages",
    response={201: MessageOut},
    summary="Answer in a conversation (multipart: body, files)",
)
def post_message(
    request: HttpRequest,
    school: str,
    conversation_id: int,
    body: Form[str],
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status:
    ctx = _member(request, school)
    conv = get_or_404(rules.conversations(ctx), pk=conversation_id)
    message = services.post_message(ctx, conversation=conv, body=body, files=files or [])
    return Status(201, _message_out(school, message, []))


@router.post(
    "/{school}/messages/conversations/{conversation_id}/read",
    response={204: None},
    summary="Mark the conversation read up to its last message",
)
def mark_read(request: HttpRequest, school: str, conversation_id: int) -> Status:
    ctx = _member(request, school)
    conv = get_or_404(rules.conversations(ctx), pk=conversation_id)
    services.mark_read(ctx, conversation=conv)
    return Status(204, None)


@router.get("/{school}/messages/files/{file_id}", summary="Download a file of a message", response={200: None})
def download(request: HttpRequest, school: str, file_id: int) -> FileResponse:
    ctx = _member(request, school)
    found = get_or_404(rules.message_attachments(ctx), pk=file_id)
    return uploads.file_response(found.file, name=found.original_name, mime=found.mime_type)


class UnansweredOut(Schema):
    conversations: list[ConversationOut]
    school_count: int | None


@router.get(
    "/{school}/messages/unanswered",
    response=UnansweredOut,
    summary="Your conversations where a parent has waited longer than 3 days (R5.3)",
)
def unanswered(request: HttpRequest, school: str) -> dict[str, Any]:
    ctx = _member(request, school)
    if not rules.may_watch_unanswered(ctx):
        raise PermissionDenied
    return {
        "conversations": [
            {
                "id": c.pk,
                "subject": c.subject,
                "student_id": c.student_id,
                "participants": [],
                "last_message_at": c.last_message_at,
                "unread": False,
            }
            for c in rules.unanswered(ctx)[:200]
        ],
        "school_count": rules.school_unanswered_count(ctx) if rules.sees_school_unanswered(ctx) else None,
    }


# --- announcements --------------------------------------------------------------------------------


class AnnouncementOut(Schema):
    id: int
    audience: str
    year_level_id: int | None
    class_id: int | None
    title: str
    body: str
    event_start: dt.datetime | None
    event_end: dt.datetime | None
    place: str
    author: PersonOut
    published_at: dt.datetime
    withdrawn_at: dt.datetime | None


def _announcement_out(a: Announcement) -> dict[str, Any]:
    return {
        "id": a.pk,
        "audience": a.audience,
        "year_level_id": a.year_level_id,
        "class_id": a.school_class_id,
        "title": a.title,
        "body": a.body,
        "event_start": a.event_start,
        "event_end": a.event_end,
        "place": a.place,
        "author": _person(a.author),
        "published_at": a.published_at,
        "withdrawn_at": a.withdrawn_at,
    }


AnnouncementPage = Page[AnnouncementOut]


@router.get("/{school}/announcements", response=AnnouncementPage, summary="Announcements and events for you")
def list_announcements(request: HttpRequest, school: str, q: Query[AnnouncementQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    return paginate(request, rules.announcements(ctx), q, ANNOUNCEMENT_SORTS, _announcement_out)


@router.get("/{school}/announcements/{announcement_id}", response=AnnouncementOut, summary="One announcement")
def get_announcement(request: HttpRequest, school: str, announcement_id: int) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    return _announcement_out(get_or_404(rules.announcements(ctx), pk=announcement_id))


class AnnouncementIn(Schema):
    audience: str
    title: str
    body: str
    year_level_id: int | None = None
    class_id: int | None = None
    event_start: dt.datetime | None = None
    event_end: dt.datetime | None = None
    place: str = ""


@router.post("/{school}/announcements", response={201: AnnouncementOut}, summary="Publish an announcement or event")
def publish(request: HttpRequest, school: str, payload: AnnouncementIn) -> Status:
    ctx = _member(request, school)
    if not rules.may_publish(ctx):
        raise PermissionDenied
    level = get_or_404(directory(ctx, YearLevel), pk=payload.year_level_id) if payload.year_level_id else None
    school_class = get_or_404(rules.publishable_classes(ctx), pk=payload.class_id) if payload.class_id else None
    created = services.publish_announcement(
        ctx,
        audience=payload.audience,
        title=payload.title,
        body=payload.body,
        year_level=level,
        school_class=school_class,
        event_start=payload.event_start,
        event_end=payload.event_end,
        place=payload.place,
    )
    return Status(201, _announcement_out(created))


@router.post(
    "/{school}/announcements/{announcement_id}/withdraw", response=AnnouncementOut, summary="Withdraw an announcement"
)
def withdraw(request: HttpRequest, school: str, announcement_id: int) -> dict[str, Any]:
    ctx = _member(request, school)
    found = get_or_404(rules.announcements(ctx), pk=announcement_id)
    return _announcement_out(services.withdraw_announcement(ctx, announcement=found))


# --- the forum ------------------------------------------------------------------------------------


class TopicOut(Schema):
    id: int
    title: str
    body: str
    author: PersonOut
    created_at: dt.datetime
    open_to_parents: bool
    open_to_students: bool
    is_closed: bool


class ReplyOut(Schema):
    id: int
    author: PersonOut
    body: str | None  # None when hidden (moderators get the text)
    created_at: dt.datetime
    hidden: bool
    hidden_reason: str


class TopicDetail(TopicOut):
    replies: list[ReplyOut]


def _topic_out(t: ForumTopic) -> dict[str, Any]:
    return {
        "id": t.pk,
        "title": t.title,
        "body": t.body,
        "author": _person(t.author),
        "created_at": t.created_at,
        "open_to_parents": t.open_to_parents,
        "open_to_students": t.open_to_students,
        "is_closed": t.is_closed,
    }


def _reply_out(r: ForumReply, moderator: bool) -> dict[str, Any]:
    hidden = r.hidden_at is not None
    return {
        "id": r.pk,
        "author": _person(r.author),
        "body": r.body if (moderator or not hidden) else None,
        "created_at": r.created_at,
        "hidden": hidden,
        "hidden_reason": r.hidden_reason,
    }


@router.get("/{school}/forum/topics", response=Page[TopicOut], summary="Forum topics you take part in")
def list_topics(request: HttpRequest, school: str, q: Query[TopicQuery]) -> dict[str, Any]:
    ctx = _member(request, school)
    return paginate(request, queries.forum_topics(ctx), q, TOPIC_SORTS, _topic_out)


class TopicIn(Schema):
    title: str
    body: str
    open_to_parents: bool = True
    open_to_students: bool = False


@router.post("/{school}/forum/topics", response={201: TopicOut}, summary="Open a topic (director, deputies)")
def open_topic(request: HttpRequest, school: str, payload: TopicIn) -> Status:
    ctx = _member(request, school)
    return Status(201, _topic_out(services.open_topic(ctx, **payload.dict())))


@router.get("/{school}/forum/topics/{topic_id}", response=TopicDetail, summary="A topic with its replies")
def get_topic(request: HttpRequest, school: str, topic_id: int) -> dict[str, Any]:
    ctx = _member(request, school)
    topic = get_or_404(rules.forum_topics(ctx), pk=topic_id)
    moderator = rules.may_moderate(ctx)
    return {**_topic_out(topic), "replies": [_reply_out(r, moderator) for r in queries.forum_topic_page(ctx, topic)]}


class ReplyIn(Schema):
    body: str


@router.post("/{school}/forum/topics/{topic_id}/replies", response={201: ReplyOut}, summary="Reply in a topic")
def reply(request: HttpRequest, school: str, topic_id: int, payload: ReplyIn) -> Status:
    ctx = _member(request, school)
    topic = get_or_404(rules.forum_topics(ctx), pk=topic_id)
    return Status(201, _reply_out(services.post_reply(ctx, topic=topic, body=payload.body), False))


class HideIn(Schema):
    reason: str = ""


@router.post("/{school}/forum/replies/{reply_id}/hide", response=ReplyOut, summary="Hide a reply (moderators)")
def hide(request: HttpRequest, school: str, reply_id: int, payload: HideIn) -> dict[str, Any]:
    ctx = _member(request, school)
    found = get_or_404(rules.forum_replies(ctx), pk=reply_id)
    return _reply_out(services.hide_reply(ctx, reply=found, reason=payload.reason), True)
