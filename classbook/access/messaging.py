"""Who may talk to whom, and who sees which conversation, announcement and forum topic (R5.3, R5.4, R1.3).

The contact rule is one function, ``recipient_choices(ctx, student)``: the people the user may start a
conversation with, about ``student`` (or about nobody). The table it implements (docs/messaging.md):

- any staff member, about nobody: the current staff of the school;
- director or deputy, about any student: staff, the student, the student's guardians;
- a teacher, about a student of a class they teach or class-teach: staff, the student, the guardians;
- other staff (secretary, administrator), about a student: staff only;
- a parent, about a linked child (current link, "may see"): the child's teachers and class teacher,
  the director and the deputies;
- a student, about themselves: their teachers and class teacher, the director and the deputies;
- anyone else, and authority viewers: nobody.

(A student's guardians: a current "may see" link and a current parent role.)

Nobody writes across schools: every recipient holds a current role in ``ctx.school``. Parents never
write to other parents or to students; students never write to parents or other students.

Replies follow the conversation: a participant may answer while they still see it. A parent sees a
conversation about a child only while their link to that child is current and "may see"; a student only
their own; staff their conversations while they hold a staff role.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from classbook.access.context import SchoolContext, current_memberships
from classbook.access.rules import Perm
from classbook.core.collation import name_order
from classbook.messaging.models import (
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
from classbook.people.models import STAFF_ROLES, GuardianLink, Role, Student, User, current_enrolment_q
from classbook.schools.models import SchoolClass, TeachingAssignment

ADMINISTRATION_ROLES = frozenset({Role.DIRECTOR, Role.DEPUTY})
ANSWER_WITHIN = dt.timedelta(days=3)  # R5.3: class teachers answer parents within 3 days


# --- contact rules --------------------------------------------------------------------------------


def _role_user_ids(ctx: SchoolContext, roles: frozenset[str] | set[str]) -> QuerySet:
    return current_memberships().filter(school=ctx.school, role__in=list(roles)).values("user_id")


def _current_class_ids(ctx: SchoolContext, student_id: int) -> QuerySet:
    return SchoolClass.objects.filter(
        Q(enrolments__student_id=student_id) & current_enrolment_q(ctx.school.pk, "enrolments__"), school=ctx.school
    ).values("id")


def may_use_messaging(ctx: SchoolContext) -> bool:
    """Conversations, the forum and the unread badge are for the school's own people (page, API, service):
    a read-only authority viewer has none."""
    return not ctx.is_read_only


def may_watch_unanswered(ctx: SchoolContext) -> bool:
    """The list of one's conversations where a parent waits for an answer (R5.3): staff, page and API."""
    return ctx.is_staff_member


def writes_about_nobody(ctx: SchoolContext) -> bool:
    """Staff may start a conversation about no child; a parent or student always writes about one."""
    return ctx.is_staff_member


def starter_kind(ctx: SchoolContext, student: Student | None) -> str | None:
    """In which capacity the user writes: staff, a parent of ``student``, ``student`` themselves, or not at all."""
    if ctx.is_read_only:
        return None
    if ctx.is_staff_member:
        return ParticipantKind.STAFF
    if student is not None and student.pk in ctx.child_student_ids:
        return ParticipantKind.GUARDIAN
    if student is not None and student.pk == ctx.own_student_id:
        return ParticipantKind.STUDENT
    return None


def reaches_family(ctx: SchoolContext, student: Student) -> bool:
    """May this staff member write to ``student`` and their parents? Administration: any; teachers: their classes."""
    if ctx.roles & ADMINISTRATION_ROLES:
        return True
    class_ids = ctx.homeroom_class_ids | ctx.taught_class_ids
    current = current_enrolment_q(ctx.school.pk)
    return bool(class_ids) and student.enrolments.filter(current, school_class_id__in=class_ids).exists()


def guardian_ids(ctx: SchoolContext, student: Student) -> QuerySet:
    """Parents of ``student`` who may be written to: current "may see" link and a current parent role."""
    today = timezone.localdate()
    return (
        GuardianLink.objects.filter(school=ctx.school, student=student, may_see=True)
        .exclude(ended_on__lte=today)
        .filter(guardian_id__in=_role_user_ids(ctx, {Role.PARENT}))
        .values("guardian_id")
    )


def recipient_choices(ctx: SchoolContext, student: Student | None = None) -> QuerySet[User]:
    """Everybody the user may start a conversation with, about ``student`` (None: about nobody). See the table above."""
    kind = starter_kind(ctx, student)
    if kind is None or (student is not None and student.school_id != ctx.school.pk):
        return User.objects.none()
    staff_ids = _role_user_ids(ctx, STAFF_ROLES)
    if kind == ParticipantKind.STAFF:
        cond = Q(pk__in=staff_ids)
        if student is not None and reaches_family(ctx, student) and not student.has_left:
            cond |= Q(pk=student.user_id, pk__in=_role_user_ids(ctx, {Role.STUDENT}))
            cond |= Q(pk__in=guardian_ids(ctx, student))
    else:
        assert student is not None
        class_ids = _current_class_ids(ctx, student.pk)
        teachers = TeachingAssignment.objects.filter(school=ctx.school, school_class_id__in=class_ids).values(
            "teacher_id"
        )
        class_teachers = SchoolClass.objects.filter(pk__in=class_ids, class_teacher__isnull=False).values(
            "class_teacher_id"
        )
        cond = Q(pk__in=staff_ids) & (
            Q(pk__in=teachers) | Q(pk__in=class_teachers) | Q(pk__in=_role_user_ids(ctx, ADMINISTRATION_ROLES))
        )
    return User.objects.filter(cond, is_active=True).exclude(pk=ctx.user.pk).order_by(*name_order())


def may_write_to(ctx: SchoolContext, recipient: User, student: Student | None = None) -> bool:
    return recipient_choices(ctx, student).filter(pk=recipient.pk).exists()


def conversation_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students a conversation may be about, for the user: their children, themselves, or (staff) those they see."""
    qs = Student.objects.filter(school=ctx.school).select_related("user")
    if ctx.is_read_only:
        return qs.none()
    if ctx.is_staff_member:
        if ctx.roles & ADMINISTRATION_ROLES:
            return qs
        class_ids = ctx.homeroom_class_ids | ctx.taught_class_ids
        return qs.filter(
            pk__in=Student.objects.filter(
                Q(enrolments__school_class_id__in=class_ids) & current_enrolment_q(ctx.school.pk, "enrolments__"),
                school=ctx.school,
            ).values("id")
        )
    ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        ids.add(ctx.own_student_id)
    return qs.filter(pk__in=ids)


# --- conversations --------------------------------------------------------------------------------


def _visible_participation(ctx: SchoolContext) -> Q:
    cond = Q(pk__in=[])
    if ctx.is_staff_member:
        cond |= Q(kind=ParticipantKind.STAFF)
    if ctx.child_student_ids:
        cond |= Q(kind=ParticipantKind.GUARDIAN, conversation__student_id__in=ctx.child_student_ids)
    if ctx.own_student_id:
        cond |= Q(kind=ParticipantKind.STUDENT, conversation__student_id=ctx.own_student_id)
    return cond


def participations(ctx: SchoolContext) -> QuerySet[Participant]:
    """The user's own places in conversations they may still see (the inbox, the unread counter)."""
    if ctx.is_read_only:
        return Participant.objects.none()
    return Participant.objects.filter(school=ctx.school, user=ctx.user).filter(_visible_participation(ctx))


def conversations(ctx: SchoolContext) -> QuerySet[Conversation]:
    """Conversations the user takes part in and may still see; anything else is 404."""
    return Conversation.objects.filter(
        school=ctx.school, pk__in=participations(ctx).values("conversation_id")
    ).select_related("student__user")


def messages(ctx: SchoolContext) -> QuerySet[Message]:
    return Message.objects.filter(school=ctx.school, conversation__in=conversations(ctx)).select_related("sender")


def message_attachments(ctx: SchoolContext) -> QuerySet[MessageAttachment]:
    return MessageAttachment.objects.filter(school=ctx.school, message__conversation__in=conversations(ctx))


def unread_count(ctx: SchoolContext) -> int:
    """Conversations with a message the user has not read: one indexed query (the navigation shows it)."""
    return participations(ctx).filter(latest_message_id__gt=F("last_read_id")).count()


def unanswered(ctx: SchoolContext, now: dt.datetime | None = None) -> QuerySet[Conversation]:
    """The user's conversations where a parent has waited for a staff answer longer than 3 days (R5.3)."""
    if not ctx.is_staff_member:
        return Conversation.objects.none()
    limit = (now or timezone.now()) - ANSWER_WITHIN
    staff_in = Participant.objects.filter(school=ctx.school, user=ctx.user, kind=ParticipantKind.STAFF)
    return (
        Conversation.objects.filter(
            school=ctx.school, awaiting_reply_since__lt=limit, pk__in=staff_in.values("conversation_id")
        )
        .select_related("student__user", "last_message__sender")
        .order_by("awaiting_reply_since")
    )


def sees_school_unanswered(ctx: SchoolContext) -> bool:
    """Directors and deputies watch the school-wide count of unanswered parent messages."""
    return bool(ctx.roles & (ADMINISTRATION_ROLES | {Role.ADMIN}))


def school_unanswered_count(ctx: SchoolContext, now: dt.datetime | None = None) -> int:
    if not sees_school_unanswered(ctx):
        return 0
    limit = (now or timezone.now()) - ANSWER_WITHIN
    return Conversation.objects.filter(school=ctx.school, awaiting_reply_since__lt=limit).count()


# --- announcements and events ---------------------------------------------------------------------


def may_publish_any(ctx: SchoolContext) -> bool:
    return ctx.has(Perm.PUBLISH_ANNOUNCEMENTS) and not ctx.is_read_only


def may_publish(ctx: SchoolContext) -> bool:
    """Director and deputies publish for the school, a year level, a class or the staff;
    class teachers for their own class."""
    return may_publish_any(ctx) or (bool(ctx.homeroom_class_ids) and not ctx.is_read_only)


def publishable_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year")
    if may_publish_any(ctx):
        return qs.filter(year__is_current=True)
    if ctx.is_read_only:
        return qs.none()
    return qs.filter(pk__in=ctx.homeroom_class_ids)


def announcements(ctx: SchoolContext) -> QuerySet[Announcement]:
    """Announcements the user is in the audience of. Staff-only never reaches parents or students;
    a parent gets the school's, their children's year levels' and classes' (current "may see" links)."""
    qs = Announcement.objects.filter(school=ctx.school).select_related(
        "author", "year_level", "school_class", "withdrawn_by"
    )
    if not may_publish_any(ctx):
        qs = qs.filter(withdrawn_at__isnull=True)
    if ctx.is_staff_member:
        return qs
    student_ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        student_ids.add(ctx.own_student_id)
    cond = Q(audience=Audience.SCHOOL)
    if student_ids:
        classes = SchoolClass.objects.filter(
            Q(enrolments__student_id__in=student_ids) & current_enrolment_q(ctx.school.pk, "enrolments__"),
            school=ctx.school,
        )
        cond |= Q(audience=Audience.CLASS, school_class_id__in=classes.values("id"))
        cond |= Q(audience=Audience.YEAR_LEVEL, year_level_id__in=classes.values("year_level_id"))
    return qs.filter(cond)


def may_withdraw(ctx: SchoolContext, announcement: Announcement) -> bool:
    if ctx.is_read_only:
        return False
    return may_publish_any(ctx) or announcement.author_id == ctx.user.pk


# --- the school forum -----------------------------------------------------------------------------


def forum_topics(ctx: SchoolContext) -> QuerySet[ForumTopic]:
    """Topics the user takes part in: staff all; parents the topics open to parents; students those open to students."""
    qs = ForumTopic.objects.filter(school=ctx.school).select_related("author")
    if ctx.is_read_only:
        return qs.none()
    if ctx.is_staff_member:
        return qs
    cond = Q(pk__in=[])
    if Role.PARENT in ctx.roles and ctx.child_student_ids:
        cond |= Q(open_to_parents=True)
    if ctx.own_student_id:
        cond |= Q(open_to_students=True)
    return qs.filter(cond)


def forum_replies(ctx: SchoolContext) -> QuerySet[ForumReply]:
    return ForumReply.objects.filter(school=ctx.school, topic__in=forum_topics(ctx)).select_related(
        "author", "hidden_by"
    )


def may_open_topic(ctx: SchoolContext) -> bool:
    return ctx.has(Perm.MODERATE_FORUM) and not ctx.is_read_only


def may_moderate(ctx: SchoolContext) -> bool:
    return ctx.has(Perm.MODERATE_FORUM) and not ctx.is_read_only


def may_reply(ctx: SchoolContext, topic: ForumTopic) -> bool:
    """Whoever takes part in the topic replies while it is open (the topic came from ``forum_topics``)."""
    return not ctx.is_read_only and not topic.is_closed and forum_topics(ctx).filter(pk=topic.pk).exists()
