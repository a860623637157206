"""Read models for the journal's JSON API: plain data, a fixed number of queries whatever the class size.

(The grid page has its own read model in ``queries.py``; both read the same tables.)
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from classbook.journal.models import AccumulationPolicy, Attendance, JournalPolicy, Lesson, Mark, PeriodGrade, WorkType
from classbook.journal.rules import (
    StudentNotes,
    assignment_students,
    period_grade_notes,
    policy_or_default,
    required_marks,
)
from classbook.schools.averages import mean
from classbook.schools.models import School, StudyPeriod, TeachingAssignment


def grid_data(assignment: TeachingAssignment, period: StudyPeriod, *, can_edit: bool, school: School) -> dict[str, Any]:
    """Students, lessons, marks, attendance, period grades (each with its version) and accumulation
    with the average (rounded by the school's rule) of one journal in one period (R2.1, R2.5, R2.6), and the
    school's rules on the period grades: accumulation warnings, the annual grade's basis (issue 10). Eleven queries."""
    students = list(
        assignment_students(assignment, period.start, period.end).values(
            "pk", "user__last_name", "user__first_name", "user__patronymic"
        )
    )
    lessons = list(
        Lesson.objects.filter(assignment=assignment, date__gte=period.start, date__lte=period.end)
        .order_by("date", "number", "id")
        .values(
            "id",
            "date",
            "number",
            "topic",
            "lesson_type",
            "homework",
            "homework_due",
            "version",
            "register_taken_at",
            "conducted_by_id",
        )
    )
    in_period = {"lesson__assignment": assignment, "lesson__date__gte": period.start, "lesson__date__lte": period.end}
    marks = list(
        Mark.objects.filter(**in_period)
        .order_by("lesson_id", "student_id", "work_type__ordinal", "slot")
        .values(
            "id",
            "lesson_id",
            "student_id",
            "work_type__code",
            "work_type__weight",
            "slot",
            "value__code",
            "value__numeric",
            "comment",
            "version",
            "is_late",
        )
    )
    attendance = list(
        Attendance.objects.filter(**in_period)
        .order_by("lesson_id", "student_id")
        .values("id", "lesson_id", "student_id", "code__code", "reason", "version", "is_late")
    )
    grades = list(
        PeriodGrade.objects.filter(assignment=assignment, period=period)
        .order_by("student_id", "kind", "ordinal")
        .values("id", "student_id", "kind", "ordinal", "title", "value__code", "version", "locked_at")
    )
    work_types = list(
        WorkType.objects.filter(school_id=assignment.school_id, is_active=True).values(
            "code", "name", "short_name", "weight", "allows_several"
        )
    )
    policy = policy_or_default(assignment.school_id)
    required = required_marks(assignment.hours_per_week, policy)
    notes = period_grade_notes(assignment, period, policy=policy)
    counts: dict[int, int] = defaultdict(int)
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for m in marks:
        if m["value__code"]:
            counts[m["student_id"]] += 1
            if m["value__numeric"] is not None:
                weight = m["work_type__weight"] if policy.weighted_averages and m["work_type__weight"] else Decimal(1)
                acc = sums[m["student_id"]]
                acc[0] += m["value__numeric"] * weight
                acc[1] += weight
    return {
        "assignment": assignment_data(assignment, can_edit=can_edit),
        "period": {"id": period.pk, "name": period.name, "start": period.start, "end": period.end},
        "students": [
            {
                "id": s["pk"],
                "name": " ".join(p for p in (s["user__last_name"], s["user__first_name"], s["user__patronymic"]) if p),
            }
            for s in students
        ],
        "lessons": [
            {
                "id": x["id"],
                "date": x["date"],
                "number": x["number"],
                "topic": x["topic"],
                "lesson_type": x["lesson_type"],
                "homework": x["homework"],
                "homework_due": x["homework_due"],
                "version": x["version"],
                "register_taken": x["register_taken_at"] is not None,
                "conducted_by": x["conducted_by_id"],
            }
            for x in lessons
        ],
        "marks": [
            {
                "id": m["id"],
                "lesson": m["lesson_id"],
                "student": m["student_id"],
                "work_type": m["work_type__code"],
                "slot": m["slot"],
                "value": m["value__code"] or "",
                "comment": m["comment"],
                "version": m["version"],
                "is_late": m["is_late"],
            }
            for m in marks
        ],
        "attendance": [
            {
                "id": a["id"],
                "lesson": a["lesson_id"],
                "student": a["student_id"],
                "value": a["code__code"] or "",
                "reason": a["reason"],
                "version": a["version"],
                "is_late": a["is_late"],
            }
            for a in attendance
        ],
        "period_grades": [
            {
                "id": g["id"],
                "student": g["student_id"],
                "kind": g["kind"],
                "ordinal": g["ordinal"],
                "title": g["title"],
                "value": g["value__code"],
                "version": g["version"],
                "locked": g["locked_at"] is not None,
            }
            for g in grades
        ],
        "accumulation": [
            {
                "student": s["pk"],
                "count": counts.get(s["pk"], 0),
                "required": required,
                "average": mean(sums[s["pk"]][0], sums[s["pk"]][1], school) if s["pk"] in sums else None,
                **_accumulation_notes(notes.get(s["pk"]), policy),
            }
            for s in students
        ],
        "annual": _annual_notes(notes, [s["pk"] for s in students]),
        "work_types": work_types,
    }


# --- The school's rules on period grades (issue 10): rules.period_grade_notes, as the grid shows them ---


def _accumulation_notes(note: StudentNotes | None, policy: JournalPolicy) -> dict[str, Any]:
    warning = note.period_warning if note is not None else None
    below = note is not None and note.accumulation is not None and note.accumulation.below
    return {
        "below_rule": below and policy.accumulation_policy != AccumulationPolicy.OFF,
        "warnings": [warning.as_data()] if warning is not None else [],
    }


def _annual_notes(notes: dict[int, StudentNotes], student_ids: list[int]) -> list[dict[str, Any]]:
    out = []
    for sid in student_ids:
        note = notes.get(sid)
        if note is not None and note.annual is not None:
            value = note.annual_value.code if note.annual_value is not None else None
            out.append({"student": sid, "value": value, **note.annual.as_data(note.annual_value)})
    return out


def assignment_data(assignment: TeachingAssignment, *, can_edit: bool) -> dict[str, Any]:
    """One journal's heading; the assignment must come with teacher, class, subgroup and subject selected."""
    return {
        "id": assignment.pk,
        "subject": assignment.subject.name,
        "school_class": assignment.school_class.name,
        "subgroup": assignment.subgroup.name if assignment.subgroup is not None else None,
        "teacher": assignment.teacher.short_name,
        "hours_per_week": assignment.hours_per_week,
        "can_edit": can_edit,
    }
