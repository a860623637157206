"""Timetable operations (R4.1-R4.3, R2.9): bells, timetable entries, lesson generation, lesson changes.

Every function takes ``acting_user`` keyword-only, runs in one transaction, checks that the user manages
the timetable of the school, validates, writes the audit log and raises ``DomainError`` with a translated
message; a refused call changes nothing.

Lesson generation never deletes a lesson that holds data. A lesson "has data" when it has a topic,
homework, a taken register, a substitute (``conducted_by``), a recorded lesson change, or any row of any
other model pointing at it (marks, attendance, journal changes, remarks, and whatever later apps add) —
the reverse relations are read from the model, so a new journal table is protected without a change here.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from classbook.access.context import build_context
from classbook.access.timetable import can_manage
from classbook.core import bulk
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.events import send_on_commit
from classbook.journal.models import Lesson
from classbook.people.models import Membership, Role, User
from classbook.schools.models import (
    AcademicYear,
    Room,
    School,
    SchoolClass,
    TeachingAssignment,
)
from classbook.timetable.events import lesson_changed
from classbook.timetable.models import (
    MAX_LESSON_NUMBER,
    Bell,
    BellSchedule,
    CalendarFeed,
    ChangeKind,
    GeneratedLesson,
    GenerationRun,
    LessonChange,
    Parity,
    TimetableEntry,
    extra_working_days,
    hash_feed_token,
    non_working_days,
    parity_matches,
    parity_of,
)

BATCH = 1000


def _require_manager(acting_user: User, school: School) -> None:
    ctx = build_context(acting_user, school)
    if ctx is None or not can_manage(ctx):
        raise PermissionDeniedError(_("Only the administration may change the timetable."))


def _full_clean(obj: Any, exclude: Iterable[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude), validate_constraints=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=None if name == "__all__" else name) from None


def _date(value: dt.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


# --- Bells ---------------------------------------------------------------------


@transaction.atomic
def create_bell_schedule(
    *, acting_user: User, school: School, name: str, is_default: bool = False, class_ids: Iterable[int] = ()
) -> BellSchedule:
    """A bell schedule (a shift) of the school; the default one serves classes not named on another (R4.3)."""
    _require_manager(acting_user, school)
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Enter a name for the bell schedule."), field="name")
    if BellSchedule.objects.filter(school=school, name=name).exists():
        raise DomainError(_("A bell schedule with this name already exists."), field="name")
    if is_default or not BellSchedule.objects.filter(school=school).exists():
        BellSchedule.objects.filter(school=school, is_default=True).update(is_default=False)
        is_default = True
    schedule = BellSchedule.objects.create(school=school, name=name, is_default=is_default)
    ids = list(class_ids)
    if ids:
        schedule.classes.set(SchoolClass.objects.filter(school=school, pk__in=ids))
    log_action("timetable.bell_schedule.created", actor=acting_user, school=school, obj=schedule, data={"name": name})
    return schedule


@transaction.atomic
def set_bell(*, acting_user: User, schedule: BellSchedule, number: int, start: dt.time, end: dt.time) -> Bell:
    """Add or change the time of lesson ``number``; refuses an end before the start and overlapping bells."""
    _require_manager(acting_user, schedule.school)
    if number is None or not (0 <= number <= MAX_LESSON_NUMBER):
        raise DomainError(
            _("The lesson number must be between 0 and %(max)s.") % {"max": MAX_LESSON_NUMBER}, field="number"
        )
    if start is None or end is None or end <= start:
        raise DomainError(_("A lesson must end after it starts."), field="end")
    overlapping = Bell.objects.filter(schedule=schedule, start__lt=end, end__gt=start).exclude(number=number).first()
    if overlapping is not None:
        raise DomainError(
            _("This time overlaps lesson %(number)s (%(start)s-%(end)s).")
            % {"number": overlapping.number, "start": f"{overlapping.start:%H:%M}", "end": f"{overlapping.end:%H:%M}"},
            field="start",
        )
    bell, _created = Bell.objects.update_or_create(
        schedule=schedule, number=number, defaults={"school_id": schedule.school_id, "start": start, "end": end}
    )
    log_action(
        "timetable.bell.set",
        actor=acting_user,
        school=schedule.school,
        obj=bell,
        data={"schedule": schedule.name, "number": number, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"},
    )
    return bell


@transaction.atomic
def delete_bell(*, acting_user: User, bell: Bell) -> None:
    _require_manager(acting_user, bell.school)
    log_action("timetable.bell.deleted", actor=acting_user, school=bell.school, obj=bell, data={"number": bell.number})
    bell.delete()


# --- Timetable entries ----------------------------------------------------------


def _active_entries(school: School) -> QuerySet[TimetableEntry]:
    return TimetableEntry.objects.filter(school=school, withdrawn_at__isnull=True)


def find_clash(entry: TimetableEntry, *, ignore_ids: Iterable[int] = ()) -> str | None:
    """The first clash of ``entry`` with another entry, as a message, or None — one query (R4.1).

    Two entries clash when they share the weekday and the lesson number, their weeks overlap (every week
    overlaps both parities) and their validity spans overlap, and they have the same teacher, the same room,
    or the same group of students: a whole-class lesson clashes with any lesson of the class or its
    subgroups; lessons of two different subgroups of a class do not clash.
    """
    assignment = entry.assignment
    parities = [Parity.EVERY, Parity.ODD, Parity.EVEN] if entry.parity == Parity.EVERY else [Parity.EVERY, entry.parity]
    same_group = Q(assignment__school_class_id=assignment.school_class_id)
    if assignment.subgroup_id:
        same_group &= Q(assignment__subgroup__isnull=True) | Q(assignment__subgroup_id=assignment.subgroup_id)
    who = Q(assignment__teacher_id=assignment.teacher_id) | same_group
    if entry.room_id:
        who |= Q(room_id=entry.room_id)
    other = (
        _active_entries(entry.school)
        .filter(
            weekday=entry.weekday,
            number=entry.number,
            parity__in=parities,
            valid_from__lte=entry.valid_until,
            valid_until__gte=entry.valid_from,
        )
        .filter(who)
        .exclude(pk__in=[entry.pk, *ignore_ids] if entry.pk else list(ignore_ids))
        .select_related(
            "assignment__teacher", "assignment__subject", "assignment__school_class", "assignment__subgroup", "room"
        )
        .order_by("valid_from", "pk")
        .first()
    )
    if other is None:
        return None
    params = {
        "weekday": entry.get_weekday_display(),
        "number": entry.number,
        "other": f"{other.assignment.subject} — {other.assignment.subgroup or other.assignment.school_class}",
    }
    if other.assignment.teacher_id == assignment.teacher_id:
        params["teacher"] = other.assignment.teacher.short_name
        return _("Clash: teacher %(teacher)s already has %(other)s on %(weekday)s, lesson %(number)s.") % params
    if entry.room_id and other.room_id == entry.room_id:
        params["room"] = str(other.room)
        return _("Clash: room %(room)s is taken by %(other)s on %(weekday)s, lesson %(number)s.") % params
    return _("Clash: the class already has %(other)s on %(weekday)s, lesson %(number)s.") % params


def _validate_entry(entry: TimetableEntry, *, ignore_ids: Iterable[int] = ()) -> None:
    assignment = entry.assignment
    if assignment.school_id != entry.school_id:
        raise DomainError(_("Unknown teaching assignment."), field="assignment")
    if entry.room is not None and entry.room.school_id != entry.school_id:
        raise DomainError(_("Unknown room."), field="room")
    if entry.weekday not in range(1, 7):
        raise DomainError(_("Choose a weekday from Monday to Saturday."), field="weekday")
    if entry.number is None or not (0 <= entry.number <= MAX_LESSON_NUMBER):
        raise DomainError(
            _("The lesson number must be between 0 and %(max)s.") % {"max": MAX_LESSON_NUMBER}, field="number"
        )
    if entry.parity not in Parity.values:
        raise DomainError(_("Choose every week, numerator or denominator."), field="parity")
    year = assignment.year
    if entry.valid_from < year.start or entry.valid_until > year.end:
        raise DomainError(
            _("The dates must lie inside the academic year (%(start)s - %(end)s).")
            % {"start": _date(year.start), "end": _date(year.end)},
            field="valid_from",
        )
    if entry.valid_until < entry.valid_from:
        raise DomainError(_("“Valid until” must not be before “valid from”."), field="valid_until")
    clash = find_clash(entry, ignore_ids=ignore_ids)
    if clash:
        raise DomainError(clash, code="clash")


def _entry_data(entry: TimetableEntry) -> dict[str, Any]:
    return {
        "assignment": entry.assignment_id,
        "weekday": entry.weekday,
        "number": entry.number,
        "room": entry.room_id,
        "parity": entry.parity,
        "valid_from": entry.valid_from.isoformat(),
        "valid_until": entry.valid_until.isoformat(),
    }


@transaction.atomic
def add_entry(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    weekday: int,
    number: int,
    room: Room | None = None,
    parity: str = Parity.EVERY,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> TimetableEntry:
    """Put a teaching assignment into the weekly timetable (R4.1); refused with a message naming any clash."""
    _require_manager(acting_user, assignment.school)
    year = assignment.year
    entry = TimetableEntry(
        school_id=assignment.school_id,
        year=year,
        assignment=assignment,
        weekday=weekday,
        number=number,
        room=room,
        parity=parity or Parity.EVERY,
        valid_from=valid_from or year.start,
        valid_until=valid_until or year.end,
        created_by=acting_user,
    )
    _validate_entry(entry)
    entry.save()
    log_action(
        "timetable.entry.created", actor=acting_user, school=assignment.school, obj=entry, data=_entry_data(entry)
    )
    return entry


@dataclass
class RegenerationResult:
    """What a timetable change did to the dated lessons."""

    entry: TimetableEntry | None
    created: int = 0
    removed: int = 0
    kept: list[Lesson] = field(default_factory=list)  # kept because they have data


def lessons_with_data(lesson_ids: Iterable[int]) -> QuerySet[Lesson]:
    """Those of ``lesson_ids`` that hold data and must never be deleted by the timetable (see the module doc)."""
    cond: Any = ~Q(topic="") | ~Q(homework="") | Q(register_taken_at__isnull=False) | Q(conducted_by__isnull=False)
    for rel in Lesson._meta.related_objects:
        if rel.related_model is GeneratedLesson or getattr(rel.related_model, "is_journal_data", True) is False:
            continue  # rows that only describe the lesson (e.g. a plan's suggested topic) are not journal data
        # Any row of any model that points at the lesson (marks, attendance, journal changes, lesson changes...).
        related: Any = rel.related_model
        cond |= Exists(related._base_manager.filter(**{rel.field.name: OuterRef("pk")}))
    return Lesson.objects.filter(pk__in=list(lesson_ids)).filter(cond)


def _remove_empty_lessons(entry_ids: list[int], from_date: dt.date) -> tuple[int, list[Lesson]]:
    """Delete the generated lessons of ``entry_ids`` on or after ``from_date`` that hold no data."""
    candidate_ids = list(
        GeneratedLesson.objects.filter(entry_id__in=entry_ids, date__gte=from_date).values_list("lesson_id", flat=True)
    )
    if not candidate_ids:
        return 0, []
    kept = list(
        lessons_with_data(candidate_ids)
        .select_related("assignment__subject", "assignment__school_class")
        .order_by("date", "number")
    )
    kept_ids = {lesson.pk for lesson in kept}
    removable = [pk for pk in candidate_ids if pk not in kept_ids]
    for i in range(0, len(removable), BATCH):
        chunk = removable[i : i + BATCH]
        GeneratedLesson.objects.filter(lesson_id__in=chunk).delete()
        Lesson.objects.filter(pk__in=chunk).delete()
    return len(removable), kept


def _last_generated_date(entry: TimetableEntry) -> dt.date | None:
    """The last day lessons were generated for in the entry's year (by any run), or the entry's last lesson."""
    run_end = (
        GenerationRun.objects.filter(school_id=entry.school_id, year_id=entry.year_id)
        .order_by("-end")
        .values_list("end", flat=True)
        .first()
    )
    last_lesson = (
        GeneratedLesson.objects.filter(entry_id=entry.pk).order_by("-date").values_list("date", flat=True).first()
    )
    return max((d for d in (run_end, last_lesson) if d), default=None)


ENTRY_FIELDS = ("assignment", "weekday", "number", "room", "parity", "valid_until")


@transaction.atomic
def change_entry(*, acting_user: User, entry: TimetableEntry, from_date: dt.date, **changes: Any) -> RegenerationResult:
    """Change a timetable entry from ``from_date`` on and regenerate only lessons on or after that day (R4.1).

    The old entry ends the day before ``from_date`` and a new entry starts; empty generated lessons of the
    old entry from that day are removed and the new entry's lessons generated up to the last day lessons
    had been generated for. Lessons that already have data (marks, attendance, topic, homework, a
    substitute...) are never deleted: they stay and are reported as kept.
    """
    _require_manager(acting_user, entry.school)
    unknown = set(changes) - set(ENTRY_FIELDS)
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    entry = TimetableEntry.objects.select_for_update().select_related("assignment__year", "school").get(pk=entry.pk)
    if entry.withdrawn_at is not None:
        raise DomainError(_("This timetable entry was already replaced."), code="withdrawn")
    if not (entry.valid_from <= from_date <= entry.valid_until) and from_date > entry.valid_from:
        raise DomainError(
            _("The change must start while the entry is valid (%(start)s - %(end)s).")
            % {"start": _date(entry.valid_from), "end": _date(entry.valid_until)},
            field="from_date",
        )
    from_date = max(from_date, entry.valid_from)
    new = TimetableEntry(
        school_id=entry.school_id,
        year_id=entry.year_id,
        assignment=entry.assignment,
        weekday=entry.weekday,
        number=entry.number,
        room=entry.room,
        parity=entry.parity,
        valid_from=from_date,
        valid_until=entry.valid_until,
        created_by=acting_user,
    )
    for name, value in changes.items():
        setattr(new, name, value)
    if new.assignment.year_id != entry.year_id:
        raise DomainError(_("The teaching assignment belongs to another academic year."), field="assignment")
    _validate_entry(new, ignore_ids=[entry.pk])
    last_generated = _last_generated_date(entry)
    removed, kept = _remove_empty_lessons([entry.pk], from_date)
    old_data = _entry_data(entry)
    if from_date > entry.valid_from:
        entry.valid_until = from_date - dt.timedelta(days=1)
        entry.save(update_fields=["valid_until"])
    elif GeneratedLesson.objects.filter(entry=entry).exists():
        entry.withdrawn_at = timezone.now()
        entry.save(update_fields=["withdrawn_at"])
    else:
        entry.delete()
    new.save()
    result = RegenerationResult(entry=new, removed=removed, kept=kept)
    if last_generated and last_generated >= from_date:
        result.created = _generate(
            acting_user=acting_user,
            school=new.school,
            year=new.year,
            start=from_date,
            end=min(last_generated, new.valid_until),
            entry_ids=[new.pk],
        ).created
    log_action(
        "timetable.entry.changed",
        actor=acting_user,
        school=new.school,
        obj=new,
        data={
            "from": from_date.isoformat(),
            "old": old_data,
            "new": _entry_data(new),
            "lessons_removed": removed,
            "lessons_created": result.created,
            "lessons_kept": [lesson.pk for lesson in kept],
        },
    )
    return result


@transaction.atomic
def remove_entry(*, acting_user: User, entry: TimetableEntry, from_date: dt.date | None = None) -> RegenerationResult:
    """Take an entry out of the timetable from ``from_date`` (default: its first day) (R4.1).

    Empty generated lessons from that day are removed; lessons with data stay and are reported as kept.
    """
    _require_manager(acting_user, entry.school)
    entry = TimetableEntry.objects.select_for_update().select_related("school").get(pk=entry.pk)
    from_date = max(from_date or entry.valid_from, entry.valid_from)
    removed, kept = _remove_empty_lessons([entry.pk], from_date)
    data = {**_entry_data(entry), "from": from_date.isoformat(), "lessons_removed": removed}
    if from_date > entry.valid_from:
        entry.valid_until = min(entry.valid_until, from_date - dt.timedelta(days=1))
        entry.save(update_fields=["valid_until"])
    elif GeneratedLesson.objects.filter(entry=entry).exists():
        entry.withdrawn_at = timezone.now()
        entry.save(update_fields=["withdrawn_at"])
    else:
        log_action("timetable.entry.deleted", actor=acting_user, school=entry.school, obj=entry, data=data)
        entry.delete()
        return RegenerationResult(entry=None, removed=removed, kept=kept)
    log_action("timetable.entry.removed", actor=acting_user, school=entry.school, obj=entry, data=data)
    return RegenerationResult(entry=None, removed=removed, kept=kept)


# --- Lesson generation ------------------------------------------------------------


@dataclass
class GenerationResult:
    created: int = 0
    existing: int = 0
    skipped_days: list[dt.date] = field(default_factory=list)  # non-working days that had lessons timetabled


def year_for_range(school: School, start: dt.date, end: dt.date) -> AcademicYear:
    if end < start:
        raise DomainError(_("The last day must not be before the first day."), field="end")
    year = AcademicYear.objects.filter(school=school, start__lte=start, end__gte=end).first()
    if year is None:
        raise DomainError(
            _("The days %(start)s - %(end)s do not lie inside one academic year of the school.")
            % {"start": _date(start), "end": _date(end)},
            code="outside_year",
            field="start",
        )
    return year


def days_off(school: School, start: dt.date, end: dt.date) -> set[dt.date]:
    return non_working_days(school.pk, start, end)


def _generate(
    *,
    acting_user: User,
    school: School,
    year: AcademicYear,
    start: dt.date,
    end: dt.date,
    entry_ids: list[int] | None = None,
    class_ids: list[int] | None = None,
) -> GenerationResult:
    entries_qs = _active_entries(school).filter(year=year, valid_from__lte=end, valid_until__gte=start)
    if entry_ids is not None:
        entries_qs = entries_qs.filter(pk__in=entry_ids)
    if class_ids is not None:
        entries_qs = entries_qs.filter(assignment__school_class_id__in=class_ids)
    rows: list[Any] = list(
        entries_qs.values_list(
            "pk", "assignment_id", "weekday", "number", "parity", "valid_from", "valid_until", named=True
        )
    )
    by_weekday: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_weekday[row.weekday].append(row)
    existing = set(
        GeneratedLesson.objects.filter(entry__in=entries_qs, date__gte=start, date__lte=end).values_list(
            "entry_id", "date"
        )
    )
    working = extra_working_days(school.pk, start, end)
    off = days_off(school, start, end) - set(working)
    result = GenerationResult()
    planned: list[tuple[int, dt.date, int, int]] = []  # (entry, day, assignment, number)
    day = start
    while day <= end:
        # An extra working day ("працюємо за розкладом понеділка") takes the lessons of the weekday it names.
        todays = by_weekday.get(working.get(day, day.isoweekday()), [])
        if todays and day in off:
            result.skipped_days.append(day)
        elif todays:
            week_parity = parity_of(year.start, day)
            for row in todays:
                if not (row.valid_from <= day <= row.valid_until) or not parity_matches(row.parity, week_parity):
                    continue
                if (row.pk, day) in existing:
                    result.existing += 1
                    continue
                planned.append((row.pk, day, row.assignment_id, row.number))
        day += dt.timedelta(days=1)
    _write_lessons(school, acting_user, planned)
    result.created = len(planned)
    return result


LESSON_COPY_FIELDS = (
    "id",
    "school",
    "assignment",
    "date",
    "number",
    "topic",
    "lesson_type",
    "homework",
    "version",
    "created_by",
    "created_at",
    "updated_at",
)


def _write_lessons(school: School, acting_user: User, planned: list[tuple[int, dt.date, int, int]]) -> None:
    """Insert the planned lessons, each (timetable entry, day, assignment, number), and their slots
    (``GeneratedLesson``).

    On PostgreSQL by ``COPY`` (``classbook.core.bulk``: the keys reserved from the lessons' sequence, then two
    streams of plain rows; a year of a 1,000-student school is ~40,000 lessons, which ``bulk_create`` spent
    most of the generation on building and sending), elsewhere by ``bulk_create``. The same rows either way:
    a new lesson has no topic, homework, register or substitute, version 1, created and updated now."""
    if not planned:
        return
    if not bulk.is_postgres():
        lessons = Lesson.objects.bulk_create(
            [
                Lesson(
                    school_id=school.pk, assignment_id=assignment_id, date=day, number=number, created_by=acting_user
                )
                for _entry, day, assignment_id, number in planned
            ],
            batch_size=BATCH,
        )
        GeneratedLesson.objects.bulk_create(
            [
                GeneratedLesson(school_id=school.pk, lesson_id=lesson.pk, entry_id=entry_id, date=day)
                for (entry_id, day, _assignment, _number), lesson in zip(planned, lessons, strict=True)
            ],
            batch_size=BATCH,
        )
        return
    ids = bulk.reserve_ids(Lesson, len(planned))
    now = timezone.now()
    regular = Lesson._meta.get_field("lesson_type").get_default()
    bulk.copy_rows(
        Lesson,
        LESSON_COPY_FIELDS,
        (
            (pk, school.pk, assignment_id, day, number, "", regular, "", 1, acting_user.pk, now, now)
            for pk, (_entry, day, assignment_id, number) in zip(ids, planned, strict=True)
        ),
    )
    bulk.copy_rows(
        GeneratedLesson,
        ("school", "lesson", "entry", "date"),
        ((school.pk, pk, entry_id, day) for pk, (entry_id, day, _a, _n) in zip(ids, planned, strict=True)),
    )


@transaction.atomic
def generate_lessons(
    *,
    acting_user: User,
    school: School,
    start: dt.date,
    end: dt.date,
    class_ids: list[int] | None = None,
) -> GenerationResult:
    """Create the dated lessons of ``start``-``end`` from the timetable (R3.1, R4.1).

    Skips Sundays and non-working special days (holidays, vacations, days off), honours week parity and the
    entries' validity, and is idempotent: a slot (entry, day) that already produced a lesson is not created
    again, even when that lesson was moved. Everything is done in a handful of bulk queries.
    """
    _require_manager(acting_user, school)
    year = year_for_range(school, start, end)
    # Serialise concurrent generations for the year (the unique slot would refuse the second one anyway).
    AcademicYear.objects.select_for_update().filter(pk=year.pk).exists()
    result = _generate(acting_user=acting_user, school=school, year=year, start=start, end=end, class_ids=class_ids)
    GenerationRun.objects.create(
        school=school, year=year, start=start, end=end, created=result.created, run_by=acting_user
    )
    log_action(
        "timetable.lessons.generated",
        actor=acting_user,
        school=school,
        obj=year,
        data={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "classes": class_ids,
            "created": result.created,
            "existing": result.existing,
            "skipped_days": len(result.skipped_days),
        },
    )
    return result


# --- Lesson changes: substitutions, cancellations, merges, moves (R4.2, R2.9) -------------


def _is_school_teacher(school: School, user: Any) -> bool:
    today = timezone.localdate()
    return (
        Membership.objects.filter(school=school, user=user, role=Role.TEACHER, is_active=True)
        .exclude(until__lt=today)
        .exists()
    )


def _teacher_busy(school: School, teacher: Any, day: dt.date, number: int | None, exclude_pk: int) -> Lesson | None:
    if number is None:
        return None
    return (
        Lesson.objects.filter(school=school, date=day, number=number)
        .filter(Q(assignment__teacher=teacher, conducted_by__isnull=True) | Q(conducted_by=teacher))
        .exclude(pk=exclude_pk)
        .exclude(timetable_change__kind__in=[ChangeKind.CANCELLED, ChangeKind.MOVED, ChangeKind.SUBSTITUTED])
        .select_related("assignment__school_class", "assignment__subject")
        .first()
    )


def _set_conducted_by(acting_user: User, lesson: Lesson, teacher: Any, change_kind: str) -> None:
    old = lesson.conducted_by_id
    Lesson.objects.filter(pk=lesson.pk).update(conducted_by=teacher, version=lesson.version + 1)
    lesson.conducted_by = teacher
    lesson.version += 1
    log_action(
        "timetable.lesson.conducted_by",
        actor=acting_user,
        school=lesson.school,
        obj=lesson,
        data={"change": change_kind, "old": old, "new": getattr(teacher, "pk", None)},
    )


@transaction.atomic
def record_lesson_change(
    *,
    acting_user: User,
    lesson: Lesson,
    kind: str,
    reason: str = "",
    substitute: Any = None,
    merged_with: Lesson | None = None,
    new_date: dt.date | None = None,
    new_number: int | None = None,
) -> LessonChange:
    """Record that a lesson was substituted, cancelled, merged with another class's lesson or moved (R4.2).

    A substitution (and a merge under another teacher) sets the lesson's ``conducted_by``, so the substitute
    fills that lesson's journal (R2.9); the change is written to the audit log as a scheduling fact.
    """
    school = lesson.school
    _require_manager(acting_user, school)
    lesson = Lesson.objects.select_for_update(of=("self",)).select_related("assignment", "school").get(pk=lesson.pk)
    if kind not in ChangeKind.values:
        raise DomainError(_("Choose what happened to the lesson."), field="kind")
    if LessonChange.objects.filter(lesson=lesson).exists():
        raise DomainError(_("A change is already recorded for this lesson."), code="already_changed")
    reason = (reason or "").strip()[:300]
    teacher_id = lesson.assignment.teacher_id
    change = LessonChange(
        school=school,
        lesson=lesson,
        kind=kind,
        date=lesson.date,
        number=lesson.number,
        teacher_id=teacher_id,
        reason=reason,
        recorded_by=acting_user,
    )
    if kind == ChangeKind.SUBSTITUTED:
        if substitute is None or not _is_school_teacher(school, substitute):
            raise DomainError(_("Choose a teacher of the school as the substitute."), field="substitute")
        if substitute.pk == teacher_id:
            raise DomainError(_("The substitute must be another teacher."), field="substitute")
        busy = _teacher_busy(school, substitute, lesson.date, lesson.number, lesson.pk)
        if busy is not None:
            raise DomainError(
                _("%(teacher)s has a lesson at that time: %(lesson)s.")
                % {
                    "teacher": substitute.short_name,
                    "lesson": f"{busy.assignment.subject} — {busy.assignment.school_class}",
                },
                field="substitute",
            )
        change.substitute = substitute
        _set_conducted_by(acting_user, lesson, substitute, kind)
    elif kind == ChangeKind.CANCELLED:
        if lessons_with_data([lesson.pk]).exists():
            raise DomainError(
                _("This lesson already has journal entries, so it was given and cannot be cancelled."),
                code="has_data",
            )
    elif kind == ChangeKind.MERGED:
        if merged_with is None or merged_with.school_id != school.pk or merged_with.pk == lesson.pk:
            raise DomainError(_("Choose the lesson of another class to merge with."), field="merged_with")
        if merged_with.date != lesson.date or merged_with.number != lesson.number:
            raise DomainError(_("Only lessons at the same time can be merged."), field="merged_with")
        if merged_with.assignment.school_class_id == lesson.assignment.school_class_id:
            raise DomainError(_("Choose the lesson of another class to merge with."), field="merged_with")
        change.merged_with = merged_with
        other_teacher = merged_with.conducted_by or merged_with.assignment.teacher
        if other_teacher.pk != teacher_id:
            change.substitute = other_teacher
            _set_conducted_by(acting_user, lesson, other_teacher, kind)
    elif kind == ChangeKind.MOVED:
        if new_date is None:
            raise DomainError(_("Enter the new date of the lesson."), field="new_date")
        year = lesson.assignment.year
        if not (year.start <= new_date <= year.end):
            raise DomainError(
                _("The dates must lie inside the academic year (%(start)s - %(end)s).")
                % {"start": _date(year.start), "end": _date(year.end)},
                field="new_date",
            )
        is_extra = new_date in extra_working_days(school.pk, new_date, new_date)
        if not is_extra and (new_date.isoweekday() == 7 or new_date in days_off(school, new_date, new_date)):
            raise DomainError(_("The new date is not a working day."), field="new_date")
        new_number = lesson.number if new_number is None else new_number
        if new_number is None or not (0 <= new_number <= MAX_LESSON_NUMBER):
            raise DomainError(
                _("The lesson number must be between 0 and %(max)s.") % {"max": MAX_LESSON_NUMBER}, field="new_number"
            )
        if (new_date, new_number) == (lesson.date, lesson.number):
            raise DomainError(_("Enter a different date or lesson number."), field="new_date")
        group = Q(assignment__school_class_id=lesson.assignment.school_class_id)
        if lesson.assignment.subgroup_id:
            group &= Q(assignment__subgroup__isnull=True) | Q(assignment__subgroup_id=lesson.assignment.subgroup_id)
        taken = (
            Lesson.objects.filter(school=school, date=new_date, number=new_number)
            .filter(group)
            .exclude(timetable_change__kind__in=[ChangeKind.CANCELLED, ChangeKind.MOVED])
            .exists()
        )
        busy = _teacher_busy(school, lesson.conducted_by or lesson.assignment.teacher, new_date, new_number, lesson.pk)
        if taken or busy:
            raise DomainError(_("The class or the teacher already has a lesson at the new time."), field="new_date")
        change.new_date, change.new_number = new_date, new_number
        Lesson.objects.filter(pk=lesson.pk).update(date=new_date, number=new_number, version=lesson.version + 1)
    change.save()
    log_action(
        f"timetable.lesson.{kind}",
        actor=acting_user,
        school=school,
        obj=change,
        data={
            "lesson": lesson.pk,
            "date": change.date.isoformat(),
            "number": change.number,
            "teacher": teacher_id,
            "substitute": change.substitute_id,
            "merged_with": change.merged_with_id,
            "new_date": change.new_date.isoformat() if change.new_date else None,
            "new_number": change.new_number,
            "reason": reason,
        },
    )
    item = {"kind": kind, "school_id": school.pk, "lesson_id": lesson.pk, "change_id": change.pk}
    send_on_commit(lesson_changed, LessonChange, item)
    return change


# --- Calendar feed ----------------------------------------------------------------------


@transaction.atomic
def issue_calendar_token(*, acting_user: User) -> str:
    """A new private feed token for the user; the previous feed URL stops working. Shown once."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(user=acting_user, defaults={"token_hash": hash_feed_token(token)})
    log_action("timetable.calendar_feed.issued", actor=acting_user)
    return token
