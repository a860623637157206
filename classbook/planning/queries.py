"""Read models for plan pages and the API: the plan beside its lessons, the deadline status per teacher
and the programme completion (R3.1, R3.2). A fixed number of queries whatever the size of the school:
the figures are aggregated in the database (``GROUP BY`` with conditional counts), never per row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from classbook.core.collation import name_order, person_key
from classbook.journal.models import Lesson, LessonType
from classbook.planning.models import LessonBinding, Plan, PlanningDeadline, PlanStatus, PlanTopic
from classbook.schools.models import AcademicYear, TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange

# The kinds of lesson the programme counts separately (R3.2): control, laboratory and practical works.
COUNTED_TYPES = (LessonType.CONTROL, LessonType.LABORATORY, LessonType.PRACTICE)


def deadline(school_id: int, year: AcademicYear) -> dt.date:
    return PlanningDeadline.date_for(school_id, year)


# --- the plan beside its lessons -----------------------------------------------------------------------


@dataclass
class Slot:
    """One planned hour and the lesson it fell on (or None), for the side-by-side view."""

    topic: PlanTopic | None
    hour: int  # 1..topic.hours
    lesson: Lesson | None
    state: str  # "confirmed" (topic in the journal), "suggested", "future", "none"
    new_section: bool = False


@dataclass
class PlanView:
    plan: Plan | None
    topics: list[PlanTopic]
    slots: list[Slot]
    total_hours: int
    lessons: int
    to_confirm: list[int] = field(default_factory=list)  # lesson ids: given, topic still the suggestion
    unbound: int = 0  # lessons (not cancelled) with no binding: bind again


def plan_view(assignment: TeachingAssignment, today: dt.date) -> PlanView:
    """Four queries: the plan, its topics, the assignment's lessons with their bindings, the cancellations."""
    plan = Plan.objects.filter(assignment=assignment).select_related("approved_by", "copied_from").first()
    topics = list(PlanTopic.objects.filter(plan=plan).order_by("position")) if plan else []
    cancelled = set(
        LessonChange.objects.filter(lesson__assignment=assignment, kind=ChangeKind.CANCELLED).values_list(
            "lesson_id", flat=True
        )
    )
    lessons = [
        lesson
        for lesson in Lesson.objects.filter(assignment=assignment)
        .select_related("plan_binding", "assignment", "school")
        .order_by("date", "number", "pk")
        if lesson.pk not in cancelled
    ]
    by_topic: dict[int, list[Lesson]] = defaultdict(list)
    loose: list[Lesson] = []
    unbound = 0
    for lesson in lessons:
        binding = getattr(lesson, "plan_binding", None)
        if binding is not None and binding.topic_id:
            by_topic[binding.topic_id].append(lesson)
        else:
            loose.append(lesson)
            unbound += 1
    slots: list[Slot] = []
    to_confirm: list[int] = []

    def state(lesson: Lesson | None) -> str:
        if lesson is None:
            return "none"
        if lesson.topic:
            return "confirmed"
        if lesson.date > today:
            return "future"
        to_confirm.append(lesson.pk)
        return "suggested"

    previous_section = None
    for topic in topics:
        got = by_topic.get(topic.pk, [])
        for hour in range(1, topic.hours + 1):
            held = got[hour - 1] if hour <= len(got) else None
            slots.append(
                Slot(
                    topic=topic,
                    hour=hour,
                    lesson=held,
                    state=state(held),
                    new_section=hour == 1 and topic.section != previous_section,
                )
            )
            previous_section = topic.section
    for lesson in loose:
        slots.append(Slot(topic=None, hour=0, lesson=lesson, state="confirmed" if lesson.topic else "none"))
    return PlanView(
        plan=plan,
        topics=topics,
        slots=slots,
        total_hours=sum(t.hours for t in topics),
        lessons=len(lessons),
        to_confirm=to_confirm,
        unbound=unbound if topics else 0,
    )


# --- deadline status per teacher ----------------------------------------------------------------------


@dataclass
class TeacherStatus:
    teacher: Any
    assignments: list[dict[str, Any]] = field(default_factory=list)
    approved: int = 0
    submitted: int = 0
    draft: int = 0
    missing: int = 0
    late: int = 0  # overdue now, or handed in after the deadline

    @property
    def is_late(self) -> bool:
        return self.late > 0


def plan_status(assignments: QuerySet[TeachingAssignment], *, due: dt.date, today: dt.date) -> list[TeacherStatus]:
    """Per teacher: which plans are approved, submitted, drafts or missing, and which are late. One query."""
    rows = (
        assignments.select_related("plan", "teacher", "school_class", "subgroup", "subject")
        .annotate(
            # A correlated count, not a JOIN + GROUP BY over every selected column (3x faster on SQLite).
            topic_count=Coalesce(
                Subquery(
                    PlanTopic.objects.filter(plan__assignment=OuterRef("pk"))
                    .order_by()
                    .values("plan")
                    .annotate(n=Count("pk"))
                    .values("n")
                ),
                0,
            )
        )
        .order_by(*name_order("teacher__"), "school_class__name", "subject__name")
    )
    by_teacher: dict[int, TeacherStatus] = {}
    overdue = today > due
    for a in rows:
        entry = by_teacher.setdefault(a.teacher_id, TeacherStatus(teacher=a.teacher))
        plan = getattr(a, "plan", None)
        status = "missing" if plan is None or not a.topic_count else plan.status
        submitted_late = bool(plan and plan.submitted_at and plan.submitted_at.date() > due)
        late = (status in ("missing", PlanStatus.DRAFT) and overdue) or submitted_late
        setattr(entry, status, getattr(entry, status) + 1)
        entry.late += int(late)
        entry.assignments.append(
            {"assignment": a, "plan": plan, "status": status, "late": late, "topics": a.topic_count}
        )
    return sorted(by_teacher.values(), key=lambda s: (not s.is_late, person_key(s.teacher)))


# --- programme completion (R3.2) ----------------------------------------------------------------------


@dataclass
class Completion:
    assignment: TeachingAssignment
    status: str
    planned: int = 0  # hours in the plan
    scheduled: int = 0  # lessons in the timetable for the year, cancelled ones left out
    conducted: int = 0  # lessons given up to the day (substitutes' lessons count, cancelled do not)
    by_substitute: int = 0
    due: int = 0  # planned hours whose lessons are on or before the day
    planned_in_window: int = 0  # planned hours bound to lessons of the window (``since``-``until``), cancelled too
    due_cancelled: int = 0  # planned hours still bound to lessons cancelled on or before the day (not bound again)
    planned_by_type: dict[str, int] = field(default_factory=dict)
    due_by_type: dict[str, int] = field(default_factory=dict)
    conducted_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def shortfall(self) -> int:
        """Planned hours the remaining timetable cannot hold: the programme will not be completed."""
        return max(0, self.planned - self.scheduled)

    @property
    def behind(self) -> int:
        """Hours of the plan due by the day but not given."""
        return max(0, self.due - self.conducted)

    @property
    def percent(self) -> int:
        return round(100 * self.conducted / self.planned) if self.planned else 0

    def type_gap(self, lesson_type: str) -> int:
        return max(0, self.due_by_type.get(lesson_type, 0) - self.conducted_by_type.get(lesson_type, 0))

    @property
    def by_type(self) -> list[dict[str, Any]]:
        return [
            {
                "type": t,
                "label": t.label,
                "planned": self.planned_by_type.get(t, 0),
                "due": self.due_by_type.get(t, 0),
                "conducted": self.conducted_by_type.get(t, 0),
                "gap": self.type_gap(t),
            }
            for t in COUNTED_TYPES
        ]

    @property
    def has_gap(self) -> bool:
        return bool(self.shortfall or self.behind or any(self.type_gap(t) for t in COUNTED_TYPES))


def _type_sums(field_name: str, aggregate: type[Any], types: tuple[str, ...], extra: Q | None = None) -> dict[str, Any]:
    out = {}
    for t in types:
        cond = Q(**{field_name: t})
        if extra is not None:
            cond &= extra
        out[f"t_{t}"] = aggregate("hours" if aggregate is Sum else "pk", filter=cond)
    return out


def completion(
    assignments: QuerySet[TeachingAssignment],
    *,
    as_of: dt.date,
    since: dt.date | None = None,
    until: dt.date | None = None,
    types: tuple[str, ...] = COUNTED_TYPES,
) -> list[Completion]:
    """Planned vs conducted hours for every assignment in ``assignments`` (already scoped), four queries.

    ``since``/``until`` narrow the lessons to a window (a study period, R6.4): the timetable's lessons,
    the lessons given and the planned hours due are then those dated in the window (given and due up to
    ``as_of``); ``planned`` stays the plan's whole hours. ``types`` are the lesson types counted apart.
    """
    ids = assignments.order_by().values("pk")
    rows = list(
        assignments.select_related("plan", "teacher", "school_class", "subgroup", "subject").order_by(
            "school_class__year_level__number", "school_class__name", "subject__name", "pk"
        )
    )
    out = {a.pk: Completion(assignment=a, status=getattr(getattr(a, "plan", None), "status", "missing")) for a in rows}
    if not out:
        return []
    # The school's cancellations (few rows, one index lookup) rather than a join through the lessons.
    cancelled = LessonChange.objects.filter(school_id=rows[0].school_id, kind=ChangeKind.CANCELLED).values("lesson_id")
    window, bound_window = Q(), Q()
    if since is not None:
        window &= Q(date__gte=since)
        bound_window &= Q(lesson__date__gte=since)
    if until is not None:
        window &= Q(date__lte=until)
        bound_window &= Q(lesson__date__lte=until)

    planned = (
        PlanTopic.objects.filter(plan__assignment__in=ids)
        .values("plan__assignment_id")
        .annotate(total=Sum("hours"), **_type_sums("lesson_type", Sum, types))
        .order_by()
    )
    for r in planned:
        c = out[r["plan__assignment_id"]]
        c.planned = r["total"] or 0
        c.planned_by_type = {t: r[f"t_{t}"] or 0 for t in types}

    past = Q(date__lte=as_of)
    lessons = (
        Lesson.objects.filter(window, assignment__in=ids)
        .exclude(pk__in=cancelled)
        .values("assignment_id")
        .annotate(
            scheduled=Count("pk"),
            conducted=Count("pk", filter=past),
            by_substitute=Count(
                "pk", filter=past & Q(conducted_by__isnull=False) & ~Q(conducted_by=F("assignment__teacher"))
            ),
            **_type_sums("lesson_type", Count, types, past),
        )
        .order_by()
    )
    for r in lessons:
        c = out[r["assignment_id"]]
        c.scheduled, c.conducted, c.by_substitute = r["scheduled"], r["conducted"], r["by_substitute"]
        c.conducted_by_type = {t: r[f"t_{t}"] or 0 for t in types}

    held = ~Q(lesson_id__in=cancelled)
    due_day = Q(lesson__date__lte=as_of)
    due = (
        LessonBinding.objects.filter(bound_window, lesson__assignment__in=ids, topic__isnull=False)
        .values("lesson__assignment_id")
        .annotate(
            due=Count("pk", filter=held & due_day),
            in_window=Count("pk"),
            due_cancelled=Count("pk", filter=~held & due_day),
            **_type_sums("suggested_type", Count, types, held & due_day),
        )
        .order_by()
    )
    for r in due:
        c = out[r["lesson__assignment_id"]]
        c.due, c.planned_in_window, c.due_cancelled = r["due"], r["in_window"], r["due_cancelled"]
        c.due_by_type = {t: r[f"t_{t}"] or 0 for t in types}
    return [out[a.pk] for a in rows]


def totals(rows: list[Completion]) -> dict[str, int]:
    return {
        "planned": sum(r.planned for r in rows),
        "scheduled": sum(r.scheduled for r in rows),
        "conducted": sum(r.conducted for r in rows),
        "by_substitute": sum(r.by_substitute for r in rows),
        "behind": sum(r.behind for r in rows),
        "shortfall": sum(r.shortfall for r in rows),
        "with_gap": sum(1 for r in rows if r.has_gap),
    }
