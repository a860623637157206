"""Read models of messaging for pages and the API: a constant number of queries whatever the size."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.utils.translation import pgettext

from classbook.access import messaging as rules
from classbook.access.context import SchoolContext, current_memberships
from classbook.core.collation import by_name, name_order
from classbook.messaging.models import Conversation, ForumReply, ForumTopic, Message, Participant
from classbook.people.models import Role
from classbook.schools.models import SchoolClass, TeachingAssignment

INBOX_PAGE = 25
MESSAGES_PAGE = 50


@dataclass
class InboxRow:
    conversation: Conversation
    unread: bool
    others: list[Any]


def inbox_participations(ctx: SchoolContext) -> QuerySet[Participant]:
    """The user's conversations (their participations), newest activity first."""
    return (
        rules.participations(ctx)
        .select_related("conversation__student__user", "conversation__last_message__sender")
        .order_by("-latest_message_at", "-conversation_id")
    )


def inbox_rows(ctx: SchoolContext, rows: list[Participant]) -> list[InboxRow]:
    """A page of participations with the other participants and the unread flag (one query)."""
    ids = [p.conversation_id for p in rows]
    others: dict[int, list[Any]] = {}
    for p in Participant.objects.filter(conversation_id__in=ids).exclude(user=ctx.user).select_related("user"):
        others.setdefault(p.conversation_id, []).append(p.user)
    return [
        InboxRow(
            conversation=p.conversation,
            unread=p.latest_message_id > p.last_read_id,
            others=by_name(others.get(p.conversation_id, [])),
        )
        for p in rows
    ]


def inbox(ctx: SchoolContext, page: Any = 1) -> tuple[Page, list[InboxRow]]:
    """The user's conversations, newest activity first: count, page, participants (3 queries)."""
    paginator = Paginator(inbox_participations(ctx), INBOX_PAGE)
    page_obj = paginator.get_page(page)
    return page_obj, inbox_rows(ctx, list(page_obj.object_list))


@dataclass
class MessageRow:
    message: Message
    mine: bool
    read_by: list[Any] = field(default_factory=list)  # for the sender: who has read it


def conversation_detail(ctx: SchoolContext, conversation: Conversation, page: Any = None) -> dict[str, Any]:
    """One conversation: participants and a page of messages (the last page by default) with files (4 queries)."""
    participants = list(
        Participant.objects.filter(conversation=conversation).select_related("user").order_by(*name_order("user__"))
    )
    qs = (
        Message.objects.filter(conversation=conversation)
        .select_related("sender")
        .prefetch_related("attachments")
        .order_by("id")
    )
    paginator = Paginator(qs, MESSAGES_PAGE)
    page_obj = paginator.get_page(page if page is not None else paginator.num_pages)
    others = [p for p in participants if p.user_id != ctx.user.pk]
    rows = []
    for m in page_obj.object_list:
        mine = m.sender_id == ctx.user.pk
        rows.append(
            MessageRow(message=m, mine=mine, read_by=[p.user for p in others if p.last_read_id >= m.pk] if mine else [])
        )
    return {"participants": participants, "page": page_obj, "rows": rows}


def forum_topic_page(ctx: SchoolContext, topic: ForumTopic) -> list[ForumReply]:
    return list(rules.forum_replies(ctx).filter(topic=topic).order_by("id"))


def forum_topics(ctx: SchoolContext) -> QuerySet[ForumTopic]:
    """Topics with their count of visible replies, newest first."""
    return (
        rules.forum_topics(ctx)
        .annotate(reply_count=Count("replies", filter=Q(replies__hidden_at__isnull=True)))
        .order_by("-created_at", "-id")
    )


def forum_index(ctx: SchoolContext, page: Any = 1) -> Page:
    """Topics with their count of visible replies, newest first (2 queries)."""
    return Paginator(forum_topics(ctx), INBOX_PAGE).get_page(page)


def announcement_list(ctx: SchoolContext, page: Any = 1) -> Page:
    """Announcements and events for the user, newest first (2 queries)."""
    return Paginator(rules.announcements(ctx).order_by("-published_at", "-id"), INBOX_PAGE).get_page(page)


@dataclass
class Recipient:
    user: Any
    role: str  # for this child: "class teacher", "teacher of Mathematics", "Director", ... ("" when about nobody)
    rank: int  # 0 the class teacher, 1 the child's teachers, 2 the administration, 3 anybody else


def recipients_for(ctx: SchoolContext, users: list[Any], student: Any | None) -> list[Recipient]:
    """The people one may write to, each with their role for ``student``: the class teacher first, then the
    teachers of the child's subjects (by name), then the administration — 3 queries, whatever the number.

    A teacher of a subgroup the child is not in is not the child's teacher (English group 2).
    """
    if student is None:
        return [Recipient(u, "", 3) for u in users]
    classes = SchoolClass.objects.filter(school=ctx.school, enrolments__student=student, enrolments__end__isnull=True)
    class_teachers = set(classes.exclude(class_teacher=None).values_list("class_teacher_id", flat=True))
    subjects: dict[int, list[str]] = {}
    taught = (
        TeachingAssignment.objects.filter(school=ctx.school, school_class__in=classes.values("id"))
        .filter(Q(subgroup=None) | Q(subgroup__students=student))
        .values_list("teacher_id", "subject__name")
        .order_by("subject__name")
        .distinct()
    )
    for teacher_id, subject in taught:
        subjects.setdefault(teacher_id, []).append(subject)
    roles = dict(
        current_memberships()
        .filter(school=ctx.school, role__in=sorted(rules.ADMINISTRATION_ROLES), user_id__in=[u.pk for u in users])
        .values_list("user_id", "role")
    )
    labels = dict(Role.choices)
    out = []
    for user in users:
        parts, rank = [], 3
        if user.pk in class_teachers:
            parts.append(pgettext("recipient", "class teacher"))
            rank = 0
        if user.pk in subjects:
            parts.append(pgettext("recipient", "teacher of %(subjects)s") % {"subjects": ", ".join(subjects[user.pk])})
            rank = min(rank, 1)
        if user.pk in roles:
            parts.append(str(labels[roles[user.pk]]))
            rank = min(rank, 2)
        out.append(Recipient(user, "; ".join(parts), rank))
    return sorted(out, key=lambda r: r.rank)  # stable: by name within a rank, as the users came
