"""Demo step: bells, the weekly timetable, the year's lessons and a few lesson changes.

``step_timetable(build)`` reads what the earlier steps left on the build (``school``, ``year``,
``assignments``, ``rooms``, ``staff``) and adds: one bell schedule, a clash-free weekly timetable for
every class (subgroups of a subject side by side, half-hour loads on alternating weeks), the year's
lessons through the service ``timetable.services.generate_lessons`` (audited as done by the demo
deputy), and a few substitutions and one cancellation in September. Deterministic: its randomness comes
from ``build.rng("timetable")``.

Bulk writer: ``SchoolBuild.bulk`` (``bulk_create``, see ``classbook.demo.bulk``) for the bell schedule,
its bells, ~1,000 timetable entries and five lesson changes; the substitutes are set on their lessons
with ``update_objects``. What the timetable services check holds by construction: no
class, teacher or room is in two places at one bell and weekday (the busy sets), entries are valid for
the whole academic year, a substitute is a teacher of the school free at that hour, changes are recorded
by the deputy and lie in the past of the year's first month.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from classbook.demo.build import SchoolBuild
from classbook.demo.bulk import update_objects
from classbook.journal.models import Lesson
from classbook.timetable import services
from classbook.timetable.models import Bell, BellSchedule, ChangeKind, LessonChange, Parity, TimetableEntry

BELLS = [
    (1, dt.time(8, 30), dt.time(9, 15)),
    (2, dt.time(9, 25), dt.time(10, 10)),
    (3, dt.time(10, 30), dt.time(11, 15)),
    (4, dt.time(11, 35), dt.time(12, 20)),
    (5, dt.time(12, 30), dt.time(13, 15)),
    (6, dt.time(13, 25), dt.time(14, 10)),
    (7, dt.time(14, 20), dt.time(15, 5)),
    (8, dt.time(15, 15), dt.time(16, 0)),
]
WEEKDAYS = range(1, 6)
REASONS = ["Лікарняний", "Курси підвищення кваліфікації", "Відрядження", "Сімейні обставини"]


def _units(assignments: list[Any]) -> dict[int, list[tuple[list[Any], str]]]:
    """Per class: the weekly lessons to place, each a list of assignments taught at the same time
    (the subgroups of a subject in parallel) and its week parity."""
    per_class: dict[int, list[tuple[list[Any], str]]] = defaultdict(list)
    grouped: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for a in assignments:
        if a.subgroup_id:
            grouped[(a.school_class_id, a.subject_id)].append(a)
        else:
            grouped[(a.school_class_id, -a.pk)].append(a)
    for (class_id, _key), group in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        # Subgroups run side by side only when each has its own teacher.
        parallel = len({a.teacher_id for a in group}) == len(group)
        for together in [group] if parallel else [[a] for a in group]:
            hours = max(Decimal(a.hours_per_week) for a in together)
            whole = int(hours)
            per_class[class_id] += [(together, Parity.EVERY)] * whole
            if hours - whole >= Decimal("0.5"):
                per_class[class_id].append((together, Parity.ODD))
    return per_class


def step_timetable(b: SchoolBuild) -> None:
    school, year = b.school, b.year
    deputy = b.staff.get("deputy") or b.staff.get("admin")
    if school is None or year is None or deputy is None or not b.assignments:
        return
    rng = b.rng("timetable")
    (schedule,) = b.bulk(BellSchedule, [BellSchedule(school=school, name="Основний розклад", is_default=True)])
    b.bulk(Bell, [Bell(school=school, schedule=schedule, number=n, start=s, end=e) for n, s, e in BELLS])

    teacher_busy = place_timetable(b, rng, year, list(b.assignments), deputy)
    services.generate_lessons(acting_user=deputy, school=school, start=year.start, end=year.end)
    _changes(b, deputy, rng, teacher_busy)


def place_timetable(
    b: SchoolBuild, rng: Any, year: Any, assignments: list[Any], deputy: Any
) -> set[tuple[int, int, int]]:
    """Write a clash-free weekly timetable of ``assignments`` valid for the whole ``year``; returns the
    teachers' busy (teacher, weekday, number) slots."""
    school = b.school
    slots = [(wd, n) for n, _s, _e in BELLS for wd in WEEKDAYS]  # mornings first, spread over the week
    class_busy: set[tuple[int, int, int]] = set()
    teacher_busy: set[tuple[int, int, int]] = set()
    room_busy: set[tuple[int, int, int]] = set()
    rooms = list(b.rooms)
    entries: list[TimetableEntry] = []
    for index, (class_id, units) in enumerate(_units(assignments).items()):
        home_room = rooms[index] if index < len(rooms) else None
        rng.shuffle(units)
        subject_days: set[tuple[int, int]] = set()
        for together, parity in units:
            teacher_ids = {a.teacher_id for a in together}
            subject_id = together[0].subject_id

            candidates = [
                (wd, n)
                for wd, n in slots
                if (class_id, wd, n) not in class_busy and not any((t, wd, n) in teacher_busy for t in teacher_ids)
            ]
            # Prefer a day that does not have this subject yet, then the earliest lesson number.
            candidates.sort(key=lambda s: ((subject_id, s[0]) in subject_days, s[1]))
            if not candidates:
                continue
            wd, n = candidates[0]
            class_busy.add((class_id, wd, n))
            subject_days.add((subject_id, wd))
            for k, a in enumerate(together):
                teacher_busy.add((a.teacher_id, wd, n))
                room = home_room if k == 0 else None
                if room is not None and (room.pk, wd, n) in room_busy:
                    room = None
                if room is not None:
                    room_busy.add((room.pk, wd, n))
                entries.append(
                    TimetableEntry(
                        school=school,
                        year=year,
                        assignment=a,
                        weekday=wd,
                        number=n,
                        room=room,
                        parity=parity,
                        valid_from=year.start,
                        valid_until=year.end,
                        created_by=deputy,
                    )
                )
    b.bulk(TimetableEntry, entries)
    return teacher_busy


def _changes(b: SchoolBuild, deputy: Any, rng: Any, teacher_busy: set[tuple[int, int, int]]) -> None:
    """A few substitutions (by a teacher free at that hour) and one cancellation in the first month."""
    school, year = b.school, b.year
    assert year is not None
    first_month = list(
        Lesson.objects.filter(school=school, date__lt=year.start + dt.timedelta(days=30))
        .select_related("assignment")
        .order_by("date", "number", "pk")
    )
    if not first_month:
        return
    teacher_ids = sorted({a.teacher_id for a in b.assignments})
    chosen = rng.sample(first_month, min(5, len(first_month)))
    changes: list[LessonChange] = []
    substituted: list[Lesson] = []
    for i, lesson in enumerate(chosen):
        wd = lesson.date.isoweekday()
        if i == 0:
            changes.append(
                LessonChange(
                    school=school,
                    lesson=lesson,
                    kind=ChangeKind.CANCELLED,
                    date=lesson.date,
                    number=lesson.number,
                    teacher_id=lesson.assignment.teacher_id,
                    reason="Карантин",
                    recorded_by=deputy,
                )
            )
            continue
        free = [
            t for t in teacher_ids if t != lesson.assignment.teacher_id and (t, wd, lesson.number) not in teacher_busy
        ]
        if not free:
            continue
        substitute_id = rng.choice(free)
        teacher_busy.add((substitute_id, wd, lesson.number or 0))
        lesson.conducted_by_id = substitute_id
        substituted.append(lesson)
        changes.append(
            LessonChange(
                school=school,
                lesson=lesson,
                kind=ChangeKind.SUBSTITUTED,
                date=lesson.date,
                number=lesson.number,
                teacher_id=lesson.assignment.teacher_id,
                substitute_id=substitute_id,
                reason=rng.choice(REASONS),
                recorded_by=deputy,
            )
        )
    update_objects(Lesson, substituted, ["conducted_by"])
    b.bulk(LessonChange, changes)
