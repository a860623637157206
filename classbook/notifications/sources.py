"""Turn the journal's and the timetable's events into notifications (run by the worker, not the request).

The journal and the timetable send ``journal_changed`` / ``lesson_changed`` after commit with plain
ids; ``receivers.py`` enqueues one task per transaction, and that task calls these functions, which
read what the words need and call ``notify_students``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import Q
from django.utils.formats import date_format

from classbook.journal.models import ChangeKind, Lesson
from classbook.notifications.models import Kind
from classbook.notifications.services import notify_students
from classbook.people.models import Enrolment, Student
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
