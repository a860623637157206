"""An independent computation of the curriculum statistics from the raw rows, in plain Python.

It reads every lesson, cancellation, plan topic, binding, mark and enrolment of the school as stored and
applies the definitions of docs/reports.md ("Curriculum statistics") step by step; the control works' results
go through ``reference.line_figures`` (the progress report's reference), never through the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from classbook.journal.models import Lesson, Mark
from classbook.people.models import Enrolment
from classbook.planning.models import LessonBinding, PlanTopic
from classbook.schools.models import TeachingAssignment
from classbook.timetable.models import LessonChange
from tests.reports.reference import line_figures

TYPES = ("control", "laboratory", "practice", "regular", "new", "combined", "revision", "excursion")


def key_of(group_by: str, a: TeachingAssignment) -> Any:
    return {
        "class": a.school_class_id,
        "subject": a.subject_id,
        "teacher": a.teacher_id,
        "journal": a.pk,
        "school": None,
    }[group_by]


def _empty() -> dict[str, Any]:
    return {
        "journals": 0,
        "without_plan": 0,
        "hours_per_week": Decimal(0),
        "planned_year": 0,
        "planned": 0,
        "due": 0,
        "conducted": 0,
        "by_substitute": 0,
        "behind": 0,
        "ahead": 0,
        "by_type": {t: {"planned": 0, "due": 0, "conducted": 0} for t in TYPES},
    }


def curriculum(
    school: Any,
    assignment_ids: set[int],
    start: dt.date,
    end: dt.date,
    as_of: dt.date,
    group_by: str,
    *,
    basis: str = "students",
    not_attested_fails: bool = True,
    include_departed: bool = False,
) -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    """``({line key: figures}, total figures)``."""
    assignments = [a for a in TeachingAssignment.objects.filter(school=school) if a.pk in assignment_ids]
    cancelled = {c.lesson_id for c in LessonChange.objects.filter(school=school) if c.kind == "cancelled"}
    lessons = list(Lesson.objects.filter(school=school))
    bindings = list(LessonBinding.objects.filter(school=school).select_related("lesson"))
    topics = list(PlanTopic.objects.filter(school=school).select_related("plan"))
    marks = list(Mark.objects.filter(school=school).select_related("value", "work_type", "lesson"))
    enrolments = list(Enrolment.objects.filter(school=school))

    lines: dict[Any, dict[str, Any]] = defaultdict(_empty)
    total = _empty()
    for a in assignments:
        mine = [t for t in topics if t.plan.assignment_id == a.pk]
        window = [x for x in lessons if x.assignment_id == a.pk and start <= x.date <= end]
        given = [x for x in window if x.date <= as_of and x.pk not in cancelled]
        bound = [b for b in bindings if b.lesson.assignment_id == a.pk and start <= b.lesson.date <= end and b.topic_id]
        due = [b for b in bound if b.lesson.date <= as_of and b.lesson_id not in cancelled]
        due_cancelled = [b for b in bound if b.lesson.date <= as_of and b.lesson_id in cancelled]
        figures = {
            "journals": 1,
            "without_plan": 0 if sum(t.hours for t in mine) else 1,
            "hours_per_week": a.hours_per_week,
            "planned_year": sum(t.hours for t in mine),
            "planned": len(bound),
            "due": len(due),
            "conducted": len(given),
            "by_substitute": sum(1 for x in given if x.conducted_by_id and x.conducted_by_id != a.teacher_id),
            "behind": max(0, len(due) - len(given)) + len(due_cancelled),
            "ahead": max(0, len(given) - len(due)),
        }
        by_type = {
            t: {
                "planned": sum(x.hours for x in mine if x.lesson_type == t),
                "due": sum(1 for b in due if b.suggested_type == t),
                "conducted": sum(1 for x in given if x.lesson_type == t),
            }
            for t in TYPES
        }
        for target in (lines[key_of(group_by, a)], total):
            for name, value in figures.items():
                target[name] += value
            for t in TYPES:
                for name in ("planned", "due", "conducted"):
                    target["by_type"][t][name] += by_type[t][name]

    by_id = {a.pk: a for a in assignments}

    def enrolled(student_id: int, class_id: int, day: dt.date) -> bool:
        return any(
            e.student_id == student_id
            and e.school_class_id == class_id
            and e.start <= day
            and (e.end is None or e.end >= day)
            for e in enrolments
        )

    counted = [
        m
        for m in marks
        if m.value_id is not None
        and m.work_type.is_control
        and m.lesson.assignment_id in by_id
        and start <= m.lesson.date <= as_of
        and m.lesson_id not in cancelled
        and (include_departed or enrolled(m.student_id, by_id[m.lesson.assignment_id].school_class_id, end))
    ]
    grouped: dict[Any, list[Mark]] = defaultdict(list)
    for m in counted:
        grouped[key_of(group_by, by_id[m.lesson.assignment_id])].append(m)
    options = {"basis": basis, "not_attested_fails": not_attested_fails}
    for key, line in lines.items():
        line["control"] = line_figures(grouped[key], **options) if grouped.get(key) else None
        line["completion"] = _percent(line["conducted"], line["planned"])
    total["control"] = line_figures(counted, **options) if counted else None
    total["completion"] = _percent(total["conducted"], total["planned"])
    return dict(lines), total


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part * 100) / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
