"""Calendar-thematic plans API (R3.1-R3.3) and programme completion (R3.2), under
``/api/v1/schools/{school}/plans/``. Thin: access scopes, then a service or a query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile

from classbook.access import planning as scopes
from classbook.access import scopes as school_scopes
from classbook.access.context import SchoolContext, school_for
from classbook.access.journal import lessons as journal_lessons
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.planning import files, queries, services
from classbook.schools.models import Subject, TeachingAssignment

router = Router(tags=["plans"])


def _ctx(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, scopes.may_open_plans)


def _assignment(ctx: SchoolContext, assignment_id: int) -> TeachingAssignment:
    return get_or_404(scopes.plan_assignments(ctx), pk=assignment_id)


def _own(request: HttpRequest, ctx: SchoolContext, assignment_id: int) -> TeachingAssignment:
    assignment = _assignment(ctx, assignment_id)
    if not scopes.may_write_plan(ctx, assignment):
        raise PermissionDenied
    return assignment


class PlanSummary(Schema):
    assignment_id: int
    class_name: str
    subgroup: str | None
    subject: str
    teacher: str
    status: str
    topics: int
    late: bool


class TopicOut(Schema):
    position: int
    section: str
    title: str
    hours: int
    lesson_type: str
    homework: str


class SlotOut(Schema):
    topic_position: int | None
    hour: int
    lesson_id: int | None
    date: dt.date | None
    journal_topic: str
    state: str


class PlanOut(Schema):
    assignment_id: int
    status: str
    version: int | None
    deadline: dt.date
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    total_hours: int
    lessons: int
    topics: list[TopicOut]
    slots: list[SlotOut]


class BindOut(Schema):
    bound: int
    suggested: int
    lessons_without_topic: int
    hours_without_lesson: int


class CopyIn(Schema):
    source_plan_id: int
    expected_version: int | None = None


class ConfirmIn(Schema):
    lesson_ids: list[int]


class ConfirmOut(Schema):
    confirmed: int


class TypeFigures(Schema):
    type: str
    planned: int
    due: int
    conducted: int
    gap: int


class CompletionOut(Schema):
    assignment_id: int
    class_name: str
    subject: str
    teacher: str
    status: str
    planned: int
    scheduled: int
    due: int
    conducted: int
    by_substitute: int
    behind: int
    shortfall: int
    by_type: list[TypeFigures]


PLAN_SORTS = Sorts("teacher,class_name", teacher="teacher", class_name="class_name", subject="subject", status="status")
SOURCE_SORTS = Sorts("year,class_name", year="year", class_name="class_name", title="title", topics="topics")
COMPLETION_SORTS = Sorts(
    "class_name,subject", class_name="class_name", subject="subject", teacher="teacher", behind="behind"
)
Id = Field(None, ge=1, le=2**62)


class PlanQuery(ListQuery):
    sort: str = PLAN_SORTS.field()


class SourceQuery(ListQuery):
    sort: str = SOURCE_SORTS.field()


class CompletionFilter(ListQuery):
    class_id: int | None = Id
    teacher_id: int | None = Id
    subject_id: int | None = Id
    as_of: dt.date | None = Field(None, description="Count conducted lessons up to this day (default: today)")
    sort: str = COMPLETION_SORTS.field()


def _plan_out(ctx: SchoolContext, assignment: TeachingAssignment) -> dict[str, Any]:
    view = queries.plan_view(assignment, timezone.localdate())
    plan = view.plan
    return {
        "assignment_id": assignment.pk,
        "status": plan.status if plan else "missing",
        "version": plan.version if plan else None,
        "deadline": queries.deadline(ctx.school.pk, assignment.year),
        "submitted_at": plan.submitted_at if plan else None,
        "approved_at": plan.approved_at if plan else None,
        "total_hours": view.total_hours,
        "lessons": view.lessons,
        "topics": [
            {
                "position": t.position,
                "section": t.section,
                "title": t.title,
                "hours": t.hours,
                "lesson_type": t.lesson_type,
                "homework": t.homework,
            }
            for t in view.topics
        ],
        "slots": [
            {
                "topic_position": s.topic.position if s.topic else None,
                "hour": s.hour,
                "lesson_id": s.lesson.pk if s.lesson else None,
                "date": s.lesson.date if s.lesson else None,
                "journal_topic": s.lesson.topic if s.lesson else "",
                "state": s.state,
            }
            for s in view.slots
        ],
    }


@router.get("/{school}/plans", response=Page[PlanSummary], summary="Plans the caller may read this year")
def list_plans(request: HttpRequest, school: str, q: Query[PlanQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    qs = scopes.plan_assignments(ctx).filter(year__is_current=True)
    year = next(iter(qs[:1]), None)
    due = queries.deadline(ctx.school.pk, year.year) if year else timezone.localdate()
    out = []
    for teacher in queries.plan_status(qs, due=due, today=timezone.localdate()):
        for row in teacher.assignments:
            a = row["assignment"]
            out.append(
                {
                    "assignment_id": a.pk,
                    "class_name": a.school_class.name,
                    "subgroup": a.subgroup.name if a.subgroup else None,
                    "subject": a.subject.name,
                    "teacher": a.teacher.full_name,
                    "status": row["status"],
                    "topics": row["topics"],
                    "late": row["late"],
                }
            )
    return paginate(request, out, q, PLAN_SORTS)


@router.get("/{school}/plans/assignments/{assignment_id}", response=PlanOut, summary="A plan beside its lessons")
def read_plan(request: HttpRequest, school: str, assignment_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    return _plan_out(ctx, _assignment(ctx, assignment_id))


@router.post(
    "/{school}/plans/assignments/{assignment_id}/import",
    response=PlanOut,
    summary="Replace the plan from a CSV or XLSX file (all or nothing; 422 lists every bad row)",
)
def import_plan(
    request: HttpRequest,
    school: str,
    assignment_id: int,
    file: UploadedFile = File(...),  # noqa: B008
) -> dict[str, Any]:
    ctx = _ctx(request, school)
    assignment = _own(request, ctx, assignment_id)
    services.import_plan_file(
        acting_user=ctx.user,
        assignment=assignment,
        filename=file.name or "",
        content=file.read(files.MAX_FILE_BYTES + 1),
    )
    return _plan_out(ctx, assignment)


class SourceOut(Schema):
    plan_id: int
    shared: bool
    title: str
    class_name: str | None
    teacher: str | None
    year: str
    topics: int


@router.get(
    "/{school}/plans/assignments/{assignment_id}/sources",
    response=Page[SourceOut],
    summary="Plans that may be copied into this plan (same subject and year level; shared base, parallel, earlier)",
)
def copy_sources(request: HttpRequest, school: str, assignment_id: int, q: Query[SourceQuery]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    assignment = _own(request, ctx, assignment_id)
    sources = [
        {
            "plan_id": p.pk,
            "shared": p.is_shared,
            "title": p.title,
            "class_name": str(p.assignment.subgroup or p.assignment.school_class) if p.assignment else None,
            "teacher": p.assignment.teacher.full_name if p.assignment else None,
            "year": p.year.name,
            "topics": p.topic_count,
        }
        for p in scopes.copy_sources(ctx, assignment).annotate(topic_count=Count("topics", distinct=True))
    ]
    return paginate(request, sources, q, SOURCE_SORTS)


@router.post("/{school}/plans/assignments/{assignment_id}/copy", response=PlanOut, summary="Replace the plan by a copy")
def copy_plan(request: HttpRequest, school: str, assignment_id: int, payload: CopyIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    assignment = _own(request, ctx, assignment_id)
    source = get_or_404(scopes.copy_sources(ctx, assignment), pk=payload.source_plan_id)
    services.copy_plan(
        acting_user=ctx.user, assignment=assignment, source=source, expected_version=payload.expected_version
    )
    return _plan_out(ctx, assignment)


@router.post("/{school}/plans/assignments/{assignment_id}/bind", response=BindOut, summary="Bind the plan to lessons")
def bind_plan(request: HttpRequest, school: str, assignment_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    result = services.bind_plan(acting_user=ctx.user, assignment=_own(request, ctx, assignment_id))
    return result.__dict__


@router.post(
    "/{school}/plans/assignments/{assignment_id}/confirm",
    response=ConfirmOut,
    summary="Confirm the plan's suggested topics of given lessons in the journal",
)
def confirm(request: HttpRequest, school: str, assignment_id: int, payload: ConfirmIn) -> dict[str, Any]:
    ctx = _ctx(request, school)
    assignment = _assignment(ctx, assignment_id)
    chosen = list(
        journal_lessons(ctx)
        .filter(assignment=assignment, pk__in=payload.lesson_ids[: services.MAX_CONFIRM])
        .order_by("date", "number", "pk")
    )
    return {"confirmed": services.confirm_topics(acting_user=ctx.user, lessons=chosen)}


@router.post("/{school}/plans/assignments/{assignment_id}/submit", response=PlanOut, summary="Submit for approval")
def submit(request: HttpRequest, school: str, assignment_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    assignment = _own(request, ctx, assignment_id)
    services.submit_plan(acting_user=ctx.user, assignment=assignment)
    return _plan_out(ctx, assignment)


@router.post("/{school}/plans/assignments/{assignment_id}/approve", response=PlanOut, summary="Approve a plan")
def approve(request: HttpRequest, school: str, assignment_id: int) -> dict[str, Any]:
    ctx = _ctx(request, school)
    if not scopes.may_approve(ctx):
        raise PermissionDenied
    assignment = _assignment(ctx, assignment_id)
    services.approve_plan(acting_user=ctx.user, plan=get_or_404(scopes.plans(ctx), assignment=assignment))
    return _plan_out(ctx, assignment)


@router.get("/{school}/plans/completion", response=Page[CompletionOut], summary="Programme completion (R3.2)")
def completion(request: HttpRequest, school: str, filters: Query[CompletionFilter]) -> dict[str, Any]:
    ctx = _ctx(request, school)
    qs = scopes.plan_assignments(ctx).filter(year__is_current=True)
    # An unknown id is an error, not an empty answer that looks like "nothing planned".
    if filters.class_id:
        if not school_scopes.classes(ctx).filter(pk=filters.class_id).exists():
            raise DomainError(_("Unknown class."), field="class_id")
        qs = qs.filter(school_class_id=filters.class_id)
    if filters.teacher_id:
        if not school_scopes.staff(ctx).filter(pk=filters.teacher_id).exists():
            raise DomainError(_("Unknown teacher."), field="teacher_id")
        qs = qs.filter(teacher_id=filters.teacher_id)
    if filters.subject_id:
        if not school_scopes.directory(ctx, Subject).filter(pk=filters.subject_id).exists():
            raise DomainError(_("Unknown subject."), field="subject_id")
        qs = qs.filter(subject_id=filters.subject_id)
    rows = queries.completion(qs, as_of=filters.as_of or timezone.localdate())
    items = [
        {
            "assignment_id": r.assignment.pk,
            "class_name": str(r.assignment.subgroup or r.assignment.school_class),
            "subject": r.assignment.subject.name,
            "teacher": r.assignment.teacher.full_name,
            "status": r.status,
            "planned": r.planned,
            "scheduled": r.scheduled,
            "due": r.due,
            "conducted": r.conducted,
            "by_substitute": r.by_substitute,
            "behind": r.behind,
            "shortfall": r.shortfall,
            "by_type": [{k: v for k, v in t.items() if k != "label"} for t in r.by_type],
        }
        for r in rows
    ]
    return paginate(request, items, filters, COMPLETION_SORTS)
