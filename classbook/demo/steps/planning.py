"""Demo step: the calendar-thematic plans, bound to the year's lessons.

``step_planning(build)`` runs after the journal step. Every teaching assignment gets a plan whose topics
follow the same rule the journal step used for the lessons it filled (three lessons per theme, every tenth
lesson a control work), so the topics already in the journal agree with the plan; later lessons of science
and computing subjects get laboratory and practical works. The plan is bound to all the year's lessons
(cancelled ones left out): lessons up to the demo's "today" have their topics in the journal, later ones
show the plan's suggestion. Most plans were submitted before the deadline (10 September) and approved;
a few teachers are late: one has no plans at all, two have drafts, one handed in after the deadline; and a
few plans hold two hours more than the timetable, so the completion page shows gaps.

Bulk writers only (``classbook.demo.bulk``): plans by ``SchoolBuild.bulk``, topics and bindings by
``insert_rows`` in chunks, so the step costs a handful of queries whatever the size of the school (the
planning services write a plan topic by topic). What the planning services guarantee holds by
construction: one plan per teaching assignment with the assignment's subject, year level and teacher as
its author; topic positions run 1, 2, 3 ... within a plan; a lesson is bound to at most one topic, of a
plan of its own assignment, in order; cancelled lessons are not bound; a plan approved has been submitted
first and is approved by the deputy; no submission or approval in the future (a demo generated early in
the year leaves such plans as drafts or submitted).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone

from classbook.demo.build import SchoolBuild, journal_until
from classbook.demo.bulk import insert_rows
from classbook.demo.steps.journal import LESSONS_PER_TOPIC, topics_for
from classbook.journal.models import Lesson, LessonType
from classbook.planning.models import LessonBinding, Plan, PlanStatus, PlanTopic, default_deadline
from classbook.schools.models import TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange

LAB_SUBJECTS = ("Фізика", "Хімія", "Біологія")
PRACTICE_SUBJECTS = ("Інформатика", "Географія")
SHORTFALL_RATE = 0.05


def _at(day: dt.date, hour: int = 15) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_current_timezone())


def _topics(subject: str, n_lessons: int, first_future: int, extra: int) -> list[tuple[str, str, int, str]]:
    """(section, title, hours, type) for ``n_lessons`` (+ ``extra``) lessons, matching the journal step."""
    names = topics_for(subject)
    lab = any(subject.startswith(s) for s in LAB_SUBJECTS)
    practice = any(subject.startswith(s) for s in PRACTICE_SUBJECTS)
    out: list[tuple[str, str, int, str]] = []
    for k in range(n_lessons + extra):
        theme = k // LESSONS_PER_TOPIC
        section = f"Розділ {theme // 6 + 1}"
        title = f"Тема {theme + 1}. {names[theme % len(names)]}"
        if k % 10 == 9:
            out.append((section, f"Контрольна робота. {title}", 1, LessonType.CONTROL))
            continue
        kind = LessonType.COMBINED
        if k >= first_future and k % 10 == 6 and (lab or practice):
            kind = LessonType.LABORATORY if lab else LessonType.PRACTICE
            out.append((section, f"{'Лабораторна' if lab else 'Практична'} робота. {title}", 1, kind))
            continue
        if out and out[-1][1] == title and out[-1][3] == kind:
            out[-1] = (section, title, out[-1][2] + 1, kind)
        else:
            out.append((section, title, 1, kind))
    return out


def step_planning(b: SchoolBuild) -> None:
    school, year = b.school, b.year
    deputy = b.staff.get("deputy") or b.staff.get("admin")
    if school is None or year is None or deputy is None or not b.assignments:
        return
    rng = b.rng("planning")
    until = journal_until(year.start, year.end)
    deadline = default_deadline(year.start)

    cancelled = set(
        LessonChange.objects.filter(school=school, kind=ChangeKind.CANCELLED).values_list("lesson_id", flat=True)
    )
    lessons: dict[int, list[tuple[int, dt.date]]] = defaultdict(list)
    for pk, assignment_id, date in (
        Lesson.objects.filter(school=school).order_by("date", "number", "pk").values_list("pk", "assignment_id", "date")
    ):
        if pk not in cancelled:
            lessons[assignment_id].append((pk, date))
    assignments = list(
        TeachingAssignment.objects.filter(school=school)
        .order_by("pk")
        .values_list("pk", "teacher_id", "subject_id", "subject__name", "school_class__year_level_id")
    )
    teachers = sorted({a[1] for a in assignments})
    late = rng.sample(teachers, min(4, len(teachers))) if len(teachers) >= 8 else []
    missing_teacher = late[0] if late else None
    draft_teachers = set(late[1:3])
    late_submitter = late[3] if len(late) > 3 else None

    plans: list[Plan] = []
    topic_specs: list[list[tuple[str, str, int, str]]] = []
    plan_lessons: list[list[tuple[int, dt.date]]] = []
    for pk, teacher_id, subject_id, subject, level_id in assignments:
        if teacher_id == missing_teacher:
            continue
        own = lessons.get(pk, [])
        first_future = next((i for i, (_l, d) in enumerate(own) if d > until), len(own))
        extra = 2 if rng.random() < SHORTFALL_RATE else 0
        specs = _topics(subject, len(own), first_future, extra)
        if not specs:
            continue
        submitted_at = _at(year.start - dt.timedelta(days=rng.randint(1, 12)))
        submitted: dt.datetime | None = submitted_at
        approved: dt.datetime | None = submitted_at + dt.timedelta(days=rng.randint(1, 5))
        status = PlanStatus.APPROVED
        if teacher_id in draft_teachers:
            status, submitted, approved = PlanStatus.DRAFT, None, None
        elif teacher_id == late_submitter:
            submitted = _at(deadline + dt.timedelta(days=rng.randint(3, 10)))
            status, approved = PlanStatus.SUBMITTED, None
        elif rng.random() < 0.1:
            status, approved = PlanStatus.SUBMITTED, None
        if submitted and submitted.date() > until:  # a demo generated early in the year: nothing in the future
            submitted, approved, status = None, None, PlanStatus.DRAFT
        if approved and approved.date() > until:
            approved, status = None, PlanStatus.SUBMITTED
        plans.append(
            Plan(
                school=school,
                assignment_id=pk,
                subject_id=subject_id,
                year_level_id=level_id,
                year=year,
                status=status,
                submitted_at=submitted,
                approved_at=approved,
                approved_by=deputy if approved else None,
                created_by_id=teacher_id,
            )
        )
        topic_specs.append(specs)
        plan_lessons.append(own)
    b.bulk(Plan, plans)

    topic_rows = [
        (school.pk, plan.pk, i, section, title, hours, kind, "")
        for plan, specs in zip(plans, topic_specs, strict=True)
        for i, (section, title, hours, kind) in enumerate(specs, start=1)
    ]
    insert_rows(
        b, PlanTopic, ("school", "plan", "position", "section", "title", "hours", "lesson_type", "homework"), topic_rows
    )
    by_plan: dict[int, list[tuple[int, str, int, str]]] = defaultdict(list)
    for pk, plan_id, title, hours, kind in (
        PlanTopic.objects.filter(school=school)
        .order_by("plan_id", "position")
        .values_list("pk", "plan_id", "title", "hours", "lesson_type")
    ):
        by_plan[plan_id].append((pk, title, hours, kind))
    binding_rows = []
    for plan, own in zip(plans, plan_lessons, strict=True):
        slots = [t for t in by_plan[plan.pk] for _h in range(t[2])]
        binding_rows += [
            (school.pk, lesson_id, plan.pk, topic_id, title, kind)
            for (lesson_id, _d), (topic_id, title, _h, kind) in zip(own, slots, strict=False)
        ]
    insert_rows(
        b,
        LessonBinding,
        ("school", "lesson", "plan", "topic", "suggested_topic", "suggested_type"),
        binding_rows,
    )
