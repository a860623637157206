"""Read models for the journal pages: the index of journals and the grid (R2.1-R2.3, R2.6, R2.8).

The grid is built from a fixed handful of queries (students, lessons, marks and attendance, period
grades, remarks, attendance codes, periods), each returning plain values; the matrix is assembled in
Python, so the number of queries does not grow with students × lessons.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import pgettext

from classbook.access.context import SchoolContext
from classbook.access.journal import may_read_assignment
from classbook.access.rules import Perm
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    GradeKind,
    JournalChange,
    JournalPolicy,
    Lesson,
    LessonType,
    Mark,
    PeriodGrade,
    Remark,
    WorkType,
)
from classbook.journal.rules import StudentNotes, period_grade_notes, policy_or_default
from classbook.journal.rules import required_marks as rules_required_marks
from classbook.people.models import Enrolment, Student
from classbook.schools.averages import format_average, mean
from classbook.schools.models import ScaleValue, School, StudyPeriod, TeachingAssignment
from classbook.timetable.models import ChangeKind as TimetableChangeKind

CANCELLED = TimetableChangeKind.CANCELLED.value

# Ukrainian and Russian letters in one order that is right for both alphabets; the database's
# collation (bytes on SQLite) would put "Є", "І", "Ї" before "А".
_ALPHABET = "абвгґдеєёжзиіїйклмнопрстуфхцчшщъыьэюя"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}


def alphabet_key(*parts: str) -> tuple[tuple[int, ...], ...]:
    """Sort key for names in the order of the Ukrainian/Russian alphabet (apostrophes ignored)."""
    return tuple(tuple(_RANK.get(ch, 100 + ord(ch)) for ch in part.lower() if ch not in "'’ʼ`-") for part in parts)


# --- Index ----------------------------------------------------------------


@dataclass
class JournalEntry:
    id: int
    subject: str
    group: str
    teacher: str
    teacher_id: int
    class_id: int
    subject_id: int
    hours: Decimal
    relation: str  # "own", "homeroom", "substitute", "control"
    editable: bool


def journal_index(assignments: QuerySet[TeachingAssignment], ctx: Any) -> list[JournalEntry]:
    """Journals in ``assignments`` (already scoped) for the index page: the user's own first (R1.4)."""
    order = {"own": 0, "homeroom": 1, "substitute": 2, "control": 3}
    controls = ctx.has(Perm.VIEW_ALL_JOURNALS)
    entries = []
    for a in assignments:
        if a.teacher_id == ctx.user.pk:
            relation = "own"
        elif a.school_class_id in ctx.homeroom_class_ids:
            relation = "homeroom"
        elif controls:
            relation = "control"
        else:
            # Scoping lets a plain teacher read another journal only where they substituted (R2.9).
            relation = "substitute"
        entries.append(
            JournalEntry(
                id=a.pk,
                subject=a.subject.name,
                group=str(a.subgroup) if a.subgroup_id else a.school_class.name,
                teacher=a.teacher.short_name,
                teacher_id=a.teacher_id,
                class_id=a.school_class_id,
                subject_id=a.subject_id,
                hours=a.hours_per_week,
                relation=relation,
                editable=relation == "own",
            )
        )
    entries.sort(key=lambda e: (order[e.relation], alphabet_key(e.group, e.subject)))
    return entries


# --- Grid -----------------------------------------------------------------


@dataclass
class PeriodChoice:
    id: int | None
    name: str
    start: dt.date
    end: dt.date
    depth: int = 0

    @property
    def indent(self) -> str:
        return "– " * self.depth


@dataclass
class GridLesson:
    id: int
    date: dt.date
    number: int | None
    topic: str
    lesson_type: str
    lesson_type_label: str
    homework: str
    homework_due: dt.date | None
    teacher: str
    is_substitute: bool
    version: int
    editable: bool
    is_future: bool
    register_taken: bool
    is_today: bool = False
    in_part: bool = True
    date_short: str = ""  # 05.10
    day_label: str = ""  # Пн 05.10.2026
    due_iso: str = ""
    cancelled: bool = False  # the timetable's lesson change says the lesson did not take place (R4.2)
    planned_topic: str = ""  # the calendar-thematic plan's suggestion while the topic is empty (R3.1)


@dataclass
class GridColumn:
    """A dated column: a lesson's own cell (mark of the default work type and attendance), or a
    work column holding the slot-0 mark of another work type at that lesson (a control work …)."""

    lesson: GridLesson
    work_type_id: int | None = None
    short: str = ""  # the work type's short name, under the date
    name: str = ""
    editable: bool = False


@dataclass
class PeriodColumn:
    kind: str
    ordinal: int
    title: str
    theme: str = ""  # a thematic column's stored (or newly typed) title


@dataclass
class GridRow:
    id: int
    name: str
    left_on: dt.date | None
    start: dt.date | None = None
    end: dt.date | None = None
    whole_period: bool = True
    # Per lesson id: (code, version, late) of the primary mark and of the attendance entry; the
    # other marks of a lesson as "short work type: code" texts.
    marks: dict[int, tuple[str, int, bool]] = field(default_factory=dict)
    attendance: dict[int, tuple[str, int, bool]] = field(default_factory=dict)
    extras: dict[int, list[str]] = field(default_factory=dict)
    # Per (lesson id, work type id): (code, version, late) of the marks shown in work columns.
    work: dict[tuple[int, int], tuple[str, int, bool]] = field(default_factory=dict)
    lessons: list[GridLesson] = field(default_factory=list)
    # Per period column: (code, locked, version).
    period_values: list[tuple[str, bool, int]] = field(default_factory=list)
    count: int = 0
    average: str = ""

    def state(self, lesson: GridLesson) -> str:
        """ "na" outside the student's enrolment, else "cancelled", "future" or ""."""
        if not self.whole_period and (
            (self.start is not None and lesson.date < self.start) or (self.end is not None and lesson.date > self.end)
        ):
            return "na"
        return "cancelled" if lesson.cancelled else "future" if lesson.is_future else ""

    @property
    def cells(self) -> list[tuple[int, str, str, bool, str, list[str] | None]]:
        """Per lesson: (lesson id, display, version token, late, state, other marks)."""
        out = []
        for lesson in self.lessons:
            m = self.marks.get(lesson.id) or ("", 0, False)
            a = self.attendance.get(lesson.id) or ("", 0, False)
            out.append(
                (
                    lesson.id,
                    cell_display(a[0], m[0]),
                    version_token(m[1], a[1]),
                    m[2] or a[2],
                    self.state(lesson),
                    self.extras.get(lesson.id),
                )
            )
        return out


@dataclass
class Grid:
    period: PeriodChoice
    periods: list[PeriodChoice]
    lessons: list[GridLesson]
    rows: list[GridRow]
    period_columns: list[PeriodColumn]
    required: int
    remarks: list[dict[str, Any]]
    attendance_codes: list[dict[str, Any]]
    can_add_lesson: bool
    can_edit_any: bool
    lesson_part: list[GridLesson] = field(default_factory=list)
    all_lessons_shown: bool = True
    # The assignment's teacher sets thematic, period, annual and exam grades in the grid (R2.5).
    period_editable: bool = False
    # The dated columns in order: every lesson's own column, each followed by its work columns.
    columns: list[GridColumn] = field(default_factory=list)
    # Work types a teacher may add a column of (active, not the default one): (id, name).
    work_type_choices: list[tuple[int, str]] = field(default_factory=list)
    # Per student: the school's rules on the period grades (accumulation flag, annual basis), issue 10.
    notes: dict[int, StudentNotes] = field(default_factory=dict)


# The lesson part shows the lessons a teacher works on (the latest ones and the next few) unless
# all are asked for: a hundred lesson forms are a long page on a phone and a slow one to render.
RECENT_LESSONS = 10
COMING_LESSONS = 5


def lesson_part(lessons: list[GridLesson], *, show_all: bool) -> list[GridLesson]:
    """Today and past lessons newest first, then the coming ones (R2.1, R2.3)."""
    past = [lesson for lesson in reversed(lessons) if not lesson.is_future]
    coming = [lesson for lesson in lessons if lesson.is_future]
    if not show_all:
        past, coming = past[:RECENT_LESSONS], coming[:COMING_LESSONS]
    return past + coming


def assignment_for_grid(assignments: QuerySet[TeachingAssignment], pk: Any) -> QuerySet[TeachingAssignment]:
    """The one scoped assignment ``pk`` with what the grid needs joined in (the default work type too).

    The scope (``assignments``) is applied as a subquery narrowed to ``pk``: its DISTINCT over a join
    with the lessons then stays small (selecting the wide row with DISTINCT cost 6 ms on PostgreSQL).
    Pages use ``readable_assignment`` (one cheaper query); this queryset form serves callers that chain.
    """
    return (
        TeachingAssignment.objects.filter(pk=pk, pk__in=assignments.filter(pk=pk).values("pk"))
        .select_related("teacher", "school", "school_class__year_level", "subgroup", "subject", "year")
        .annotate(default_work_type_id=_default_work_type())
    )


def _default_work_type() -> Subquery:
    default_wt = WorkType.objects.filter(school=OuterRef("school"), is_active=True).order_by("ordinal", "id")
    return Subquery(default_wt.values("id")[:1], output_field=IntegerField())


def readable_assignment(ctx: SchoolContext, pk: Any) -> TeachingAssignment | None:
    """The assignment ``pk`` of the context's school if the user may read its journal, else None.

    One query with what the grid needs joined in; the access rule is then decided from the row
    (``access.journal.may_read_assignment``: no subquery, except one for a substitute teacher). A
    scope subquery in this query cost 5-9 ms of PostgreSQL planning and ORM compilation per page.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    rows = list(
        TeachingAssignment.objects.filter(pk=pk, school_id=ctx.school.pk)
        .select_related("teacher", "school_class__year_level", "subgroup", "subject", "year")
        .annotate(default_work_type_id=_default_work_type())
    )
    if not rows or not may_read_assignment(ctx, rows[0]):
        return None
    rows[0].school = ctx.school
    return rows[0]


def _periods(assignment: TeachingAssignment) -> list[PeriodChoice]:
    rows = list(
        StudyPeriod.objects.filter(school_id=assignment.school_id, year_id=assignment.year_id)
        .order_by("start", "-end")
        .values("id", "name", "start", "end", "parent_id")
    )
    depth: dict[int, int] = {}
    out = []
    for r in rows:
        d = depth.get(r["parent_id"], -1) + 1 if r["parent_id"] else 0
        depth[r["id"]] = d
        out.append(PeriodChoice(r["id"], r["name"], r["start"], r["end"], d))
    return out


def choose_period(periods: list[PeriodChoice], wanted: Any, today: dt.date, year: Any) -> PeriodChoice:
    """The asked period, else the shortest one containing today, else the last one before today."""
    if wanted:
        for p in periods:
            if str(p.id) == str(wanted):
                return p
    if not periods:
        return PeriodChoice(None, year.name, year.start, year.end)
    containing = [p for p in periods if p.start <= today <= p.end]
    if containing:
        return min(containing, key=lambda p: (p.end - p.start, p.start))
    past = [p for p in periods if p.end < today]
    if past:
        return max(past, key=lambda p: (p.end, -(p.end - p.start).days))
    return min(periods, key=lambda p: (p.start, p.end - p.start))


def _name(first: str, last: str, patronymic: str) -> str:
    return " ".join(p for p in (last, first, patronymic) if p)


def _short(first: str, last: str, patronymic: str) -> str:
    initials = "".join(f"{p[0]}." for p in (first, patronymic) if p)
    return f"{last} {initials}".strip()


def version_token(mark_version: int, attendance_version: int) -> str:
    """A cell holds a mark and an attendance entry, each versioned; the client sends both back."""
    return f"{mark_version}.{attendance_version}"


def cell_display(attendance: str, mark: str) -> str:
    return " ".join(p for p in (attendance, mark) if p)


# Row kinds of the grid's one UNION ALL query.
_MARK, _ATTENDANCE, _GRADE, _VALUE, _WORK_TYPE, _CODE, _POLICY = range(7)


@functools.cache
def _cells_sql() -> str:
    """The grid's facts and dimensions as one UNION ALL, its text built once per process.

    Every arm has the same 11 columns: (kind, a, b, work type, slot/ordinal, ref, version, flag,
    text, title, number). Facts (marks, attendance, period grades) carry ids only; the dimension arms
    (the school's scale values, work types and attendance codes: a few dozen rows) resolve them in
    Python. The ORM spent ~2 ms compiling the equivalent queryset and the database ~1.5 ms joining
    4,000 fact rows to their values one index lookup at a time.
    """
    t = {
        m.__name__: connection.ops.quote_name(m._meta.db_table)
        for m in (Mark, Attendance, PeriodGrade, Lesson, WorkType, AttendanceCode, ScaleValue, JournalPolicy)
    }
    q = connection.ops.quote_name
    i, txt, num, flag = "CAST(NULL AS INTEGER)", "CAST(NULL AS VARCHAR(120))", "CAST(NULL AS DOUBLE PRECISION)", "FALSE"
    date = q("date")
    in_period = f"l.assignment_id = %(assignment)s AND l.{date} >= %(start)s AND l.{date} <= %(end)s"
    # Only table and column names from model metadata go into the text; every value is a parameter.
    return f"""
SELECT {_MARK}, m.lesson_id, m.student_id, m.work_type_id, m.slot, m.value_id, m.version, m.is_late,
  {txt}, {txt}, {num}
FROM {t["Mark"]} m JOIN {t["Lesson"]} l ON l.id = m.lesson_id WHERE {in_period}
UNION ALL
SELECT {_ATTENDANCE}, a.lesson_id, a.student_id, {i}, 0, a.code_id, a.version, a.is_late, {txt}, {txt}, {num}
FROM {t["Attendance"]} a JOIN {t["Lesson"]} l ON l.id = a.lesson_id WHERE {in_period}
UNION ALL
SELECT {_GRADE}, g.student_id, {i}, {i}, g.ordinal, g.value_id, g.version, g.locked_at IS NOT NULL,
  g.kind, g.title, {num}
FROM {t["PeriodGrade"]} g
WHERE g.assignment_id = %(assignment)s AND (g.period_id = %(period)s OR g.kind IN (%(annual)s, %(exam)s))
UNION ALL
SELECT {_VALUE}, v.id, {i}, {i}, v.ordinal, {i}, 0, {flag}, v.code, {txt}, CAST(v.{q("numeric")} AS DOUBLE PRECISION)
FROM {t["ScaleValue"]} v WHERE v.school_id = %(school)s
UNION ALL
SELECT {_WORK_TYPE}, w.id, {i}, {i}, w.ordinal, {i}, 0, w.is_active, w.short_name, w.name,
  CAST(w.weight AS DOUBLE PRECISION)
FROM {t["WorkType"]} w WHERE w.school_id = %(school)s
UNION ALL
SELECT {_CODE}, c.id, {i}, {i}, c.ordinal, {i}, 0, c.is_active, c.code, c.name, {num}
FROM {t["AttendanceCode"]} c WHERE c.school_id = %(school)s
UNION ALL
SELECT {_POLICY}, p.min_marks_one_hour, p.min_marks_more_hours, {i}, 0, {i}, 0, p.weighted_averages,
  {txt}, {txt}, {num}
FROM {t["JournalPolicy"]} p WHERE p.school_id = %(school)s"""  # noqa: S608


def build_grid(
    ctx: Any,
    assignment: TeachingAssignment,
    *,
    period_id: Any = None,
    today: dt.date | None = None,
    all_lessons: bool = False,
    add_columns: list[tuple[Any, Any]] | None = None,
    new_theme: str = "",
) -> Grid:
    """Everything the grid page shows, from 7 queries whatever the number of students and lessons."""
    today = today or timezone.localdate()
    user = ctx.user
    school_id = assignment.school_id
    periods = _periods(assignment)  # 1
    period = choose_period(periods, period_id, today, assignment.year)
    is_teacher = assignment.teacher_id == user.pk and not ctx.is_read_only

    # 2: students enrolled in the class at any time during the period (subgroup members only).
    enrolments = Enrolment.objects.filter(
        school_id=school_id, school_class_id=assignment.school_class_id, start__lte=period.end
    ).exclude(end__lt=period.start)
    if assignment.subgroup_id:
        enrolments = enrolments.filter(student__subgroups=assignment.subgroup_id)
    students = sorted(
        enrolments.values(
            "student_id",
            "start",
            "end",
            "student__user__first_name",
            "student__user__last_name",
            "student__user__patronymic",
        ),
        key=lambda r: alphabet_key(
            r["student__user__last_name"], r["student__user__first_name"], r["student__user__patronymic"]
        ),
    )

    # 3: lessons of the period with the substitute's name.
    lesson_rows = (
        Lesson.objects.filter(assignment_id=assignment.pk, date__gte=period.start, date__lte=period.end)
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
            "conducted_by__first_name",
            "conducted_by__last_name",
            "conducted_by__patronymic",
            # A LEFT JOIN to the timetable's lesson change (one per lesson): no extra query.
            "timetable_change__kind",
            # Likewise the plan's suggested topic (planning.LessonBinding, one per lesson).
            "plan_binding__suggested_topic",
        )
    )
    type_labels = {value: str(label) for value, label in LessonType.choices}
    weekdays = [str(WEEKDAYS_ABBR[i]) for i in range(7)]
    teacher_short = assignment.teacher.short_name
    lessons = []
    for r in lesson_rows:
        sub = r["conducted_by_id"] is not None and r["conducted_by_id"] != assignment.teacher_id
        editable = not ctx.is_read_only and (
            assignment.teacher_id == user.pk or (r["conducted_by_id"] is not None and r["conducted_by_id"] == user.pk)
        )
        lessons.append(
            GridLesson(
                id=r["id"],
                date=r["date"],
                number=r["number"],
                topic=r["topic"],
                lesson_type=r["lesson_type"],
                lesson_type_label=str(type_labels.get(r["lesson_type"], r["lesson_type"])),
                homework=r["homework"],
                homework_due=r["homework_due"],
                teacher=_short(
                    r["conducted_by__first_name"], r["conducted_by__last_name"], r["conducted_by__patronymic"]
                )
                if sub
                else teacher_short,
                is_substitute=sub,
                version=r["version"],
                editable=editable,
                is_future=r["date"] > today,
                register_taken=r["register_taken_at"] is not None,
                is_today=r["date"] == today,
                date_short=r["date"].strftime("%d.%m"),
                day_label=f"{weekdays[r['date'].weekday()]} {r['date']:%d.%m.%Y}",
                due_iso=r["homework_due"].isoformat() if r["homework_due"] else "",
                cancelled=r["timetable_change__kind"] == CANCELLED,
                planned_topic=r["plan_binding__suggested_topic"] or "",
            )
        )

    # 4: marks, attendance, period grades and the school's scale values, work types and attendance
    # codes in one round trip (a UNION ALL of fixed text, see _cells_sql); facts carry ids, resolved
    # through the small dimension rows in Python instead of 4,000 index lookups in the database.
    values: dict[int, tuple[str, float | None]] = {}
    work_types: dict[int, tuple[float, str]] = {}
    work_type_rows: list[tuple[int, int, bool, str, str, float]] = []
    code_rows: list[tuple[int, int, bool, str, str]] = []
    facts = []
    # The school's journal rules (R2.6); the defaults while the school has no row yet.
    defaults = JournalPolicy()
    min_one, min_more, weighted = defaults.min_marks_one_hour, defaults.min_marks_more_hours, defaults.weighted_averages
    with connection.cursor() as cursor:
        cursor.execute(
            _cells_sql(),
            {
                "assignment": assignment.pk,
                "school": school_id,
                "start": period.start,
                "end": period.end,
                "period": period.id,
                "annual": GradeKind.ANNUAL.value,
                "exam": GradeKind.EXAM.value,
            },
        )
        for row in cursor.fetchall():
            kind = row[0]
            if kind == _VALUE:
                values[row[1]] = (row[8], row[10])
            elif kind == _WORK_TYPE:
                weight = 1.0 if row[10] is None else row[10]
                work_types[row[1]] = (weight, row[8] or "")
                work_type_rows.append((row[1], row[4], bool(row[7]), row[8] or "", row[9] or "", weight))
            elif kind == _CODE:
                code_rows.append((row[1], row[4], bool(row[7]), row[8], row[9]))
            elif kind == _POLICY:
                min_one, min_more, weighted = row[1], row[2], bool(row[7])
            else:
                facts.append(row)
    default_wt = getattr(assignment, "default_work_type_id", None)
    # Per student, per lesson: (code, version, late).
    primary: dict[int, dict[int, tuple[str, int, bool]]] = defaultdict(dict)
    attendance: dict[int, dict[int, tuple[str, int, bool]]] = defaultdict(dict)
    extras: dict[int, dict[int, list[str]]] = defaultdict(dict)
    work: dict[int, dict[tuple[int, int], tuple[str, int, bool]]] = defaultdict(dict)
    work_pairs: set[tuple[int, int]] = set()
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    acc: list[float] | None  # a running sum while marks are read, then each student's (if any)
    counts: dict[int, int] = defaultdict(int)
    codes_by_id = {c[0]: c[3] for c in code_rows}
    grades: dict[tuple[int, str, int], tuple[str, bool, int]] = {}
    thematic: dict[int, str] = {}
    kinds_present: set[str] = set()
    no_value = ("", None)
    for kind, a, b, wt, slot, ref, version, late, text, title, _num in facts:
        if kind == _MARK:
            code, numeric = values.get(ref, no_value) if ref is not None else no_value
            if code:
                counts[b] += 1
                if numeric is not None:
                    w = work_types[wt][0] if weighted else 1.0
                    acc = sums[b]
                    acc[0] += numeric * w
                    acc[1] += w
            if wt == default_wt and slot == 0:
                primary[b][a] = (code, version, bool(late))
            elif slot == 0:
                # Another work type's first mark at this lesson has a column of its own.
                work[b][(a, wt)] = (code, version, bool(late))
                if code:
                    work_pairs.add((a, wt))
            elif code:
                wt_short = work_types[wt][1]
                extras[b].setdefault(a, []).append(f"{wt_short}: {code}" if wt_short else code)
        elif kind == _ATTENDANCE:
            attendance[b][a] = (codes_by_id.get(ref, "") if ref is not None else "", version, bool(late))
        else:  # a period grade: a = student, text = kind, slot = ordinal, title
            grades[(a, text, slot)] = (values.get(ref, no_value)[0], bool(late), version)
            kinds_present.add(text)
            if text == GradeKind.THEMATIC:
                thematic.setdefault(slot, title)
    leaf_ends = [p.end for p in periods]
    is_last = not periods or period.end >= max(leaf_ends)
    labels = dict(GradeKind.choices)
    # A new thematic column the teacher named ("New thematic column"): the next theme number; it is
    # stored with its first grade.
    new_theme = (new_theme or "").strip()[:120]
    if new_theme and is_teacher and period.id is not None:
        thematic[max(thematic, default=0) + 1] = new_theme
    columns = [
        PeriodColumn(GradeKind.THEMATIC, o, t or f"{labels[GradeKind.THEMATIC]} {o}", t)
        for o, t in sorted(thematic.items())
    ]
    columns.append(PeriodColumn(GradeKind.PERIOD, 0, str(labels[GradeKind.PERIOD])))
    columns.append(PeriodColumn(GradeKind.CORRECTED, 0, str(labels[GradeKind.CORRECTED])))
    for kind in (GradeKind.ANNUAL, GradeKind.EXAM):
        if is_last or kind in kinds_present:
            columns.append(PeriodColumn(kind, 0, str(labels[kind])))

    # Work columns: every (lesson, work type) with a mark in the period, and those the teacher asked
    # for (``add_columns``: an active work type at a lesson they may write).
    active = {w[0]: w for w in work_type_rows if w[2] and w[0] != default_wt}
    lesson_by_id = {lesson.id: lesson for lesson in lessons}
    for lesson_id, wt_id in add_columns or ():
        try:
            pair = (int(lesson_id), int(wt_id))
        except (TypeError, ValueError):
            continue
        if pair[1] in active and pair[0] in lesson_by_id and lesson_by_id[pair[0]].editable:
            work_pairs.add(pair)
    by_lesson: dict[int, list[int]] = defaultdict(list)
    wt_order = {w[0]: (w[1], w[0]) for w in work_type_rows}
    for lesson_id, wt_id in sorted(work_pairs, key=lambda p: wt_order.get(p[1], (0, p[1]))):
        by_lesson[lesson_id].append(wt_id)
    wt_names = {w[0]: (w[3], w[4]) for w in work_type_rows}
    grid_columns = []
    for lesson in lessons:
        grid_columns.append(GridColumn(lesson, editable=lesson.editable))
        for wt_id in by_lesson.get(lesson.id, ()):
            short, name = wt_names.get(wt_id, ("", ""))
            grid_columns.append(
                GridColumn(lesson, wt_id, short or name[:4], name, editable=lesson.editable and wt_id in active)
            )

    # The students × lessons matrix is not expanded here: each row keeps its student's int-keyed
    # dictionaries and the template tag walks them once while it writes the HTML (GridRow.cells
    # expands them for other readers).
    rows = []
    none: dict[Any, Any] = {}
    no_grade = ("", False, 0)
    for s in students:
        sid = s["student_id"]
        start, end = s["start"], s["end"]
        acc = sums.get(sid)
        rows.append(
            GridRow(
                id=sid,
                name=_name(
                    s["student__user__first_name"], s["student__user__last_name"], s["student__user__patronymic"]
                ),
                left_on=end if end is not None and end < today else None,
                start=start,
                end=end,
                whole_period=start <= period.start and (end is None or end >= period.end),
                marks=primary.get(sid, none),
                attendance=attendance.get(sid, none),
                extras=extras.get(sid, none),
                work=work.get(sid, none),
                lessons=lessons,
                period_values=[grades.get((sid, c.kind, c.ordinal), no_grade) for c in columns],
                count=counts.get(sid, 0),
                average=format_average(mean(acc[0], acc[1], ctx.school), ctx.school) if acc else "",
            )
        )

    # 6: open control remarks (R6.10).
    remarks = [
        {
            "id": r["id"],
            "text": r["text"],
            "author": _short(r["author__first_name"], r["author__last_name"], r["author__patronymic"]),
            "created_at": r["created_at"],
            "lesson_date": r["lesson__date"],
            "student": _short(
                r["student__user__first_name"] or "",
                r["student__user__last_name"] or "",
                r["student__user__patronymic"] or "",
            ),
        }
        for r in Remark.objects.filter(assignment_id=assignment.pk, fixed_at__isnull=True)
        .order_by("-created_at")
        .values(
            "id",
            "text",
            "created_at",
            "author__first_name",
            "author__last_name",
            "author__patronymic",
            "lesson__date",
            "student__user__first_name",
            "student__user__last_name",
            "student__user__patronymic",
        )
    ]
    # The school's attendance codes (from query 4), so the page knows which typed text is attendance.
    # Retired codes (not in use) still show on old records (codes_by_id) but are not offered.
    codes = [{"code": c[3], "name": c[4]} for c in sorted(code_rows, key=lambda c: (c[1], c[0])) if c[2]]
    # +4 queries (+5 with the annual column): the school's rules on the period grades, issue 10
    # (rules.period_grade_notes: the one accumulation count and annual rule the API and services use too).
    notes = period_grade_notes(assignment, period, annual=any(c.kind == GradeKind.ANNUAL for c in columns))
    part = lesson_part(lessons, show_all=all_lessons)
    if len(part) < len(lessons):
        shown = {lesson.id for lesson in part}
        for lesson in lessons:
            lesson.in_part = lesson.id in shown
    return Grid(
        lesson_part=part,
        all_lessons_shown=len(part) == len(lessons),
        period=period,
        periods=periods,
        lessons=lessons,
        rows=rows,
        period_columns=columns,
        required=min_more if assignment.hours_per_week >= 2 else min_one,
        remarks=remarks,
        attendance_codes=codes,
        can_add_lesson=is_teacher,
        can_edit_any=any(lesson.editable for lesson in lessons) or (is_teacher and period.id is not None),
        period_editable=is_teacher and period.id is not None,
        columns=grid_columns,
        work_type_choices=[(w[0], w[4]) for w in sorted(active.values(), key=lambda w: (w[1], w[0]))],
        notes=notes,
    )


# --- Cells: lookups and current state for the save and history endpoints -----------------------


def assignment_lesson(assignment: TeachingAssignment, lesson_id: Any) -> Lesson | None:
    """A lesson of this (already authorised) assignment, loaded with what the services read."""
    try:
        pk = int(lesson_id)
    except (TypeError, ValueError):
        return None
    return (
        Lesson.objects.filter(assignment_id=assignment.pk, pk=pk)
        .select_related("school", "assignment__subject__scale", "assignment__school_class__year_level__scale")
        .first()
    )


def assignment_period(assignment: TeachingAssignment, period_id: Any) -> StudyPeriod | None:
    """A study period of the assignment's academic year (period grades are set per period)."""
    try:
        pk = int(period_id)
    except (TypeError, ValueError):
        return None
    return StudyPeriod.objects.filter(school_id=assignment.school_id, year_id=assignment.year_id, pk=pk).first()


def lesson_is_cancelled(lesson: Lesson) -> bool:
    """Whether the timetable recorded the lesson as cancelled (R4.2): nothing is entered for it."""
    return Lesson.objects.filter(pk=lesson.pk, timetable_change__kind=CANCELLED).exists()


def assignment_student(assignment: TeachingAssignment, student_id: Any) -> Student | None:
    """A student who was ever enrolled in the assignment's class (the services check the dates)."""
    try:
        pk = int(student_id)
    except (TypeError, ValueError):
        return None
    return (
        Student.objects.filter(
            school_id=assignment.school_id, pk=pk, enrolments__school_class_id=assignment.school_class_id
        )
        .select_related("user")
        .first()
    )


def attendance_code(school_id: int, text: str) -> AttendanceCode | None:
    """The school's attendance code typed as ``text`` (case-insensitive), if it is one."""
    text = text.strip()
    if not text:
        return None
    for code in AttendanceCode.objects.filter(school_id=school_id):
        if code.code.lower() == text.lower():
            return code
    return None


@dataclass
class CellState:
    mark: str
    mark_version: int
    mark_late: bool
    attendance: str
    attendance_version: int
    attendance_late: bool
    attendance_absent: bool

    @property
    def value(self) -> str:
        return cell_display(self.attendance, self.mark)

    @property
    def version(self) -> str:
        return version_token(self.mark_version, self.attendance_version)

    @property
    def late(self) -> bool:
        return self.mark_late or self.attendance_late


def cell_state(lesson: Lesson, student_id: int, default_work_type_id: int | None = None) -> CellState:
    """What the grid cell (the default work type's mark and the attendance) holds now.

    ``default_work_type_id`` saves a query when the caller has it (``assignment_for_grid`` annotates it).
    """
    default_wt = default_work_type_id or (
        WorkType.objects.filter(school_id=lesson.school_id, is_active=True)
        .order_by("ordinal", "id")
        .values_list("id", flat=True)
        .first()
    )
    mark: Mapping[str, Any] | None = (
        Mark.objects.filter(lesson_id=lesson.pk, student_id=student_id, work_type_id=default_wt, slot=0)
        .values("value__code", "version", "is_late")
        .first()
    )
    att: Mapping[str, Any] | None = (
        Attendance.objects.filter(lesson_id=lesson.pk, student_id=student_id)
        .values("code__code", "code__counts_as_absent", "code__is_late", "version", "is_late")
        .first()
    )
    return CellState(
        mark=(mark or {}).get("value__code") or "",
        mark_version=(mark or {}).get("version", 0),
        mark_late=bool((mark or {}).get("is_late")),
        attendance=(att or {}).get("code__code") or "",
        attendance_version=(att or {}).get("version", 0),
        attendance_late=bool((att or {}).get("is_late")),
        attendance_absent=bool(
            att and att["code__code"] and att["code__counts_as_absent"] and not att["code__is_late"]
        ),
    )


def active_work_type(school_id: int, work_type_id: Any) -> WorkType | None:
    """One of the school's work types in use, by id (the grid's work columns write only these)."""
    try:
        pk = int(work_type_id)
    except (TypeError, ValueError):
        return None
    return WorkType.objects.filter(school_id=school_id, pk=pk, is_active=True).first()


def work_cell_state(lesson: Lesson, student_id: int, work_type_id: int) -> dict[str, Any]:
    """What a work column's cell holds now: the slot-0 mark of that work type."""
    mark = (
        Mark.objects.filter(lesson_id=lesson.pk, student_id=student_id, work_type_id=work_type_id, slot=0)
        .values("value__code", "version", "is_late")
        .first()
    )
    if mark is None:
        return {"value": "", "version": 0, "late": False}
    return {"value": mark["value__code"] or "", "version": mark["version"], "late": mark["is_late"]}


def student_period_stats(
    assignment: TeachingAssignment, student_id: int, lesson_date: dt.date, school: School
) -> dict[str, Any]:
    """Accumulation and average of a student in the grid's period containing ``lesson_date`` (R2.6);
    the average rounded by the school's rule (``schools.averages``)."""
    periods = _periods(assignment)
    period = choose_period([p for p in periods if p.start <= lesson_date <= p.end], None, lesson_date, assignment.year)
    rows = Mark.objects.filter(
        student_id=student_id,
        lesson__assignment_id=assignment.pk,
        lesson__date__gte=period.start,
        lesson__date__lte=period.end,
        value__isnull=False,
    ).values_list("value__numeric", "work_type__weight")
    policy = policy_or_default(assignment.school_id)
    count = 0
    total = Decimal(0)
    weights = Decimal(0)
    for numeric, weight in rows:
        count += 1
        if numeric is not None:
            w = Decimal(weight if weight is not None and policy.weighted_averages else 1)
            total += Decimal(numeric) * w
            weights += w
    return {
        "count": count,
        "required": rules_required_marks(assignment.hours_per_week, policy),
        "average": format_average(mean(total, weights, school), school),
    }


def cell_history(assignment: TeachingAssignment, lesson_id: int, student_id: int) -> list[dict[str, Any]]:
    """The audit trail of one cell: who, when, old → new, reason, late (legal record)."""
    return [
        {
            "at": r["at"],
            "kind": r["kind"],
            "kind_label": dict(ChangeKind.choices).get(r["kind"], r["kind"]),
            "actor": _short(r["actor__first_name"], r["actor__last_name"], r["actor__patronymic"])
            or r["actor__username"],
            "old": r["old_value"],
            "new": r["new_value"],
            "reason": r["reason"],
            "late": r["is_late"],
        }
        for r in JournalChange.objects.filter(
            assignment_id=assignment.pk,
            lesson_id=lesson_id,
            student_id=student_id,
            kind__in=[ChangeKind.MARK, ChangeKind.ATTENDANCE],
        )
        .order_by("-at", "-id")
        .values(
            "at",
            "kind",
            "old_value",
            "new_value",
            "reason",
            "is_late",
            "actor__first_name",
            "actor__last_name",
            "actor__patronymic",
            "actor__username",
        )[:200]
    ]


def lesson_state(lesson_id: int) -> Mapping[str, Any] | None:
    """The current editable fields of a lesson (after a conflict the page adopts them)."""
    return (
        Lesson.objects.filter(pk=lesson_id)
        .values("version", "topic", "lesson_type", "homework", "homework_due", "number")
        .first()
    )


def period_of(assignment: TeachingAssignment, date: dt.date) -> int | None:
    """The shortest study period of the assignment's year containing ``date`` (to return to it)."""
    periods = [p for p in _periods(assignment) if p.start <= date <= p.end]
    return min(periods, key=lambda p: p.end - p.start).id if periods else None


# --- The changes log: stored values shown as words (R2.2) ------------------------------------------

_ISO_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})\b ?(.*)$", re.DOTALL)


def change_value_label(kind: str, value: str, attendance_names: dict[str, str]) -> str:
    """A stored audit value as a reader sees it, in the reader's language.

    The journal's audit rows keep the raw values (the legal record, the API's ``old_value``/``new_value``):
    a register taken is stored as ``taken``, a lesson type as its key (``control``), a homework due date
    and a new lesson's date as ISO dates, an attendance entry as the school's code (``н``). Pages show the
    translated label; the school's own name of an attendance code follows it (``н — absent``).
    """
    if not value:
        return ""
    if kind == ChangeKind.REGISTER and value == "taken":
        return str(pgettext("register", "taken"))
    if kind == ChangeKind.ATTENDANCE and value in attendance_names:
        name = attendance_names[value]
        return f"{value} — {name}" if name and name != value else value
    if kind == ChangeKind.LESSON and value in LessonType.values:
        return str(LessonType(value).label)
    if kind in (ChangeKind.HOMEWORK, ChangeKind.LESSON):
        found = _ISO_DATE_PREFIX.match(value)
        if found:
            try:
                day = dt.date.fromisoformat(found.group(1))
            except ValueError:
                return value
            return f"{date_format(day, 'SHORT_DATE_FORMAT')} {found.group(2)}".strip()
    return value


@dataclass(frozen=True)
class ChangeRow:
    """One row of the changes log: the audit row and its values as words."""

    change: JournalChange
    old: str
    new: str


def changes_log_rows(changes: list[JournalChange], school_id: int) -> list[ChangeRow]:
    """The changes of one page of the log with their values translated (one query for the school's codes)."""
    names: dict[str, str] = {}
    if any(c.kind == ChangeKind.ATTENDANCE for c in changes):
        names = dict(AttendanceCode.objects.filter(school_id=school_id).values_list("code", "name"))
    return [
        ChangeRow(c, change_value_label(c.kind, c.old_value, names), change_value_label(c.kind, c.new_value, names))
        for c in changes
    ]
