"""Turn the journal's, the timetable's, messaging's and appeals' events into notifications (run by the
worker, not the request).

The journal and the timetable send ``journal_changed`` / ``lesson_changed`` after commit with plain
ids; ``receivers.py`` enqueues one task per transaction, and that task calls these functions, which
read what the words need and call ``notify_students``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from classbook.appeals.models import AbsenceReport, MarkFlag, ReportStatus
from classbook.journal.models import ChangeKind, Lesson
from classbook.messaging.models import Announcement, ForumReply, Message
from classbook.notifications import audiences
from classbook.notifications.models import Kind
from classbook.notifications.services import notify, notify_account, notify_students, send_account_email
from classbook.people.models import AuthorityViewer, Enrolment, Membership, Student, User
from classbook.schools.models import StudyPeriod, TeachingAssignment
from classbook.timetable.models import LessonChange

# Journal change kind -> notification kind; a cleared value (new == "") tells nobody.
JOURNAL_KINDS = {
    ChangeKind.MARK: Kind.MARK,
    ChangeKind.ATTENDANCE: Kind.ABSENCE,
    ChangeKind.HOMEWORK: Kind.HOMEWORK,
    ChangeKind.PERIOD_GRADE: Kind.PERIOD_GRADE,
    ChangeKind.CORRECTION: Kind.PERIOD_GRADE,
}


def _day(value: Any) -> str:
    return date_format(value, "d.m.Y") if value else ""


def lesson_students(lesson: Lesson) -> list[int]:
    """Students of the lesson's class (or subgroup) on the lesson's day."""
    assignment = lesson.assignment
    rows = Enrolment.objects.filter(
        school_id=lesson.school_id, school_class_id=assignment.school_class_id, start__lte=lesson.date
    ).filter(Q(end__isnull=True) | Q(end__gte=lesson.date))
    if assignment.subgroup_id:
        rows = rows.filter(student__subgroups__pk=assignment.subgroup_id)
    return list(rows.values_list("student_id", flat=True).distinct())


def _names(student_ids: set[int]) -> dict[int, str]:
    return {s.pk: s.user.full_name for s in Student.objects.filter(pk__in=student_ids).select_related("user")}


def from_journal(items: list[dict[str, Any]]) -> int:
    """Notify about marks, absences, homework and period marks. Returns the number of events handled."""
    wanted = [i for i in items if i.get("kind") in JOURNAL_KINDS and i.get("new")]
    if not wanted:
        return 0
    lessons = {
        lesson.pk: lesson
        for lesson in Lesson.objects.filter(
            pk__in={i["lesson_id"] for i in wanted if i.get("lesson_id")}
        ).select_related("assignment__subject")
    }
    assignments = {
        a.pk: a
        for a in TeachingAssignment.objects.filter(pk__in={i["assignment_id"] for i in wanted}).select_related(
            "subject"
        )
    }
    periods = {
        p.pk: p for p in StudyPeriod.objects.filter(pk__in={i["period_id"] for i in wanted if i.get("period_id")})
    }
    homework_students = {
        i["lesson_id"]: lesson_students(lessons[i["lesson_id"]])
        for i in wanted
        if i["kind"] == ChangeKind.HOMEWORK and i.get("lesson_id") in lessons
    }
    names = _names(
        {i["student_id"] for i in wanted if i.get("student_id")}
        | {s for ids in homework_students.values() for s in ids}
    )
    handled = 0
    for item in wanted:
        kind = JOURNAL_KINDS[item["kind"]]
        assignment = assignments.get(item["assignment_id"])
        if assignment is None:
            continue
        lesson = lessons.get(item.get("lesson_id") or 0)
        common = {
            "subject": assignment.subject.name,
            "value": item["new"],
            "date": _day(lesson.date if lesson else None),
        }
        if kind == Kind.HOMEWORK:
            if lesson is None:
                continue
            students = homework_students.get(lesson.pk, [])
            digest = hashlib.sha256(item["new"].encode()).hexdigest()[:16]
            key = f"homework:{lesson.pk}:{digest}"
            text = item["new"] if len(item["new"]) <= 200 else item["new"][:197] + "…"
            common |= {"text": text}
        else:
            students = [item["student_id"]] if item.get("student_id") else []
            key = f"{kind}:{item.get('object_id')}:{item.get('old', '')}>{item['new']}"
            if kind == Kind.PERIOD_GRADE:
                period = periods.get(item.get("period_id") or 0)
                common |= {"period": period.name if period else ""}
        notify_students(
            school=item["school_id"],
            kind=kind,
            student_ids=students,
            params_per_student={s: common | {"student": names.get(s, "")} for s in students},
            event_key=key,
        )
        handled += 1
    return handled


def from_timetable(items: list[dict[str, Any]]) -> int:
    """Notify the class (students and parents) of a substituted, cancelled, merged or moved lesson."""
    changes = {
        c.pk: c
        for c in LessonChange.objects.filter(pk__in={i["change_id"] for i in items}).select_related(
            "lesson__assignment__subject"
        )
    }
    handled = 0
    for item in items:
        change = changes.get(item["change_id"])
        if change is None:
            continue
        lesson = change.lesson
        students = lesson_students(Lesson(school_id=lesson.school_id, assignment=lesson.assignment, date=change.date))
        names = _names(set(students))
        common = {
            "subject": lesson.assignment.subject.name,
            "date": _day(change.date),
            "number": change.number if change.number is not None else "",
            "change": change.kind,
            "new_date": _day(change.new_date),
        }
        notify_students(
            school=item["school_id"],
            kind=Kind.TIMETABLE,
            student_ids=students,
            params_per_student={s: common | {"student": names.get(s, "")} for s in students},
            event_key=f"lesson-change:{change.pk}",
        )
        handled += 1
    return handled


# --- Messaging and appeals (the items are {"event": ..., "id": ...}) -------------------------------

TEXT_MAX = 200


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_MAX else text[: TEXT_MAX - 1] + "…"


def _message(pk: int) -> int:
    message = Message.objects.filter(pk=pk).select_related("conversation", "sender", "school").first()
    if message is None:
        return 0
    conversation = message.conversation
    notify(
        school=message.school_id,
        kind=Kind.MESSAGE,
        user_ids=audiences.message_recipients(message),
        params={
            "title": conversation.subject,
            "sender": message.sender.full_name,
            "text": _excerpt(message.body),
        },
        event_key=f"message:{message.pk}",
        url=reverse("messaging:conversation", args=[message.school.slug, conversation.pk]),
    )
    return 1


def _announcement(pk: int) -> int:
    announcement = Announcement.objects.filter(pk=pk, withdrawn_at__isnull=True).select_related("school").first()
    if announcement is None:  # withdrawn before the worker came to it
        return 0
    notify(
        school=announcement.school_id,
        kind=Kind.ANNOUNCEMENT,
        user_ids=audiences.announcement_audience(announcement),
        params={"title": announcement.title, "text": _excerpt(announcement.body)},
        event_key=f"announcement:{announcement.pk}",
        url=reverse("messaging:announcement", args=[announcement.school.slug, announcement.pk]),
    )
    return 1


def _forum_reply(pk: int) -> int:
    reply = ForumReply.objects.filter(pk=pk, hidden_at__isnull=True).select_related("topic", "author", "school").first()
    if reply is None:  # hidden before the worker came to it
        return 0
    notify(
        school=reply.school_id,
        kind=Kind.FORUM,
        user_ids=audiences.forum_reply_recipients(reply),
        params={"title": reply.topic.title, "sender": reply.author.full_name, "text": _excerpt(reply.body)},
        event_key=f"forum-reply:{reply.pk}",
        url=reverse("messaging:topic", args=[reply.school.slug, reply.topic_id]),
    )
    return 1


def _absence_report(pk: int, event: str) -> int:
    report = (
        AbsenceReport.objects.filter(pk=pk)
        .select_related("school", "student__user", "reported_by", "decided_by")
        .first()
    )
    if report is None:
        return 0
    params = {
        "event": event if event == "submitted" else report.status,
        "student": report.student.user.full_name,
        "start": _day(report.start),
        "end": _day(report.end),
        "text": _excerpt(report.text),
        "reporter": report.reported_by.full_name,
    }
    if event == "submitted":
        user_ids = audiences.report_class_teachers(report)
    else:
        if report.status == ReportStatus.PENDING:
            return 0
        params |= {
            "teacher": report.decided_by.full_name if report.decided_by else "",
            "comment": _excerpt(report.decision_comment),
        }
        user_ids = audiences.family_among(
            report.school_id, report.student_id, {report.reported_by_id, report.student.user_id}
        )
        user_ids = [uid for uid in user_ids if uid != report.decided_by_id]
    notify(
        school=report.school_id,
        kind=Kind.ABSENCE_REPORT,
        user_ids=user_ids,
        params=params,
        event_key=f"absence-report:{report.pk}:{params['event']}",
        url=reverse("appeals:reports", args=[report.school.slug]),
    )
    return 1


def _mark_flag(pk: int, event: str) -> int:
    flag = (
        MarkFlag.objects.filter(pk=pk)
        .select_related("school", "student__user", "flagged_by", "answered_by", "assignment__subject", "mark__lesson")
        .first()
    )
    if flag is None:
        return 0
    params = {
        "event": event if event == "submitted" else flag.status,
        "student": flag.student.user.full_name,
        "subject": flag.assignment.subject.name,
        "date": _day(flag.mark.lesson.date),
        "value": flag.value_when_flagged,
        "comment": _excerpt(flag.comment),
        "by": flag.flagged_by.full_name,
    }
    if event == "submitted":
        user_ids = audiences.flag_teachers(flag)
    else:
        if not flag.answered_at:
            return 0
        params |= {
            "teacher": flag.answered_by.full_name if flag.answered_by else "",
            "answer": _excerpt(flag.answer),
            "new_value": flag.new_value,
        }
        user_ids = audiences.family_among(flag.school_id, flag.student_id, {flag.flagged_by_id})
    notify(
        school=flag.school_id,
        kind=Kind.MARK_FLAG,
        user_ids=user_ids,
        params=params,
        event_key=f"mark-flag:{flag.pk}:{params['event']}",
        url=reverse("appeals:flags", args=[flag.school.slug]),
    )
    return 1


def from_messaging(items: list[dict[str, Any]]) -> int:
    """Notify about new messages, announcements and forum replies. Returns the number of events handled."""
    handlers = {"message": _message, "announcement": _announcement, "forum_reply": _forum_reply}
    return sum(handlers[i["event"]](i["id"]) for i in items if i.get("event") in handlers)


def from_appeals(items: list[dict[str, Any]]) -> int:
    """Notify about submitted and decided absence reports, flagged and answered marks."""
    handled = 0
    for item in items:
        what, _sep, event = str(item.get("event", "")).partition(":")
        if what == "absence_report" and event in ("submitted", "decided"):
            handled += _absence_report(item["id"], event)
        elif what == "mark_flag" and event in ("submitted", "answered"):
            handled += _mark_flag(item["id"], event)
    return handled


# --- The person's own account (issue 9) ------------------------------------------------------------------


def _home_school(user_id: int) -> int | None:
    """Where a self-service notice is kept in the app: the person's first school with a current role, else
    any school they had a role in, else a school of their education authority, else none."""
    roles = Membership.objects.filter(user_id=user_id).order_by("-is_active", "pk")
    today = timezone.localdate()
    current = roles.filter(is_active=True).exclude(until__lt=today).values_list("school_id", flat=True).first()
    if current is not None:
        return current
    school_id = roles.values_list("school_id", flat=True).first()
    if school_id is not None:
        return school_id
    return (
        AuthorityViewer.objects.filter(user_id=user_id, authority__schools__isnull=False)
        .order_by("authority__schools")
        .values_list("authority__schools", flat=True)
        .first()
    )


def from_people(items: list[dict[str, Any]]) -> int:
    """Tell each person about a credential event on their account (``people.events.account_changed``):
    what happened, who did it, when, and why. Returns the number of events handled."""
    names = {
        u.pk: u.full_name or u.username
        for u in User.objects.filter(pk__in={i.get(k) for i in items for k in ("actor_id", "issuer_id")} - {None})
    }
    for item in items:
        params = {
            "event": item["event"],
            "actor": names.get(item.get("actor_id") or 0, ""),
            "issuer": names.get(item.get("issuer_id") or 0, ""),
            "by_self": item.get("actor_id") == item["user_id"],
            "at": item["at"],
            "reason": item.get("reason", ""),
        }
        key = f"account:{item['event']}:{item['at']}"
        school_id = item.get("school_id") or _home_school(item["user_id"])
        if school_id is None:
            send_account_email(user_id=item["user_id"], params=params, event_key=key)
        else:
            notify_account(school_id=school_id, user_id=item["user_id"], params=params, event_key=key)
    return len(items)
