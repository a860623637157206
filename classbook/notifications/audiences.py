"""Who is told about the events of messaging and appeals (R5.3, R5.4, R2.11): one query per event.

The rules follow who may *see* the thing (``classbook/access/messaging.py``, ``classbook/appeals``), never
wider: a role must be current in the event's school, a guardian's link current and "may see". Each
function returns user ids; ``services.notify`` further drops inactive accounts.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from classbook.access.context import current_memberships
from classbook.appeals.models import AbsenceReport, MarkFlag
from classbook.messaging.models import Announcement, Audience, ForumReply, Message, Participant, ParticipantKind
from classbook.notifications.services import student_recipients
from classbook.people.models import STAFF_ROLES, GuardianLink, Role, Student, User, current_enrolment_q
from classbook.schools.models import SchoolClass


def _members(school_id: int, roles: set[str] | frozenset[str]) -> QuerySet:
    return current_memberships().filter(school_id=school_id, role__in=list(roles)).values("user_id")


def _may_see_links(school_id: int) -> QuerySet[GuardianLink]:
    today = timezone.localdate()
    return GuardianLink.objects.filter(school_id=school_id, may_see=True).exclude(ended_on__lte=today)


def message_recipients(message: Message) -> list[int]:
    """Participants of the conversation who still see it, except the sender (one query).

    Staff: a current staff role. A parent: a current parent role and a current "may see" link to the
    conversation's student. A student: a current student role, and the conversation is about them.
    """
    school_id = message.school_id
    student_id = message.conversation.student_id
    visible = Q(kind=ParticipantKind.STAFF, user_id__in=_members(school_id, STAFF_ROLES))
    if student_id is not None:
        visible |= Q(
            kind=ParticipantKind.GUARDIAN,
            user_id__in=_may_see_links(school_id).filter(student_id=student_id).values("guardian_id"),
        ) & Q(user_id__in=_members(school_id, {Role.PARENT}))
        visible |= Q(
            kind=ParticipantKind.STUDENT,
            user_id__in=Student.objects.filter(school_id=school_id, pk=student_id).values("user_id"),
        ) & Q(user_id__in=_members(school_id, {Role.STUDENT}))
    return list(
        Participant.objects.filter(school_id=school_id, conversation_id=message.conversation_id)
        .filter(visible)
        .exclude(user_id=message.sender_id)
        .values_list("user_id", flat=True)
    )


def _current_students(school_id: int, announcement: Announcement | None = None) -> QuerySet[Student]:
    """Students now in the school (not left, a current enrolment), of the announcement's class or year level."""
    today = timezone.localdate()
    # The school's current year's classes (``current_enrolment_q``); a class's announcement reaches that class.
    enrolled = current_enrolment_q(school_id, "enrolments__")
    if announcement is not None and announcement.audience == Audience.CLASS:
        enrolled = Q(enrolments__end__isnull=True, enrolments__school_class_id=announcement.school_class_id)
    elif announcement is not None and announcement.audience == Audience.YEAR_LEVEL:
        enrolled &= Q(
            enrolments__school_class_id__in=SchoolClass.objects.filter(
                school_id=school_id, year_level_id=announcement.year_level_id
            ).values("id")
        )
    return Student.objects.filter(enrolled, school_id=school_id).exclude(left_on__lte=today)


def announcement_audience(announcement: Announcement) -> list[int]:
    """The announcement's audience, except its author (one ``UNION`` query, whatever the size of the school).

    - school: the current staff, the current students, and the parents (a current parent role) with a
      current "may see" link to a current student;
    - year level / class: the current students of those classes and such parents of them;
    - staff: the current staff only — never a parent or a student.

    A union of three plain indexed lookups (16 ms for 2,480 people on PostgreSQL,
    ``bench/notifications_announcement.py``). Inactive accounts are dropped by ``notify``.
    """
    school_id = announcement.school_id
    parts: list[QuerySet] = []
    if announcement.audience in (Audience.SCHOOL, Audience.STAFF):
        parts.append(_members(school_id, STAFF_ROLES).values_list("user_id").order_by())
    if announcement.audience != Audience.STAFF:
        students = _current_students(school_id, announcement)
        parts.append(students.filter(user_id__in=_members(school_id, {Role.STUDENT})).values_list("user_id").order_by())
        parts.append(
            _may_see_links(school_id)
            .filter(student_id__in=students.values("pk"), guardian_id__in=_members(school_id, {Role.PARENT}))
            .values_list("guardian_id")
            .order_by()
        )
    found = {uid for (uid,) in parts[0].union(*parts[1:])}
    found.discard(announcement.author_id)
    return sorted(found)


def forum_reply_recipients(reply: ForumReply) -> list[int]:
    """The topic's author and the authors of earlier visible replies, except this reply's author (one query).

    Only those who still take part in the topic (``access.messaging.forum_topics``): staff with a
    current role; parents (a current parent role and a "may see" link) if the topic is open to parents;
    students if it is open to students. Authors whose replies were all hidden by a moderator are not told.
    """
    topic = reply.topic
    school_id = reply.school_id
    takes_part = Q(pk__in=_members(school_id, STAFF_ROLES))
    if topic.open_to_parents:
        takes_part |= Q(pk__in=_members(school_id, {Role.PARENT})) & Q(
            pk__in=_may_see_links(school_id).values("guardian_id")
        )
    if topic.open_to_students:
        takes_part |= Q(pk__in=_members(school_id, {Role.STUDENT})) & Q(
            pk__in=Student.objects.filter(school_id=school_id).values("user_id")
        )
    earlier = ForumReply.objects.filter(topic_id=topic.pk, pk__lt=reply.pk, hidden_at__isnull=True)
    in_topic = Q(pk=topic.author_id) | Q(pk__in=earlier.values("author_id"))
    return list(
        User.objects.filter(in_topic, takes_part, is_active=True)
        .exclude(pk=reply.author_id)
        .values_list("pk", flat=True)
    )


def report_class_teachers(report: AbsenceReport) -> list[int]:
    """The class teachers of the student's classes during the report's days, who hold a staff role now —
    those who decide on it (``appeals.services._homeroom_enrolments``)."""
    classes = SchoolClass.objects.filter(
        Q(enrolments__end__isnull=True) | Q(enrolments__end__gte=report.start),
        school_id=report.school_id,
        enrolments__student_id=report.student_id,
        enrolments__start__lte=report.end,
        class_teacher__isnull=False,
    )
    return list(
        User.objects.filter(pk__in=classes.values("class_teacher_id"), is_active=True)
        .filter(pk__in=_members(report.school_id, STAFF_ROLES))
        .exclude(pk=report.reported_by_id)
        .values_list("pk", flat=True)
    )


def flag_teachers(flag: MarkFlag) -> list[int]:
    """The teacher of the flagged mark's journal (the teaching assignment), while they hold a staff role."""
    return list(
        User.objects.filter(pk=flag.assignment.teacher_id, is_active=True)
        .filter(pk__in=_members(flag.school_id, STAFF_ROLES))
        .exclude(pk=flag.flagged_by_id)
        .values_list("pk", flat=True)
    )


def family_among(school_id: int, student_id: int, user_ids: set[int]) -> list[int]:
    """Those of ``user_ids`` who are the student or a guardian who may still see the child (two queries)."""
    allowed = student_recipients(school_id, [student_id]).get(student_id, [])
    return [uid for uid in allowed if uid in user_ids]
