"""Read models of the attendance reports (R6.2): every figure from a database aggregation.

What counts as a missed lesson, an excused one, one for illness, a late arrival and a whole day missed is
``classbook.journal.absences`` — the one definition the diary, the absences page and the letters use; this
module only narrows the rows and groups them:

- :func:`attendance_report` — lessons missed (excused / unexcused / illness), late arrivals and whole days
  missed for any range of days, one line per class, student or subject, with a weekly series for the chart;
- :func:`attendance_sheet` — the class's summary sheet of attendance for a period or the year (every student
  who was in the class, totals);
- :func:`consecutive_absences` — students who missed N or more school days of their class in a row;
- :func:`registers_not_taken` — lessons held on a day whose register was not taken, by class.

Each costs a fixed number of queries whatever the number of students, lessons and absences; Python only
walks aggregated rows (one per group, per student-day or per class-day). docs/reports.md gives the formulas.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from classbook.journal.absences import (
    EXCUSED,
    ILLNESS,
    MISSED,
    Counts,
    absence_counts,
    day_absences,
    held_lessons,
    lessons_had,
)
from classbook.journal.models import Attendance
from classbook.people.models import Enrolment, Student
from classbook.reports import steps
from classbook.schools.models import SchoolClass, TeachingAssignment

GROUPS = ("class", "student", "subject")
MAX_DAYS = 400  # the longest range a report covers (a school year and a summer)

_BY: dict[str, tuple[str, ...]] = {
    "class": (
        "lesson__assignment__school_class_id",
        "lesson__assignment__school_class__name",
        "lesson__assignment__school_class__year_level__number",
    ),
    "student": (
        "student_id",
        "student__user__last_name",
        "student__user__first_name",
        "student__user__patronymic",
    ),
    "subject": ("lesson__assignment__subject_id", "lesson__assignment__subject__name"),
}
CLASS = "lesson__assignment__school_class_id"


def full_name(last: str | None, first: str | None, patronymic: str | None) -> str:
    return " ".join(p for p in (last, first, patronymic) if p)


@dataclass(frozen=True)
class Range:
    """The days a report covers (inclusive) and its optional narrowing."""

    start: dt.date
    end: dt.date
    school_class_id: int | None = None
    subject_id: int | None = None


@dataclass
class AttendanceLine:
    """One line: a class, a student or a subject (or the total)."""

    key: int | None
    label: str
    missed: int = 0
    excused: int = 0
    illness: int = 0
    late: int = 0
    days: int | None = None  # whole days missed; None where the user does not read the whole day
    days_excused: int | None = None  # of them, days whose every missed lesson was excused
    left_on: dt.date | None = None  # a student who left the class before the range's last day
    order: tuple[Any, ...] = ()

    @property
    def unexcused(self) -> int:
        return self.missed - self.excused

    def add(self, counts: Counts) -> None:
        self.missed += counts.missed
        self.excused += counts.excused
        self.illness += counts.illness
        self.late += counts.late


@dataclass
class Week:
    start: dt.date
    excused_illness: int
    excused_other: int
    unexcused: int


@dataclass
class AttendanceReport:
    range: Range
    group_by: str
    lines: list[AttendanceLine] = field(default_factory=list)
    total: AttendanceLine | None = None
    weeks: list[Week] = field(default_factory=list)


def scoped_rows(assignments: QuerySet[TeachingAssignment], scope: Range) -> QuerySet[Attendance]:
    """The attendance rows a report counts: lessons of the user's assignments in the days (and narrowing)."""
    qs = Attendance.objects.filter(
        lesson__assignment__in=assignments.values("pk"), lesson__date__range=(scope.start, scope.end)
    )
    if scope.school_class_id is not None:
        qs = qs.filter(lesson__assignment__school_class_id=scope.school_class_id)
    if scope.subject_id is not None:
        qs = qs.filter(lesson__assignment__subject_id=scope.subject_id)
    return qs


def _day_rows(day_classes: QuerySet[SchoolClass], scope: Range) -> QuerySet[Attendance]:
    """The rows whole days are counted from: every lesson of the classes whose whole day the user reads."""
    qs = Attendance.objects.filter(
        lesson__assignment__school_class__in=day_classes.values("pk"), lesson__date__range=(scope.start, scope.end)
    )
    if scope.school_class_id is not None:
        qs = qs.filter(lesson__assignment__school_class_id=scope.school_class_id)
    return qs


def _label(group_by: str, row: dict[str, Any] | tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """The line's label and sort order from the grouped columns (``_BY``), as a tuple in that order."""
    if group_by == "class":
        _key, name, level = row
        return str(name), (level or 0, str(name))
    if group_by == "student":
        _key, last, first, patronymic = row
        return full_name(last, first, patronymic), ((last or "").lower(), (first or "").lower(), _key)
    _key, name = row
    return str(name), (str(name).lower(),)


def _weeks(rows: QuerySet[Attendance]) -> list[Week]:
    """Missed lessons per week (Monday), split into excused for illness, excused otherwise, unexcused."""
    grouped = (
        rows.order_by()
        .filter(MISSED)
        .annotate(week=TruncWeek("lesson__date"))
        .values("week")
        .annotate(
            missed=Count("pk"),
            excused=Count("pk", filter=EXCUSED),
            excused_illness=Count("pk", filter=EXCUSED & ILLNESS),
        )
        .order_by("week")
    )
    out = []
    for r in grouped:
        week = r["week"].date() if isinstance(r["week"], dt.datetime) else r["week"]
        out.append(Week(week, r["excused_illness"], r["excused"] - r["excused_illness"], r["missed"] - r["excused"]))
    return out


def _students_in(
    school_class_id: int, start: dt.date, end: dt.date
) -> list[tuple[int, str, tuple[Any, ...], dt.date | None]]:
    """Everyone in the class at some time in the days (id, name, order, the day they left if before ``end``)."""
    rows = (
        Enrolment.objects.filter(school_class_id=school_class_id, start__lte=end)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .values("student_id", "student__user__last_name", "student__user__first_name", "student__user__patronymic")
        .annotate(still=Count("id", filter=Q(end__isnull=True) | Q(end__gte=end)), last=Max("end"))
    )
    out = []
    for r in rows:
        last, first, patronymic = (
            r["student__user__last_name"],
            r["student__user__first_name"],
            r["student__user__patronymic"],
        )
        order = ((last or "").lower(), (first or "").lower(), r["student_id"])
        out.append((r["student_id"], full_name(last, first, patronymic), order, None if r["still"] else r["last"]))
    return out


def attendance_report(
    assignments: QuerySet[TeachingAssignment],
    day_classes: QuerySet[SchoolClass],
    scope: Range,
    group_by: str,
    *,
    everyone: bool = False,
) -> AttendanceReport:
    """Lessons and whole days missed by reason kind, one line per class, student or subject: four queries
    (five with ``everyone``, which lists every student of ``scope.school_class_id`` even without absences).

    Whole days need every lesson of the day, so they are counted only in ``day_classes`` (the classes the
    user reads whole: the administration's, the class teacher's) and never on subject lines (a day belongs
    to no subject) nor when the report is narrowed to a subject.
    """
    by = _BY[group_by]
    rows = scoped_rows(assignments, scope)
    report = AttendanceReport(range=scope, group_by=group_by)
    lines: dict[int, AttendanceLine] = {}
    if everyone and scope.school_class_id is not None:
        for sid, name, order, left in _students_in(scope.school_class_id, scope.start, scope.end):
            lines[sid] = AttendanceLine(sid, name, left_on=left, order=order)
    # 1. the counts of the lines (``absence_counts``: the one definition), with the class of each row
    extra = (CLASS,) if group_by == "student" else ()
    classes_of: dict[int, set[int]] = defaultdict(set)
    for key, counts in absence_counts(rows, by=(*by, *extra)).items():
        label, order = _label(group_by, key[: len(by)])
        line = lines.get(key[0])
        if line is None:
            line = lines[key[0]] = AttendanceLine(key[0], label, order=order)
        line.add(counts)
        if extra:
            classes_of[key[0]].add(key[-1])
    steps.advance()  # a background run's steps (``runs.SCHOOL_EXPORTS``): the counts,
    # 2. whole days, from every lesson of the classes the user reads whole
    if group_by != "subject" and scope.subject_id is None:
        narrowed = day_classes.filter(pk=scope.school_class_id) if scope.school_class_id else day_classes
        readable_ids = set(narrowed.values_list("pk", flat=True))
        for line in lines.values():
            eligible = (
                line.key in readable_ids
                if group_by == "class"
                else bool(classes_of.get(line.key or 0, set()) & readable_ids) or (everyone and bool(readable_ids))
            )
            if eligible:
                line.days, line.days_excused = 0, 0
        for (student_id, class_id), days in day_absences(
            _day_rows(day_classes, scope), by=("student_id", CLASS)
        ).items():
            line = lines.get(class_id if group_by == "class" else student_id)
            if line is None or line.days is None or line.days_excused is None:
                continue
            line.days += sum(1 for d in days if d.whole)
            line.days_excused += sum(1 for d in days if d.whole_excused)
    report.lines = sorted(lines.values(), key=lambda line: line.order)
    steps.advance()  # whole days,
    # 3. the weekly series of the chart
    report.weeks = _weeks(rows)
    steps.advance()  # the weeks
    total = AttendanceLine(None, _("Total"))
    with_days = [line for line in report.lines if line.days is not None]
    for line in report.lines:
        total.missed += line.missed
        total.excused += line.excused
        total.illness += line.illness
        total.late += line.late
    if with_days and len(with_days) == len(report.lines):
        total.days = sum(line.days or 0 for line in with_days)
        total.days_excused = sum(line.days_excused or 0 for line in with_days)
    report.total = total
    return report


def attendance_sheet(
    assignments: QuerySet[TeachingAssignment], school_class: SchoolClass, start: dt.date, end: dt.date
) -> AttendanceReport:
    """The class's summary sheet of attendance (R6.2): every student who was in the class in the days,
    lessons of the class missed (excused / unexcused / illness), whole days missed, late arrivals; totals.
    The caller reads the class whole (``access.reports.attendance_classes``)."""
    day_classes = SchoolClass.objects.filter(pk=school_class.pk)
    return attendance_report(
        assignments, day_classes, Range(start, end, school_class_id=school_class.pk), "student", everyone=True
    )


# --- Consecutive absences --------------------------------------------------------------------------


@dataclass
class Streak:
    student_id: int
    name: str
    school_class: str
    first: dt.date
    last: dt.date
    days: int  # school days of the class in a row, every one missed whole


def consecutive_absences(day_classes: QuerySet[SchoolClass], scope: Range, at_least: int) -> list[Streak]:
    """Students who missed ``at_least`` or more of their school days in a row (whole days): the student-days
    with a missed lesson (``day_absences``, four queries), the class's school days (days with a held lesson),
    the lessons each student found had on those days (``lessons_had``, three), the names of the students."""
    rows = _day_rows(day_classes, scope)
    whole: dict[tuple[int, int], set[dt.date]] = defaultdict(set)
    for (student_id, class_id), days in day_absences(rows, by=("student_id", CLASS)).items():
        whole[(student_id, class_id)].update(d.date for d in days if d.whole)
    whole = {k: v for k, v in whole.items() if len(v) >= at_least}
    if not whole:
        return []
    class_ids = {c for _s, c in whole}
    school_days: dict[int, list[dt.date]] = defaultdict(list)
    class_names: dict[int, str] = {}
    for class_id, name, day in (
        held_lessons()
        .filter(assignment__school_class_id__in=class_ids, date__range=(scope.start, scope.end))
        .order_by("assignment__school_class_id", "date")
        .values_list("assignment__school_class_id", "assignment__school_class__name", "date")
        .distinct()
    ):
        school_days[class_id].append(day)
        class_names[class_id] = name
    # A student's school days are those of the class on which they had a lesson (``lessons_had``): a day with
    # only another subgroup's lessons, or before they joined the class, neither counts nor breaks a run.
    had = lessons_had((student_id, day) for student_id, class_id in whole for day in school_days[class_id])
    streaks: list[Streak] = []
    for (student_id, class_id), missed in whole.items():
        run: list[dt.date] = []
        expected = [day for day in school_days[class_id] if had.get((student_id, day))]
        ends: list[dt.date | None] = [*expected, None]
        for when in ends:
            if when is not None and when in missed:
                run.append(when)
                continue
            if len(run) >= at_least:
                streaks.append(Streak(student_id, "", class_names[class_id], run[0], run[-1], len(run)))
            run = []
    names = {
        r["pk"]: (full_name(r["user__last_name"], r["user__first_name"], r["user__patronymic"]), r["user__last_name"])
        for r in _student_names({s.student_id for s in streaks})
    }
    for s in streaks:
        s.name = names.get(s.student_id, ("", ""))[0]
    streaks.sort(key=lambda s: (s.school_class, s.name.lower(), s.first))
    return streaks


def _student_names(ids: Iterable[int]) -> QuerySet[Any]:
    return Student.objects.filter(pk__in=list(ids)).values(
        "pk", "user__last_name", "user__first_name", "user__patronymic"
    )


# --- Registers not taken -----------------------------------------------------------------------------

# A held lesson's register is not taken while ``Lesson.register_taken_at`` is empty: no attendance recorded at
# it and the register not marked taken with nobody absent. The one definition: this report, the journal
# filling report (``reports.filling``) and the quality indicator read it.
REGISTER_NOT_TAKEN = Q(register_taken_at__isnull=True)


@dataclass
class MissingRegister:
    lesson_id: int
    number: int | None
    subject: str
    teacher: str  # who gave (or was to give) the lesson: the substitute when there was one
    substitute: bool


@dataclass
class ClassRegisters:
    class_id: int
    name: str
    held: int  # lessons held that day in the user's scope
    missing: list[MissingRegister] = field(default_factory=list)


def registers_not_taken(assignments: QuerySet[TeachingAssignment], day: dt.date) -> list[ClassRegisters]:
    """Classes with lessons held on ``day`` whose register was not taken (``Lesson.register_taken_at`` is
    empty: no attendance recorded and the register not marked taken), with those lessons: two queries."""
    lessons = held_lessons().filter(assignment__in=assignments.values("pk"), date=day)
    classes = {
        r["assignment__school_class_id"]: ClassRegisters(
            r["assignment__school_class_id"], r["assignment__school_class__name"], r["held"]
        )
        for r in lessons.order_by()
        .values("assignment__school_class_id", "assignment__school_class__name")
        .annotate(held=Count("pk"), missing=Count("pk", filter=REGISTER_NOT_TAKEN))
        if r["missing"]
    }
    if not classes:
        return []
    missing = (
        lessons.filter(REGISTER_NOT_TAKEN)
        .order_by("assignment__school_class_id", "number", "pk")
        .values(
            "pk",
            "number",
            "assignment__school_class_id",
            "assignment__subject__name",
            "assignment__teacher__last_name",
            "assignment__teacher__first_name",
            "assignment__teacher__patronymic",
            "conducted_by__last_name",
            "conducted_by__first_name",
            "conducted_by__patronymic",
        )
    )
    for r in missing:
        row: dict[str, Any] = dict(r)
        who = "conducted_by" if row["conducted_by__last_name"] is not None else "assignment__teacher"
        classes[r["assignment__school_class_id"]].missing.append(
            MissingRegister(
                r["pk"],
                r["number"],
                r["assignment__subject__name"],
                full_name(row[f"{who}__last_name"], row[f"{who}__first_name"], row[f"{who}__patronymic"]),
                who == "conducted_by",
            )
        )
    return sorted(classes.values(), key=lambda c: c.name)


__all__ = [
    "GROUPS",
    "MAX_DAYS",
    "REGISTER_NOT_TAKEN",
    "AttendanceLine",
    "AttendanceReport",
    "ClassRegisters",
    "Range",
    "Streak",
    "attendance_report",
    "attendance_sheet",
    "consecutive_absences",
    "registers_not_taken",
]
