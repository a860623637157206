"""Timetable API (R4.1, R4.2): bells, entries, lesson generation, lesson changes and the caller's own
timetable, under ``/api/v1/schools/{school}/timetable/``. Thin: access scopes, then a service or a query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from classbook.access import timetable as scopes
from classbook.access.context import SchoolContext, resolve_school, school_for
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.timetable import queries, services
from classbook.timetable.models import ChangeKind, Parity

router = Router(tags=["timetable"])

MAX_RANGE_DAYS = 62


def _manager(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, scopes.may_manage_timetable)


class BellOut(Schema):
    number: int
    start: dt.time
    end: dt.time


class ScheduleOut(Schema):
    id: int
    name: str
    is_default: bool
    class_ids: list[int]
    bells: list[BellOut]


BELL_SORTS = Sorts("name", name="name", id="id")
ENTRY_SORTS = Sorts("weekday,number", weekday="weekday", number="number", valid_from="valid_from", id="id")
CHANGE_SORTS = Sorts("date,number", date="date", number="number", kind="kind", id="id")
OWN_SORTS = Sorts("name", name="name")
Id = Field(None, ge=1, le=2**62)


class BellQuery(ListQuery):
    sort: str = BELL_SORTS.field()


class EntryQuery(ListQuery):
    class_id: int | None = Id
    sort: str = ENTRY_SORTS.field()


class ChangeQuery(ListQuery):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM (default: this month)")
    teacher_id: int | None = Id
    sort: str = CHANGE_SORTS.field()


class OwnQuery(ListQuery):
    start: dt.date
    end: dt.date
    sort: str = OWN_SORTS.field()


@router.get("/{school}/timetable/bells", response=Page[ScheduleOut], summary="Bell schedules of the school")
def list_bells(request: HttpRequest, school: str, q: Query[BellQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    schedules = [
        {
            "id": s.pk,
            "name": s.name,
            "is_default": s.is_default,
            "class_ids": [c.pk for c in s.classes.all()],
            "bells": [{"number": b.number, "start": b.start, "end": b.end} for b in s.bells.all()],
        }
        for s in scopes.bell_schedules(ctx)
    ]
    return paginate(request, schedules, q, BELL_SORTS)


class BellIn(Schema):
    schedule_id: int
    number: int
    start: dt.time
    end: dt.time


@router.put("/{school}/timetable/bells", response=BellOut, summary="Set the time of a lesson number in a schedule")
def set_bell(request: HttpRequest, school: str, payload: BellIn) -> dict[str, Any]:
    ctx = _manager(request, school)
    schedule = get_or_404(scopes.bell_schedules(ctx), pk=payload.schedule_id)
    bell = services.set_bell(
        acting_user=ctx.user, schedule=schedule, number=payload.number, start=payload.start, end=payload.end
    )
    return {"number": bell.number, "start": bell.start, "end": bell.end}


class EntryOut(Schema):
    id: int
    assignment_id: int
    class_id: int
    subgroup_id: int | None
    subject: str
    teacher_id: int
    teacher: str
    weekday: int
    number: int
    room_id: int | None
    room: str
    parity: str
    valid_from: dt.date
    valid_until: dt.date


def _entry_out(e: Any) -> dict[str, Any]:
    a = e.assignment
    return {
        "id": e.pk,
        "assignment_id": a.pk,
        "class_id": a.school_class_id,
        "subgroup_id": a.subgroup_id,
        "subject": str(a.subject),
        "teacher_id": a.teacher_id,
        "teacher": a.teacher.short_name,
        "weekday": e.weekday,
        "number": e.number,
        "room_id": e.room_id,
        "room": str(e.room or ""),
        "parity": e.parity,
        "valid_from": e.valid_from,
        "valid_until": e.valid_until,
    }


@router.get(
    "/{school}/timetable/entries", response=Page[EntryOut], summary="Timetable entries (optionally of one class)"
)
def list_entries(request: HttpRequest, school: str, q: Query[EntryQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    qs = scopes.entries(ctx).filter(withdrawn_at__isnull=True)
    if q.class_id is not None:
        qs = qs.filter(assignment__school_class_id=q.class_id)
    return paginate(request, qs, q, ENTRY_SORTS, _entry_out)


class EntryIn(Schema):
    assignment_id: int
    weekday: int
    number: int
    room_id: int | None = None
    parity: Parity = Parity.EVERY
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


@router.post(
    "/{school}/timetable/entries", response={201: EntryOut}, summary="Add a timetable entry (clashes are refused)"
)
def create_entry(request: HttpRequest, school: str, payload: EntryIn) -> Status[dict[str, Any]]:
    ctx = _manager(request, school)
    assignment = scopes.editable_assignments(ctx).filter(pk=payload.assignment_id).first()
    if assignment is None:
        raise DomainError(_("Unknown teaching assignment."), field="assignment_id")
    room = None
    if payload.room_id is not None:
        room = scopes.timetable_rooms(ctx).filter(pk=payload.room_id).first()
        if room is None:
            raise DomainError(_("Unknown room."), field="room_id")
    entry = services.add_entry(
        acting_user=ctx.user,
        assignment=assignment,
        weekday=payload.weekday,
        number=payload.number,
        room=room,
        parity=payload.parity,
        valid_from=payload.valid_from,
        valid_until=payload.valid_until,
    )
    entry = scopes.entries(ctx).get(pk=entry.pk)
    return Status(201, _entry_out(entry))


class KeptLesson(Schema):
    id: int
    date: dt.date
    number: int | None


class RemovedOut(Schema):
    removed: int
    kept: list[KeptLesson]


@router.delete(
    "/{school}/timetable/entries/{entry_id}",
    response=RemovedOut,
    summary="Remove an entry from a date (lessons with data are kept)",
)
def delete_entry(request: HttpRequest, school: str, entry_id: int, from_date: dt.date | None = None) -> dict[str, Any]:
    ctx = _manager(request, school)
    entry = get_or_404(scopes.editable_entries(ctx), pk=entry_id)
    # From today unless told otherwise: lessons already past stay in the journal as they were.
    result = services.remove_entry(acting_user=ctx.user, entry=entry, from_date=from_date or timezone.localdate())
    return {"removed": result.removed, "kept": [{"id": x.pk, "date": x.date, "number": x.number} for x in result.kept]}


class GenerateIn(Schema):
    start: dt.date
    end: dt.date
    class_ids: list[int] | None = None


class GenerateOut(Schema):
    created: int
    existing: int
    skipped_days: list[dt.date]


@router.post(
    "/{school}/timetable/generate",
    response=GenerateOut,
    summary="Generate dated lessons from the timetable (idempotent)",
)
def generate(request: HttpRequest, school: str, payload: GenerateIn) -> dict[str, Any]:
    ctx = _manager(request, school)
    class_ids = None
    if payload.class_ids is not None:
        class_ids = list(scopes.timetable_classes(ctx).filter(pk__in=payload.class_ids).values_list("pk", flat=True))
        if len(class_ids) != len(set(payload.class_ids)):
            raise DomainError(_("Unknown class."), field="class_ids")
    result = services.generate_lessons(
        acting_user=ctx.user, school=ctx.school, start=payload.start, end=payload.end, class_ids=class_ids
    )
    return {"created": result.created, "existing": result.existing, "skipped_days": result.skipped_days}


class ChangeOut(Schema):
    id: int
    lesson_id: int
    kind: str
    date: dt.date
    number: int | None
    class_name: str
    subject: str
    teacher_id: int
    substitute_id: int | None
    merged_with_id: int | None
    new_date: dt.date | None
    new_number: int | None
    reason: str


def _change_out(c: Any) -> dict[str, Any]:
    a = c.lesson.assignment
    return {
        "id": c.pk,
        "lesson_id": c.lesson_id,
        "kind": c.kind,
        "date": c.date,
        "number": c.number,
        "class_name": str(a.subgroup or a.school_class),
        "subject": str(a.subject),
        "teacher_id": c.teacher_id,
        "substitute_id": c.substitute_id,
        "merged_with_id": c.merged_with_id,
        "new_date": c.new_date,
        "new_number": c.new_number,
        "reason": c.reason,
    }


class CountOut(Schema):
    teacher_id: int
    name: str
    substituted_for_others: int
    missed: int


class ChangesOut(Page[ChangeOut]):
    counts: list[CountOut] = Field(description="Per teacher: lessons substituted for others and missed (the month)")


@router.get(
    "/{school}/timetable/substitutions", response=ChangesOut, summary="Missed and substituted lessons of a month (R4.2)"
)
def list_changes(request: HttpRequest, school: str, q: Query[ChangeQuery]) -> dict[str, Any]:
    month, teacher_id = q.month, q.teacher_id
    ctx = school_for(request.user, school, scopes.may_open_lesson_changes)
    if teacher_id is not None and not scopes.may_see_changes_of(ctx, teacher_id):
        raise Http404
    try:
        first = dt.date.fromisoformat(f"{month}-01") if month else dt.date.today().replace(day=1)
    except ValueError:
        raise DomainError(_("Give the month as YYYY-MM."), field="month") from None
    rows, counts = queries.missed_and_substituted(ctx, month=first, teacher_id=teacher_id)
    return {**paginate(request, rows, q, CHANGE_SORTS, _change_out), "counts": [c.__dict__ for c in counts]}


class ChangeIn(Schema):
    lesson_id: int
    kind: ChangeKind
    substitute_id: int | None = None
    merged_with_id: int | None = None
    new_date: dt.date | None = None
    new_number: int | None = None
    reason: str = ""


@router.post(
    "/{school}/timetable/substitutions",
    response={201: ChangeOut},
    summary="Record a substitution, cancellation, merge or move",
)
def create_change(request: HttpRequest, school: str, payload: ChangeIn) -> Status[dict[str, Any]]:
    ctx = _manager(request, school)
    lessons = scopes.lessons(ctx)
    lesson = get_or_404(lessons, pk=payload.lesson_id)
    substitute = None
    if payload.substitute_id is not None:
        substitute = scopes.substitute_candidates(ctx).filter(pk=payload.substitute_id).first()
        if substitute is None:
            raise DomainError(_("Choose a teacher of the school as the substitute."), field="substitute_id")
    merged_with = None
    if payload.merged_with_id is not None:
        merged_with = lessons.filter(pk=payload.merged_with_id).select_related("assignment").first()
        if merged_with is None:
            raise DomainError(_("Choose the lesson of another class to merge with."), field="merged_with_id")
    change = services.record_lesson_change(
        acting_user=ctx.user,
        lesson=lesson,
        kind=payload.kind,
        reason=payload.reason,
        substitute=substitute,
        merged_with=merged_with,
        new_date=payload.new_date,
        new_number=payload.new_number,
    )
    return Status(201, _change_out(scopes.lesson_changes(ctx).get(pk=change.pk)))


class SlotOut(Schema):
    date: dt.date
    number: int
    start: dt.time | None
    end: dt.time | None
    subject: str
    group: str
    teacher: str
    room: str
    status: str
    note: str
    lesson_id: int | None


class OwnTimetableOut(Schema):
    name: str
    slots: list[SlotOut]


@router.get(
    "/{school}/timetable/my", response=Page[OwnTimetableOut], summary="The caller's own timetable(s) for a date range"
)
def my_timetable(request: HttpRequest, school: str, q: Query[OwnQuery]) -> dict[str, Any]:
    start, end = q.start, q.end
    ctx = resolve_school(request.user, school)
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise DomainError(
            _("Ask for at most %(days)s days, the last not before the first.") % {"days": MAX_RANGE_DAYS}, field="end"
        )
    result = []
    for label, entry_filter, extra in queries.my_views(ctx):
        days = queries.timetable(ctx, start=start, end=end, entry_filter=entry_filter, extra_changes=extra)
        result.append({"name": label, "slots": [s.__dict__ for d in days for s in d.slots]})
    return paginate(request, result, q, OWN_SORTS)
