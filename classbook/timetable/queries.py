"""Read models for timetable pages, the API and the calendar feed: a constant number of queries each."""

from __future__ import annotations

import datetime as dt
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from classbook.access import timetable as scopes
from classbook.access.context import SchoolContext
from classbook.schools.models import AcademicYear
from classbook.timetable.models import (
    MISSED_KINDS,
    Bell,
    ChangeKind,
    GeneratedLesson,
    LessonChange,
    TimetableEntry,
    extra_working_days,
    non_working_days,
    parity_matches,
    parity_of,
)


@dataclass
class Slot:
    """One lesson in a timetable view, with its change (if any) for highlighting."""

    date: dt.date
    number: int
    start: dt.time | None
    end: dt.time | None
    subject: str
    group: str
    teacher: str
    room: str
    status: str = ""  # "", substituted, cancelled, merged, moved_out, moved_in, substituting
    note: str = ""
    lesson_id: int | None = None
    entry_id: int | None = None
    class_id: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.status)


@dataclass
class Day:
    date: dt.date
    is_day_off: bool
    slots: list[Slot]


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _bell_times(
    ctx: SchoolContext,
) -> tuple[dict[int, dict[int, tuple[dt.time, dt.time]]], dict[int, tuple[dt.time, dt.time]]]:
    """Bell times per class (its own schedule) and the default schedule's — three queries."""
    per_class: dict[int, dict[int, tuple[dt.time, dt.time]]] = {}
    default: dict[int, tuple[dt.time, dt.time]] = {}
    for schedule in scopes.bell_schedules(ctx):
        times = {b.number: (b.start, b.end) for b in schedule.bells.all()}
        if schedule.is_default:
            default = times
        for school_class in schedule.classes.all():
            per_class[school_class.pk] = times
    return per_class, default


def _group_name(assignment: Any) -> str:
    return str(assignment.subgroup) if assignment.subgroup_id else str(assignment.school_class)


def _change_note(change: LessonChange) -> str:
    if change.kind == ChangeKind.SUBSTITUTED:
        return _("Substitute: %(name)s") % {"name": change.substitute.short_name if change.substitute else ""}
    if change.kind == ChangeKind.CANCELLED:
        return _("Cancelled")
    if change.kind == ChangeKind.MERGED:
        other = change.merged_with.assignment.school_class if change.merged_with else ""
        return _("Merged with %(group)s") % {"group": other}
    if change.kind == ChangeKind.MOVED:
        return _("Moved to %(date)s, lesson %(number)s") % {
            "date": change.new_date.strftime("%d.%m") if change.new_date else "",
            "number": change.new_number,
        }
    return ""


def timetable(
    ctx: SchoolContext,
    *,
    start: dt.date,
    end: dt.date,
    entry_filter: Q,
    extra_changes: Q | None = None,
    manual_lessons: bool = True,
) -> list[Day]:
    """The lessons of ``start``-``end`` from the timetable entries matching ``entry_filter`` (within the
    user's scope), with substitutions, cancellations, merges and moves overlaid (R4.1).

    ``extra_changes`` adds lessons of other entries that concern the viewer (a teacher's substitutions).
    ``manual_lessons`` adds lessons created by hand in the journal (not generated) that match
    ``entry_filter`` — the filter must then only use ``assignment__...`` lookups, valid on lessons too.
    Nine queries whatever the range.
    """
    entries = list(
        scopes.entries(ctx)
        .filter(entry_filter)
        .filter(withdrawn_at__isnull=True, valid_from__lte=end, valid_until__gte=start)
        .order_by("weekday", "number", "pk")
    )
    entry_ids = [e.pk for e in entries]
    years = {y.pk: y for y in AcademicYear.objects.filter(school=ctx.school, start__lte=end, end__gte=start)}
    working = extra_working_days(ctx.school.pk, start, end)
    off = non_working_days(ctx.school.pk, start, end) - set(working)
    related = (
        "lesson__timetable_change__substitute",
        "lesson__timetable_change__merged_with__assignment__school_class",
    )
    links = {
        (g.entry_id, g.date): g
        for g in GeneratedLesson.objects.filter(entry_id__in=entry_ids, date__gte=start, date__lte=end).select_related(
            *related
        )
    }
    extra_q = Q(
        kind=ChangeKind.MOVED, new_date__gte=start, new_date__lte=end, lesson__generated_from__entry_id__in=entry_ids
    )
    if extra_changes is not None:
        extra_q |= extra_changes & Q(date__gte=start, date__lte=end)
    extras = list(
        LessonChange.objects.filter(school=ctx.school)
        .filter(extra_q)
        .select_related(
            "substitute",
            "teacher",
            "lesson__assignment__subject",
            "lesson__assignment__school_class",
            "lesson__assignment__subgroup",
            "lesson__generated_from__entry__room",
        )
    )
    per_class, default_bells = _bell_times(ctx)

    def times(class_id: int, number: int) -> tuple[dt.time | None, dt.time | None]:
        return per_class.get(class_id, default_bells).get(number, (None, None))

    by_weekday: dict[int, list[TimetableEntry]] = defaultdict(list)
    for entry in entries:
        by_weekday[entry.weekday].append(entry)
    days: list[Day] = []
    day = start
    while day <= end:
        if day.isoweekday() == 7 and day not in working:
            day += dt.timedelta(days=1)
            continue
        slots: list[Slot] = []
        if day not in off:
            # An extra working day shows the lessons of the weekday whose timetable it follows.
            for entry in by_weekday.get(working.get(day, day.isoweekday()), []):
                year = years.get(entry.year_id)
                if year is None or not (entry.valid_from <= day <= entry.valid_until):
                    continue
                if not parity_matches(entry.parity, parity_of(year.start, day)):
                    continue
                a = entry.assignment
                slot = Slot(
                    date=day,
                    number=entry.number,
                    start=times(a.school_class_id, entry.number)[0],
                    end=times(a.school_class_id, entry.number)[1],
                    subject=str(a.subject),
                    group=_group_name(a),
                    teacher=a.teacher.short_name,
                    room=str(entry.room or ""),
                    entry_id=entry.pk,
                    class_id=a.school_class_id,
                )
                link = links.get((entry.pk, day))
                if link is not None:
                    slot.lesson_id = link.lesson_id
                    change = getattr(link.lesson, "timetable_change", None)
                    if change is not None:
                        slot.status = "moved_out" if change.kind == ChangeKind.MOVED else change.kind
                        slot.note = _change_note(change)
                slots.append(slot)
        days.append(Day(date=day, is_day_off=day in off, slots=slots))
        day += dt.timedelta(days=1)
    by_date = {d.date: d for d in days}
    if manual_lessons:
        manual = (
            scopes.lessons(ctx)
            .filter(entry_filter, date__gte=start, date__lte=end, generated_from__isnull=True, number__isnull=False)
            .select_related(
                "assignment__subject",
                "assignment__school_class",
                "assignment__subgroup",
                "assignment__teacher",
                "conducted_by",
                "timetable_change__substitute",
                "timetable_change__merged_with__assignment__school_class",
            )
        )
        for lesson in manual:
            target = by_date.get(lesson.date)
            if target is None or lesson.number is None:
                continue
            a = lesson.assignment
            start_t, end_t = times(a.school_class_id, lesson.number)
            slot = Slot(
                date=lesson.date,
                number=lesson.number,
                start=start_t,
                end=end_t,
                subject=str(a.subject),
                group=_group_name(a),
                teacher=(lesson.conducted_by or a.teacher).short_name,
                room="",
                lesson_id=lesson.pk,
                class_id=a.school_class_id,
            )
            change = getattr(lesson, "timetable_change", None)
            if change is not None and change.kind != ChangeKind.MOVED:
                slot.status, slot.note = change.kind, _change_note(change)
            target.slots.append(slot)
    for change in extras:
        lesson = change.lesson
        a = lesson.assignment
        generated = getattr(lesson, "generated_from", None)
        room = str(generated.entry.room or "") if generated else ""
        if change.kind == ChangeKind.MOVED:
            when, number, status = change.new_date, change.new_number, "moved_in"
            note = _("Moved from %(date)s, lesson %(number)s") % {
                "date": change.date.strftime("%d.%m"),
                "number": change.number,
            }
            teacher = (change.substitute or change.teacher).short_name
        else:
            when, number, status = change.date, change.number, "substituting"
            if change.kind == ChangeKind.MERGED:
                note = _("Merged in: %(group)s") % {"group": _group_name(a)}
            else:
                note = _("Substitution for %(name)s") % {"name": change.teacher.short_name}
            teacher = change.substitute.short_name if change.substitute else ""
        target = by_date.get(when) if when else None
        if target is None or when is None or number is None:
            continue
        start_t, end_t = times(a.school_class_id, number)
        target.slots.append(
            Slot(
                date=when,
                number=number,
                start=start_t,
                end=end_t,
                subject=str(a.subject),
                group=_group_name(a),
                teacher=teacher,
                room=room,
                status=status,
                note=note,
                lesson_id=lesson.pk,
                class_id=a.school_class_id,
            )
        )
    for d in days:
        d.slots.sort(key=lambda s: (s.number, s.group))
    return days


@dataclass
class TeacherCount:
    teacher_id: int
    name: str
    substituted_for_others: int = 0
    missed: int = 0


def missed_and_substituted(
    ctx: SchoolContext, *, month: dt.date, teacher_id: int | None = None
) -> tuple[list[LessonChange], list[TeacherCount]]:
    """The journal of missed and substituted lessons of a month, and per-teacher counts (R4.2, payroll).

    A teacher *missed* a lesson that was substituted, cancelled or merged into another teacher's lesson;
    a teacher *substituted for others* when named as the substitute (or took a merged lesson). One query.
    """
    first = month.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    qs = (
        scopes.lesson_changes(ctx)
        .filter(date__gte=first, date__lte=last)
        .select_related("merged_with__assignment__school_class", "recorded_by")
        .order_by("date", "number", "pk")
    )
    if teacher_id is not None:
        qs = qs.filter(Q(teacher_id=teacher_id) | Q(substitute_id=teacher_id))
    rows = list(qs)
    missed: Counter[int] = Counter()
    covered: Counter[int] = Counter()
    names: dict[int, str] = {}
    for row in rows:
        names[row.teacher_id] = row.teacher.short_name
        if row.kind in MISSED_KINDS and (row.kind != ChangeKind.MERGED or row.substitute_id):
            missed[row.teacher_id] += 1
        if row.substitute is not None:
            names[row.substitute.pk] = row.substitute.short_name
            covered[row.substitute.pk] += 1
    counts = [
        TeacherCount(teacher_id=pk, name=name, substituted_for_others=covered[pk], missed=missed[pk])
        for pk, name in names.items()
        if teacher_id is None or pk == teacher_id
    ]
    counts.sort(key=lambda c: c.name)
    return rows, counts


def entries_grid(ctx: SchoolContext, *, class_id: int, on: dt.date) -> dict[tuple[int, int], list[TimetableEntry]]:
    """The entries of a class valid on ``on`` keyed by (weekday, number), for the editing grid — one query."""
    grid: dict[tuple[int, int], list[TimetableEntry]] = defaultdict(list)
    for entry in (
        scopes.entries(ctx)
        .filter(assignment__school_class_id=class_id, withdrawn_at__isnull=True, valid_until__gte=on)
        .order_by("valid_from", "pk")
    ):
        grid[(entry.weekday, entry.number)].append(entry)
    return grid


def bell_numbers(ctx: SchoolContext) -> list[int]:
    numbers = sorted(set(Bell.objects.filter(school=ctx.school).values_list("number", flat=True)))
    return numbers or list(range(1, 8))


def student_filter(student_id: int) -> Q:
    return scopes.student_entry_filter([student_id])


def my_views(ctx: SchoolContext) -> list[tuple[str, Q, Q | None]]:
    """The user's own timetables: a teacher's lessons (with substitutions), a student's, each child's (R1.3)."""
    views: list[tuple[str, Q, Q | None]] = []
    if scopes.reads_own_teaching(ctx):
        views.append((ctx.user.short_name, Q(assignment__teacher=ctx.user), Q(substitute=ctx.user)))
    for student in scopes.timetable_students(ctx).filter(
        pk__in={*ctx.child_student_ids, *([ctx.own_student_id] if ctx.own_student_id else [])}
    ):
        views.append((student.user.short_name, student_filter(student.pk), None))
    return views


def feed_owner(token: str) -> Any:
    """The user whose calendar feed ``token`` opens, or None."""
    from classbook.timetable.models import CalendarFeed, hash_feed_token

    if not token or len(token) > 100:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(token_hash=hash_feed_token(token)).first()
    return feed.user if feed and feed.user.is_active else None


def feed_events(user: Any, *, start: dt.date, end: dt.date) -> list[Any]:
    """Calendar events of the user's own timetables in every school they belong to."""
    from classbook.access.context import build_context, user_schools
    from classbook.timetable.ical import Event, local_datetime

    events: list[Event] = []
    for school in user_schools(user):
        ctx = build_context(user, school)
        if ctx is None:
            continue
        views = my_views(ctx)
        for label, entry_filter, extra in views:
            for day in timetable(ctx, start=start, end=end, entry_filter=entry_filter, extra_changes=extra):
                for slot in day.slots:
                    if slot.start is None or slot.end is None or slot.status == "moved_out":
                        continue
                    summary = f"{slot.subject} — {slot.group}"
                    if len(views) > 1:
                        summary = f"{label}: {summary}"
                    events.append(
                        Event(
                            uid=f"{school.slug}-{slot.lesson_id or slot.entry_id}-{slot.date:%Y%m%d}"
                            f"-{slot.number}-{zlib.crc32(label.encode())}@classbook",
                            start=local_datetime(slot.date, slot.start),
                            end=local_datetime(slot.date, slot.end),
                            summary=summary,
                            location=slot.room,
                            description=" · ".join(p for p in (slot.teacher, slot.note) if p),
                            cancelled=slot.status == "cancelled",
                        )
                    )
    return events
