"""The journal grid's one read model: one study period of one journal (R2.1-R2.8).

``read_grid`` reads it in a fixed number of queries whatever the number of students and lessons (the
periods; the students; the lessons; one UNION ALL of marks, attendance, period grades and the school's
scale values, work types and attendance codes; the journal rules; the school's rules on period grades)
and returns plain dataclasses:

- **dated columns** (``DatedColumn``): every lesson's own column (the default work type's mark and the
  attendance entry), each followed by its **work columns** (the first mark of another work type at that
  lesson: a control work …);
- **period columns** (``PeriodColumn``): thematic, period, corrected, annual and exam grades;
- one **row** per student (``GridRow``) whose cells carry the value, the version and the state flags
  (outside the enrolment, cancelled, future, closed by a period grade, late, comment, excused, locked),
  with the marks count against the school's rule (R2.6) and the average (rounded by the school's rule), both
  by the one definition of ``stats.tally_marks`` over the marks read here.

The page renders it (``templatetags/journal_grid.py``) and the JSON API serialises it (``api_payload``);
neither reads the tables again nor decides a figure or a state of its own. A cell is decided here once.

Period and annual cells carry what the school's rules say of their grade (issue 10, ``rules.period_grade_notes_of``):
a period grade given with too few marks (R2.6), and the annual grade's basis, the rule's value and its warnings
(R2.7). ``read_grid`` fills them once; the page and the API show the same.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, NamedTuple

from django.db import connection
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import get_language

from classbook.access.context import SchoolContext
from classbook.access.journal import may_edit_journal, may_edit_lesson_row
from classbook.core import collation
from classbook.journal.absences import is_excused
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    GradeKind,
    JournalPolicy,
    Lesson,
    LessonType,
    Mark,
    PeriodGrade,
    WorkType,
)
from classbook.journal.rules import (
    Accumulation,
    AccumulationPolicy,
    BasisGrade,
    GradeValue,
    GradeWarning,
    StudentNotes,
    period_grade_notes_of,
    policy_or_default,
    required_marks,
)
from classbook.journal.stats import EMPTY as EMPTY_TALLY
from classbook.journal.stats import tally_marks
from classbook.people.models import Enrolment, Student, User
from classbook.schools.averages import average_formatter
from classbook.schools.models import ScaleValue, School, StudyPeriod, Subgroup, TeachingAssignment
from classbook.timetable.models import ChangeKind as TimetableChangeKind

CANCELLED = TimetableChangeKind.CANCELLED.value

# A period (semester/quarter) or annual grade closes the marks, attendance and comments of its period for
# that student (R2.7); the cell-save service refuses them (``services.cells._cell_sql``), the grid shows them
# read-only.
CLOSING_KINDS = frozenset({GradeKind.PERIOD.value, GradeKind.ANNUAL.value})

# Names in the Ukrainian/Russian alphabet's order: the one helper (classbook.core.collation), re-exported
# for the journal's modules.
alphabet_key = collation.alphabet_key


def full_name(first: str, last: str, patronymic: str) -> str:
    return " ".join(p for p in (last, first, patronymic) if p)


def short_name(first: str, last: str, patronymic: str) -> str:
    initials = "".join(f"{p[0]}." for p in (first, patronymic) if p)
    return f"{last} {initials}".strip()


def version_token(mark_version: int, attendance_version: int) -> str:
    """A lesson cell holds a mark and an attendance entry, each versioned; the client sends both back."""
    return f"{mark_version}.{attendance_version}"


def cell_display(attendance: str, mark: str) -> str:
    return f"{attendance} {mark}" if attendance and mark else attendance or mark


# --- Study periods -----------------------------------------------------------------------------


@dataclass(slots=True)
class PeriodChoice:
    id: int | None
    name: str
    start: dt.date
    end: dt.date
    depth: int = 0
    kind: str = ""  # ``PeriodKind``: the annual rule reads it (a "year" period is no basis)
    parent_id: int | None = None

    @property
    def indent(self) -> str:
        return "– " * self.depth


def _quoted_tables(*models: Any) -> dict[str, str]:
    return {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in models}


@functools.cache
def _periods_sql() -> str:
    t, q = _quoted_tables(StudyPeriod), connection.ops.quote_name
    return f"""SELECT p.id, p.name, p.start, p.{q("end")}, p.parent_id, p.kind FROM {t["StudyPeriod"]} p
WHERE p.school_id = %(school)s AND p.year_id = %(year)s ORDER BY p.start, p.{q("end")} DESC"""  # noqa: S608


def study_periods(assignment: TeachingAssignment) -> list[PeriodChoice]:
    """The study periods of the assignment's year, nested ones indented (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_periods_sql(), {"school": assignment.school_id, "year": assignment.year_id})
        rows = cursor.fetchall()
    depth: dict[int, int] = {}
    out = []
    for pk, name, start, end, parent_id, kind in rows:
        d = depth.get(parent_id, -1) + 1 if parent_id else 0
        depth[pk] = d
        out.append(PeriodChoice(pk, name, _date(start), _date(end), d, kind, parent_id))
    return out


def _date(value: Any) -> dt.date:
    """A DATE column read through a raw cursor (SQLite may give the ISO text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


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


# --- The model -------------------------------------------------------------------------------


@dataclass(slots=True)
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
    conducted_by_id: int | None
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
    running: int = 0  # "№ з/п": the lesson's running number in the assignment's period (cancelled ones: 0)
    default_due_iso: str = ""  # homework's default due date: the next lesson of the assignment (issue 14)

    @property
    def base_state(self) -> str:
        """The state every cell of the lesson has: "cancelled", "future" or ""."""
        return "cancelled" if self.cancelled else "future" if self.is_future else ""


@dataclass(slots=True)
class DatedColumn:
    """A lesson's own column (``work_type_id`` None: the default work type's mark and attendance), or a
    work column holding the first mark of another work type at that lesson (a control work …)."""

    lesson: GridLesson
    work_type_id: int | None = None
    short: str = ""  # the work type's short name, under the date
    name: str = ""
    editable: bool = False


@dataclass(slots=True)
class PeriodColumn:
    kind: str
    ordinal: int
    title: str
    theme: str = ""  # a thematic column's stored (or newly typed) title
    # The assignment's teacher types it in the grid; a corrected grade is only given as a recorded correction.
    editable: bool = False


class MarkEntry(NamedTuple):
    """One stored mark of the period (every work type and slot)."""

    id: int
    lesson: int
    student: int
    work_type: int
    slot: int
    value: str  # the scale value's code, "" for a cleared mark
    numeric: float | None  # the value's number (None: pass/fail, verbal levels, cleared)
    comment: str
    version: int
    late: bool


class AttendanceEntry(NamedTuple):
    """One stored attendance entry of the period, with the meaning of its code (``journal.absences``)."""

    id: int
    lesson: int
    student: int
    value: str  # the attendance code, "" for a cleared entry
    reason: str
    version: int
    late: bool
    missed: bool
    excused: bool


class GradeEntry(NamedTuple):
    """One stored thematic, period, corrected, annual or exam grade."""

    id: int
    student: int
    kind: str
    ordinal: int
    title: str
    value: str
    version: int
    locked: bool


@dataclass(slots=True)
class LessonCell:
    """What a lesson's own column holds for one student: the default work type's first mark, the
    attendance entry, and the other marks of the lesson without a column of their own."""

    mark: MarkEntry | None = None
    attendance: AttendanceEntry | None = None
    extras: list[str] | None = None  # "short work type: code"

    @property
    def value(self) -> str:
        return cell_display(self.attendance.value if self.attendance else "", self.mark.value if self.mark else "")

    @property
    def version(self) -> str:
        return version_token(self.mark.version if self.mark else 0, self.attendance.version if self.attendance else 0)

    @property
    def late(self) -> bool:
        return bool((self.mark and self.mark.late) or (self.attendance and self.attendance.late))

    @property
    def comment(self) -> str:
        """The mark's comment and the absence's reason, as one text ("" if neither)."""
        parts = (self.mark.comment if self.mark else "", self.attendance.reason if self.attendance else "")
        return "; ".join(p for p in parts if p)

    @property
    def excused(self) -> bool:
        return bool(self.attendance and self.attendance.excused)

    def shown(self) -> tuple[str, str, bool, str, bool]:
        """(value, version, late, comment, excused) in one call: what the page writes for thousands of cells."""
        m, a = self.mark, self.attendance
        if a is None:
            if m is None:
                return "", "0.0", False, "", False
            return m.value, f"{m.version}.0", m.late, m.comment, False
        if m is None:
            return a.value, f"0.{a.version}", a.late, a.reason, a.excused
        comment = f"{m.comment}; {a.reason}" if m.comment and a.reason else m.comment or a.reason
        value = f"{a.value} {m.value}" if a.value and m.value else a.value or m.value
        return value, f"{m.version}.{a.version}", m.late or a.late, comment, a.excused


EMPTY_CELL = LessonCell()

# What ``GridRow.lesson_cells`` stores per lesson: a mark alone or an attendance entry alone as the entry itself
# (most cells: no object per cell, issue 10), anything else as a ``LessonCell``; ``as_cell`` reads either.
StoredCell = LessonCell | MarkEntry | AttendanceEntry


def as_cell(stored: StoredCell) -> LessonCell:
    """The ``LessonCell`` of what ``GridRow.lesson_cells`` stores for a lesson."""
    kind = type(stored)
    if kind is MarkEntry:
        return LessonCell(stored, None, None)  # type: ignore[arg-type]
    if kind is AttendanceEntry:
        return LessonCell(None, stored, None)  # type: ignore[arg-type]
    return stored  # type: ignore[return-value]


@dataclass(slots=True)
class PeriodCell:
    grade: GradeEntry | None = None
    # What the school's rules say of the grade (``rules.period_grade_notes``): warnings (too few marks,
    # an annual grade that differs from the rule), the period grades an annual grade rests on, the
    # tooltip line that explains them and the rule's value ("≈10") shown while the cell is empty or differs.
    warnings: list[GradeWarning] = field(default_factory=list)
    basis: list[BasisGrade] = field(default_factory=list)
    explain: str = ""
    note: str = ""

    @property
    def value(self) -> str:
        return self.grade.value if self.grade else ""

    @property
    def version(self) -> int:
        return self.grade.version if self.grade else 0

    @property
    def locked(self) -> bool:
        return bool(self.grade and self.grade.locked)


@dataclass(slots=True)
class GridRow:
    id: int
    name: str
    left_on: dt.date | None
    start: dt.date | None = None
    end: dt.date | None = None
    whole_period: bool = True
    # Sparse cells: per lesson id (own columns; ``StoredCell``, read through ``cell``) and per
    # (lesson id, work type id) (work columns).
    lesson_cells: dict[int, StoredCell] = field(default_factory=dict)
    work_cells: dict[tuple[int, int], MarkEntry] = field(default_factory=dict)
    # Per period column, in the grid's order.
    period_cells: list[PeriodCell] = field(default_factory=list)
    # Days closed by the student's period or annual grades (R2.7): (start, end) of each such period.
    closed: list[tuple[dt.date, dt.date]] = field(default_factory=list)
    count: int = 0
    mean: Decimal | None = None
    average: str = ""  # ``mean`` as text in the reader's language
    lessons: list[GridLesson] = field(default_factory=list)

    def outside(self, date: dt.date) -> bool:
        """Whether the student was not in the class that day."""
        return not self.whole_period and (
            (self.start is not None and date < self.start) or (self.end is not None and date > self.end)
        )

    @property
    def plain(self) -> bool:
        """Whether every cell's state is its lesson's ``base_state`` (the student was in the class the whole
        period and no period grade closes a day of it): the page then skips ``state`` per cell."""
        return self.whole_period and not self.closed

    def is_closed(self, date: dt.date) -> bool:
        return any(start <= date <= end for start, end in self.closed)

    def state(self, lesson: GridLesson) -> str:
        """One word for a cell of ``lesson``: "na" outside the enrolment, else "cancelled", "future",
        "closed" (a period grade is set) or ""."""
        if self.outside(lesson.date):
            return "na"
        base = lesson.base_state
        if not base and self.closed and self.is_closed(lesson.date):
            return "closed"
        return base

    def cell(self, lesson_id: int) -> LessonCell:
        stored = self.lesson_cells.get(lesson_id)
        return EMPTY_CELL if stored is None else as_cell(stored)

    @property
    def cells(self) -> list[LessonCell]:
        """The lesson cells in lesson order (expanded; the page walks the sparse dictionaries)."""
        return [self.cell(lesson.id) for lesson in self.lessons]


@dataclass(slots=True)
class WorkTypeInfo:
    id: int
    code: str
    name: str
    short_name: str
    weight: Decimal
    allows_several: bool
    ordinal: int
    is_active: bool


@dataclass(slots=True)
class AttendanceCodeInfo:
    id: int
    code: str
    name: str
    ordinal: int
    is_active: bool
    missed: bool
    excused: bool
    late: bool


@dataclass
class Grid:
    period: PeriodChoice
    periods: list[PeriodChoice]
    lessons: list[GridLesson]
    rows: list[GridRow]
    period_columns: list[PeriodColumn]
    required: int
    # Codes in use: what the page offers and recognises as attendance (retired codes only show on old records).
    attendance_codes: list[AttendanceCodeInfo]
    can_add_lesson: bool
    can_edit_any: bool
    lesson_part: list[GridLesson] = field(default_factory=list)
    all_lessons_shown: bool = True
    # The assignment's teacher sets thematic, period, annual and exam grades in the grid (R2.5).
    period_editable: bool = False
    # The dated columns in order: every lesson's own column, each followed by its work columns.
    columns: list[DatedColumn] = field(default_factory=list)
    # Work types a teacher may add a column of (active, not the default one): (id, name).
    work_type_choices: list[tuple[int, str]] = field(default_factory=list)
    # Every stored fact of the period, as read (the API lists them), and the school's work types.
    marks: list[MarkEntry] = field(default_factory=list)
    attendance: list[AttendanceEntry] = field(default_factory=list)
    grades: list[GradeEntry] = field(default_factory=list)
    work_types: list[WorkTypeInfo] = field(default_factory=list)
    # The school's rules on period grades per student (``rules.period_grade_notes``), and whether the
    # accumulation rule is switched off.
    notes: dict[int, StudentNotes] = field(default_factory=dict)
    policy_off: bool = False

    def column_index(self, kind: str, ordinal: int = 0) -> int | None:
        return next((i for i, c in enumerate(self.period_columns) if c.kind == kind and c.ordinal == ordinal), None)


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


# --- Reading -----------------------------------------------------------------------------------

# Row kinds of the grid's one UNION ALL query.
_MARK, _ATTENDANCE, _GRADE, _VALUE, _WORK_TYPE, _CODE = range(6)


def _flag(expr: str) -> str:
    """A boolean as 0/1 in every arm (PostgreSQL does not unite booleans with integers)."""
    return f"CASE WHEN {expr} THEN 1 ELSE 0 END"


def _in_period() -> str:
    """The lessons of the journal's period, ``l`` (both queries of the facts)."""
    date = connection.ops.quote_name("date")
    return f"l.assignment_id = %(assignment)s AND l.{date} >= %(start)s AND l.{date} <= %(end)s"


@functools.cache
def _cell_marks_sql() -> str:
    """The lesson's own marks (the journal's default work type, slot 0: one per student and lesson,
    ``mark_unique_cell``), most of a journal's facts, in the 7 columns they need: (lesson, student, value id,
    version, late, comment, id). Each column of each row is a value the driver converts; the facts' UNION ALL
    carries 13 for every arm (issue 10: ~0.4 ms less for a 40 × 100 journal on SQLite)."""
    t = _quoted_tables(Mark, Lesson)
    return f"""SELECT m.lesson_id, m.student_id, m.value_id, m.version, {_flag("m.is_late")}, m.comment, m.id
FROM {t["Mark"]} m JOIN {t["Lesson"]} l ON l.id = m.lesson_id
WHERE {_in_period()} AND m.work_type_id = %(work_type)s AND m.slot = 0"""  # noqa: S608


@functools.cache
def _facts_sql() -> str:
    """The grid's facts and dimensions as one UNION ALL, its text built once per process.

    Every arm has the same 13 columns: (kind, a, b, c, slot/ordinal, ref, version, flag, text, title,
    number, id, code). Facts (marks, attendance, grades) carry ids only; the dimension arms (the school's
    scale values, work types and attendance codes: a few dozen rows) resolve them in Python. The ORM spent
    ~2 ms compiling the equivalent queryset and the database ~1.5 ms joining 4,000 fact rows to their
    values one index lookup at a time.
    """
    t = {
        m.__name__: connection.ops.quote_name(m._meta.db_table)
        for m in (Mark, Attendance, PeriodGrade, Lesson, WorkType, AttendanceCode, ScaleValue)
    }
    q = connection.ops.quote_name
    i, txt, num = "CAST(NULL AS INTEGER)", "CAST(NULL AS VARCHAR(300))", "CAST(NULL AS DOUBLE PRECISION)"
    in_period = _in_period()
    # Only table and column names from model metadata go into the text; every value is a parameter. The lesson's
    # own marks (``_cell_marks_sql``) are not in it: every other mark is (work columns, further slots).
    return f"""
SELECT {_MARK}, m.lesson_id, m.student_id, m.work_type_id, m.slot, m.value_id, m.version, {_flag("m.is_late")},
  m.comment, {txt}, {num}, m.id, {txt}
FROM {t["Mark"]} m JOIN {t["Lesson"]} l ON l.id = m.lesson_id
WHERE {in_period} AND (m.work_type_id <> %(work_type)s OR m.slot <> 0)
UNION ALL
SELECT {_ATTENDANCE}, a.lesson_id, a.student_id, {_flag("a.reason_excused")}, 0, a.code_id, a.version,
  {_flag("a.is_late")}, a.reason, {txt}, {num}, a.id, {txt}
FROM {t["Attendance"]} a JOIN {t["Lesson"]} l ON l.id = a.lesson_id WHERE {in_period}
UNION ALL
SELECT {_GRADE}, g.student_id, g.period_id, {i}, g.ordinal, g.value_id, g.version,
  {_flag("g.locked_at IS NOT NULL")}, g.kind, g.title, {num}, g.id, {txt}
FROM {t["PeriodGrade"]} g WHERE g.assignment_id = %(assignment)s
UNION ALL
SELECT {_VALUE}, v.id, {_flag("v.period_only")}, {_flag("v.is_passing")}, v.ordinal, {i}, 0, 0, v.code, {txt},
  CAST(v.{q("numeric")} AS DOUBLE PRECISION),
  {i}, {txt}
FROM {t["ScaleValue"]} v WHERE v.school_id = %(school)s
UNION ALL
SELECT {_WORK_TYPE}, w.id, {_flag("w.allows_several")}, {i}, w.ordinal, {i}, 0, {_flag("w.is_active")},
  w.short_name, w.name, CAST(w.weight AS DOUBLE PRECISION), {i}, w.code
FROM {t["WorkType"]} w WHERE w.school_id = %(school)s
UNION ALL
SELECT {_CODE}, c.id, {_flag("c.counts_as_absent")}, {_flag("c.is_excused")}, c.ordinal, {_flag("c.is_late")}, 0,
  {_flag("c.is_active")}, c.code, c.name, {num}, {i}, {txt}
FROM {t["AttendanceCode"]} c WHERE c.school_id = %(school)s"""  # noqa: S608


_NO_VALUE: tuple[str, float | None] = ("", None)
# A ``MarkEntry`` as ``stats.tally_marks`` reads it: (student, value, numeric, work type id).
_TALLIED = operator.itemgetter(2, 5, 6, 3)
# Marks and attendance entries in the API's order: (lesson, student, …).
_BY_LESSON_STUDENT = operator.itemgetter(1, 2)


@dataclass
class _Facts:
    """The UNION ALL's rows sorted into the grid's pieces (no figure decided yet)."""

    marks: list[MarkEntry] = field(default_factory=list)  # every mark: the two lists below
    cell_marks: list[MarkEntry] = field(default_factory=list)  # the lesson's own marks (default work type, slot 0)
    other_marks: list[MarkEntry] = field(default_factory=list)  # work columns' marks, further slots
    attendance: list[AttendanceEntry] = field(default_factory=list)
    grades: list[tuple[GradeEntry, int]] = field(default_factory=list)  # with the grade's period id
    # Each grade's value as the school's rules read it (``rules.GradeValue``), by the grade's id.
    grade_values: dict[int, GradeValue] = field(default_factory=dict)
    work_types: dict[int, WorkTypeInfo] = field(default_factory=dict)
    codes: list[AttendanceCodeInfo] = field(default_factory=list)


def _read_facts(assignment: TeachingAssignment, period: PeriodChoice, default_wt: int | None) -> _Facts:
    """Queries 4 and 5: the lesson's own marks, then the UNION ALL of every other fact; facts resolved through the
    dimension rows. ``default_wt`` is the journal's default work type (None: every mark is in the UNION ALL)."""
    facts = _Facts()
    params: dict[str, Any] = {
        "assignment": assignment.pk,
        "school": assignment.school_id,
        "start": period.start,
        "end": period.end,
        "work_type": default_wt or 0,  # ids start at 1: 0 is no work type
    }
    with connection.cursor() as cursor:
        cell_rows: list[Any] = []
        if default_wt is not None:
            cursor.execute(_cell_marks_sql(), params)
            cell_rows = cursor.fetchall()
        cursor.execute(_facts_sql(), params)
        rows = cursor.fetchall()
    values: dict[int, tuple[str, float | None]] = {}
    value_codes: dict[int, str] = {}
    value_numbers: dict[int, float | None] = {}
    specials: dict[int, tuple[bool, bool]] = {}  # period-only, passing
    codes: dict[int, AttendanceCodeInfo] = {}
    weight_places = Decimal(1).scaleb(-WorkType._meta.get_field("weight").decimal_places)  # type: ignore[union-attr]
    value_places = Decimal(1).scaleb(-ScaleValue._meta.get_field("numeric").decimal_places)  # type: ignore[union-attr]
    # The rows sorted by kind, each kind in one comprehension over the rows (thousands of facts, a few dozen
    # dimension rows): no Python loop walks a row of another kind (a for loop unpacking all 13 columns of every
    # fact row to skip the marks cost ~0.3 µs a row).
    attendance_rows = [row for row in rows if row[0] == _ATTENDANCE]
    grade_rows = [row for row in rows if row[0] == _GRADE]
    for row in [row for row in rows if row[0] >= _VALUE]:
        kind = row[0]
        if kind == _VALUE:
            values[row[1]] = (row[8], row[10])
            value_codes[row[1]], value_numbers[row[1]] = row[8], row[10]
            specials[row[1]] = (row[2] == 1, row[3] == 1)
        elif kind == _WORK_TYPE:
            weight = Decimal(1) if row[10] is None else Decimal(repr(row[10])).quantize(weight_places)
            facts.work_types[row[1]] = WorkTypeInfo(
                row[1], row[12] or "", row[9] or "", row[8] or "", weight, bool(row[2]), row[4], bool(row[7])
            )
        else:  # an attendance code
            info = AttendanceCodeInfo(
                row[1], row[8], row[9], row[4], bool(row[7]), bool(row[2]), bool(row[3]), bool(row[5])
            )
            codes[row[1]] = info
            facts.codes.append(info)
    no_code = AttendanceCodeInfo(0, "", "", 0, False, False, False, False)
    # Thousands of marks: one comprehension over the rows, the tuple made directly (a NamedTuple's own __new__
    # is one more Python call; no star-unpacking); a cleared mark's NULL value is no key of the value dicts
    # (code "", number None). The comment column is NOT NULL.
    new, code_of, number_of = tuple.__new__, value_codes.get, value_numbers.get
    facts.cell_marks = [
        new(MarkEntry, (pk, lesson, student, default_wt, 0, code_of(ref, ""), number_of(ref), text, version, late == 1))
        for lesson, student, ref, version, late, text, pk in cell_rows
    ]
    facts.other_marks = [
        new(MarkEntry, (pk, a, b, c, slot, code_of(ref, ""), number_of(ref), text, version, late == 1))
        for kind, a, b, c, slot, ref, version, late, text, _title, _num, pk, _code in rows
        if kind == _MARK
    ]
    facts.marks = facts.cell_marks + facts.other_marks
    # Attendance entries: a code's text and flags decided once per (code, excused by a reason), not per entry.
    shapes: dict[tuple[int | None, int], tuple[str, bool, bool]] = {}
    for ref, c in {(row[5], row[3]) for row in attendance_rows}:
        code = codes.get(ref, no_code) if ref is not None else no_code
        shapes[(ref, c)] = (
            code.code,
            code.missed,
            is_excused(missed=code.missed, code_excused=code.excused, reason_excused=c == 1),
        )
    facts.attendance = [
        new(AttendanceEntry, (pk, a, b, code_text, text or "", version, late == 1, missed, excused))
        for _kind, a, b, c, _slot, ref, version, late, text, _title, _num, pk, _code in attendance_rows
        for code_text, missed, excused in (shapes[(ref, c)],)
    ]
    for _kind, a, b, _c, slot, ref, version, late, text, title, _num, pk, _code in grade_rows:
        # a grade: a = student, b = period, text = kind
        grade_code, number = values.get(ref, _NO_VALUE)
        grade = GradeEntry(pk, a, text, slot, title or "", grade_code, version, late == 1)
        facts.grades.append((grade, b))
        special, passing = specials.get(ref, (False, True))
        facts.grade_values[pk] = GradeValue(
            grade_code, None if number is None else Decimal(repr(number)).quantize(value_places), special, passing
        )
    return facts


@functools.cache
def _students_sql(subgroup: bool) -> str:
    members = Subgroup.students.through
    t = _quoted_tables(Enrolment, Student, User, members)
    q = connection.ops.quote_name
    end = f"e.{q('end')}"
    in_subgroup = (
        f"""AND EXISTS (SELECT 1 FROM {t[members.__name__]} m
 WHERE m.subgroup_id = %(subgroup)s AND m.student_id = e.student_id)"""  # noqa: S608
        if subgroup
        else ""
    )
    return f"""SELECT e.student_id, e.start, {end}, u.first_name, u.last_name, u.patronymic
FROM {t["Enrolment"]} e JOIN {t["Student"]} s ON s.id = e.student_id JOIN {t["User"]} u ON u.id = s.user_id
WHERE e.school_id = %(school)s AND e.school_class_id = %(class)s AND e.start <= %(end)s
  AND ({end} IS NULL OR {end} >= %(start)s) {in_subgroup}"""  # noqa: S608


def _students(assignment: TeachingAssignment, period: PeriodChoice) -> list[tuple[int, dt.date, dt.date | None, str]]:
    """Query 2: students enrolled in the class at any time during the period (subgroup members only), in
    the alphabet's order: (id, first day, last day or None, full name). A student enrolled twice in the
    period is one row spanning both enrolments."""
    params = {
        "school": assignment.school_id,
        "class": assignment.school_class_id,
        "subgroup": assignment.subgroup_id,
        "start": period.start,
        "end": period.end,
    }
    with connection.cursor() as cursor:
        cursor.execute(_students_sql(bool(assignment.subgroup_id)), params)
        rows = cursor.fetchall()
    found: dict[int, tuple[int, dt.date, dt.date | None, str, tuple[Any, ...]]] = {}
    for sid, start, end, first, last, patronymic in rows:
        start, end = _date(start), None if end is None else _date(end)
        seen = found.get(sid)
        if seen is not None:
            start = min(start, seen[1])
            end = None if end is None or seen[2] is None else max(end, seen[2])
        found[sid] = (sid, start, end, full_name(first, last, patronymic), alphabet_key(last, first, patronymic))
    return [s[:4] for s in sorted(found.values(), key=lambda s: s[4])]


@functools.cache
def _lessons_sql() -> str:
    """The lessons with the substitute's name, the timetable's change and the plan's binding (one row each:
    both are one-to-one with the lesson), reached through the lesson's relations (no import of their apps)."""
    change: Any = Lesson._meta.get_field("timetable_change").related_model  # type: ignore[attr-defined]
    binding: Any = Lesson._meta.get_field("plan_binding").related_model  # type: ignore[attr-defined]
    t = _quoted_tables(Lesson, User)
    q = connection.ops.quote_name
    # Whether the register was taken, not when: its timestamp would be parsed per row (SQLite's converter).
    taken = _flag("l.register_taken_at IS NOT NULL")
    return f"""SELECT l.id, l.{q("date")}, l.{q("number")}, l.topic, l.lesson_type, l.homework, l.homework_due,
  l.version, {taken}, l.conducted_by_id, c.first_name, c.last_name, c.patronymic, x.kind, b.suggested_topic
FROM {t["Lesson"]} l LEFT JOIN {t["User"]} c ON c.id = l.conducted_by_id
LEFT JOIN {q(change._meta.db_table)} x ON x.lesson_id = l.id
LEFT JOIN {q(binding._meta.db_table)} b ON b.lesson_id = l.id
WHERE l.assignment_id = %(assignment)s AND l.{q("date")} >= %(start)s AND l.{q("date")} <= %(end)s
ORDER BY l.{q("date")}, l.{q("number")}, l.id"""  # noqa: S608


@functools.lru_cache(maxsize=16)
def _labels(language: str | None) -> tuple[dict[str, str], list[str], dict[str, str]]:
    """The lesson types', the weekdays' (abbreviated) and the grade kinds' names in ``language``, the active one:
    translated once per language and process (the enums' ``choices`` and a lazy text each cost a few µs a call)."""
    return (
        {value: str(label) for value, label in LessonType.choices},
        [str(WEEKDAYS_ABBR[i]) for i in range(7)],
        {value: str(label) for value, label in GradeKind.choices},
    )


def _lessons(
    ctx: SchoolContext, assignment: TeachingAssignment, period: PeriodChoice, today: dt.date
) -> list[GridLesson]:
    """Query 3: the lessons of the period with the substitute's name, the timetable's cancellation and the
    plan's suggested topic (LEFT JOINs, one row per lesson)."""
    with connection.cursor() as cursor:
        cursor.execute(_lessons_sql(), {"assignment": assignment.pk, "start": period.start, "end": period.end})
        rows = cursor.fetchall()
    type_labels, weekdays, _kinds = _labels(get_language())
    teacher_short = assignment.teacher.short_name
    teacher_id = assignment.teacher_id
    # The edit rule depends on the lesson's conductor only: decided once per distinct conductor.
    editable: dict[int | None, bool] = {}
    lessons = []
    for pk, date, number, topic, ltype, homework, due, version, taken, by, first, last, patr, change, plan in rows:
        date, due = _date(date), None if due is None else _date(due)
        # "05.10" and "Пн 05.10.2026" as ``f"{date:%d.%m}"`` writes them, without a strftime each (~2 µs).
        short = f"{date.day:02}.{date.month:02}"
        sub = by is not None and by != teacher_id
        may_edit = editable.get(by)
        if may_edit is None:
            may_edit = editable[by] = may_edit_lesson_row(ctx, teacher_id, by)
        lessons.append(
            GridLesson(
                id=pk,
                date=date,
                number=number,
                topic=topic,
                lesson_type=ltype,
                lesson_type_label=type_labels.get(ltype, ltype),
                homework=homework,
                homework_due=due,
                teacher=short_name(first, last, patr) if sub else teacher_short,
                conducted_by_id=by,
                is_substitute=sub,
                version=version,
                editable=may_edit,
                is_future=date > today,
                register_taken=taken == 1,
                is_today=date == today,
                date_short=short,
                day_label=f"{weekdays[date.weekday()]} {short}.{date.year}",
                due_iso=due.isoformat() if due else "",
                cancelled=change == CANCELLED,
                planned_topic=plan or "",
            )
        )
    _number_and_link(lessons)
    return lessons


def _number_and_link(lessons: list[GridLesson]) -> None:
    """Each held (not cancelled) lesson's running number and the day of the next one (the default due date),
    in the lessons' order (date, lesson in the day). The service's default for the API is
    ``services.lessons.next_lesson_date``; the last lesson of the period asks it for the next period's."""
    held = [lesson for lesson in lessons if not lesson.cancelled]
    for i, lesson in enumerate(held):
        lesson.running = i + 1
    # Walking back: the first later day after each lesson's (lessons of one day share it), one pass.
    later = ""
    for i in range(len(held) - 1, -1, -1):
        if i + 1 < len(held) and held[i + 1].date > held[i].date:
            later = held[i + 1].date.isoformat()
        held[i].default_due_iso = later


def read_grid(
    ctx: SchoolContext,
    assignment: TeachingAssignment,
    *,
    period_id: Any = None,
    today: dt.date | None = None,
    all_lessons: bool = False,
    add_columns: list[tuple[Any, Any]] | None = None,
    new_theme: str = "",
    periods: list[PeriodChoice] | None = None,
    cells: bool = True,
) -> Grid:
    """One study period of one journal as the user ``ctx`` sees it, in at most 6 queries whatever its size.

    ``assignment`` comes from ``queries.readable_assignment`` (access decided, the teacher joined and the
    default work type annotated). ``add_columns`` are the work columns the teacher asked for (a lesson and
    a work type), ``new_theme`` the title of a new thematic column. ``periods`` are the assignment's
    ``study_periods`` when the caller read them already (the API, to answer 404 and 304 first); ``cells=False``
    leaves the rows' lesson and work cells and the dated columns empty (the API lists the facts, not the cells).
    """
    today = today or timezone.localdate()
    if periods is None:
        periods = study_periods(assignment)  # 1
    period = choose_period(periods, period_id, today, assignment.year)
    is_teacher = may_edit_journal(ctx, assignment)
    students = _students(assignment, period)  # 2
    lessons = _lessons(ctx, assignment, period, today)  # 3
    default_wt = getattr(assignment, "default_work_type_id", None)
    facts = _read_facts(assignment, period, default_wt)  # 4, 5
    policy = policy_or_default(assignment.school_id)  # 6: the journal rules (R2.6), here and for the notes
    period_columns = _period_columns(facts, periods, period, is_teacher, new_theme)
    # The API lists the facts, not the page's columns (``cells=False``).
    columns = _dated_columns(facts, lessons, default_wt, add_columns) if cells else []
    required = required_marks(assignment.hours_per_week, policy)
    rows = _rows(
        facts,
        students,
        lessons,
        period,
        periods,
        period_columns,
        default_wt,
        today,
        ctx.school,
        policy.weighted_averages,
        cells,
    )
    part = lesson_part(lessons, show_all=all_lessons)
    if len(part) < len(lessons):
        shown = {lesson.id for lesson in part}
        for lesson in lessons:
            lesson.in_part = lesson.id in shown
    work_types = sorted(facts.work_types.values(), key=lambda w: (w.ordinal, w.name, w.id))
    shown_grades = {(c.kind, c.ordinal) for c in period_columns}
    grid = Grid(
        period=period,
        periods=periods,
        lessons=lessons,
        rows=rows,
        period_columns=period_columns,
        required=required,
        attendance_codes=sorted((c for c in facts.codes if c.is_active), key=lambda c: (c.ordinal, c.id)),
        can_add_lesson=is_teacher,
        can_edit_any=any(lesson.editable for lesson in lessons) or (is_teacher and period.id is not None),
        lesson_part=part,
        all_lessons_shown=len(part) == len(lessons),
        period_editable=is_teacher and period.id is not None,
        columns=columns,
        work_type_choices=[
            (w.id, w.name)
            for w in sorted(work_types, key=lambda w: (w.ordinal, w.id))
            if w.is_active and w.id != default_wt
        ],
        marks=facts.marks,
        attendance=facts.attendance,
        grades=[
            g
            for g, period_of in facts.grades
            if (period_of == period.id or g.kind in (GradeKind.ANNUAL, GradeKind.EXAM))
            and (g.kind, g.ordinal) in shown_grades
        ],
        work_types=work_types,
    )
    _add_rule_notes(grid, facts, policy)  # no query: from what was read
    return grid


def _period_columns(
    facts: _Facts, periods: list[PeriodChoice], period: PeriodChoice, is_teacher: bool, new_theme: str
) -> list[PeriodColumn]:
    """Thematic columns (stored ones and a newly named one), the period and corrected grades, and the
    annual and exam grades in the year's last period (or wherever one is stored)."""
    thematic: dict[int, str] = {}
    kinds_present: set[str] = set()
    for grade, period_of in facts.grades:
        if period_of == period.id or grade.kind in (GradeKind.ANNUAL, GradeKind.EXAM):
            kinds_present.add(grade.kind)
            if grade.kind == GradeKind.THEMATIC:
                thematic.setdefault(grade.ordinal, grade.title)
    editable = is_teacher and period.id is not None
    # A new thematic column the teacher named ("New thematic column"): the next theme number; it is
    # stored with its first grade.
    new_theme = (new_theme or "").strip()[:120]
    if new_theme and editable:
        thematic[max(thematic, default=0) + 1] = new_theme
    labels = _labels(get_language())[2]
    columns = [
        PeriodColumn(GradeKind.THEMATIC, o, t or f"{labels[GradeKind.THEMATIC]} {o}", t, editable)
        for o, t in sorted(thematic.items())
    ]
    columns.append(PeriodColumn(GradeKind.PERIOD, 0, str(labels[GradeKind.PERIOD]), editable=editable))
    columns.append(PeriodColumn(GradeKind.CORRECTED, 0, str(labels[GradeKind.CORRECTED])))
    is_last = not periods or period.end >= max(p.end for p in periods)
    for kind in (GradeKind.ANNUAL, GradeKind.EXAM):
        if is_last or kind in kinds_present:
            columns.append(PeriodColumn(kind, 0, str(labels[kind]), editable=editable))
    return columns


def _dated_columns(
    facts: _Facts, lessons: list[GridLesson], default_wt: int | None, add_columns: list[tuple[Any, Any]] | None
) -> list[DatedColumn]:
    """Every lesson's own column, then its work columns: every (lesson, work type) with a mark in the
    period, and those the teacher asked for (an active work type at a lesson they may write)."""
    # The lesson's own marks (``facts.cell_marks``) make no work column; every other mark of slot 0 is of another
    # work type than the default.
    pairs = {(m.lesson, m.work_type) for m in facts.other_marks if m.slot == 0 and m.value}
    active = {w.id for w in facts.work_types.values() if w.is_active and w.id != default_wt}
    lesson_by_id = {lesson.id: lesson for lesson in lessons}
    for lesson_id, wt_id in add_columns or ():
        try:
            pair = (int(lesson_id), int(wt_id))
        except (TypeError, ValueError):
            continue
        if pair[1] in active and pair[0] in lesson_by_id and lesson_by_id[pair[0]].editable:
            pairs.add(pair)
    by_lesson: dict[int, list[int]] = defaultdict(list)
    order = {w.id: (w.ordinal, w.id) for w in facts.work_types.values()}
    for lesson_id, wt_id in sorted(pairs, key=lambda p: order.get(p[1], (0, p[1]))):
        by_lesson[lesson_id].append(wt_id)
    columns = []
    for lesson in lessons:
        columns.append(DatedColumn(lesson, editable=lesson.editable))
        for wt_id in by_lesson.get(lesson.id, ()):
            wt = facts.work_types.get(wt_id)
            short, name = (wt.short_name, wt.name) if wt else ("", "")
            columns.append(
                DatedColumn(lesson, wt_id, short or name[:4], name, editable=lesson.editable and wt_id in active)
            )
    return columns


def _rows(
    facts: _Facts,
    students: list[tuple[int, dt.date, dt.date | None, str]],
    lessons: list[GridLesson],
    period: PeriodChoice,
    periods: list[PeriodChoice],
    period_columns: list[PeriodColumn],
    default_wt: int | None,
    today: dt.date,
    school: School,
    weighted: bool,
    cells: bool = True,
) -> list[GridRow]:
    """One row per student: sparse lesson and work cells, period cells, closed days, count and average."""
    lesson_cells: dict[int, dict[int, StoredCell]] = defaultdict(dict)
    work_cells: dict[int, dict[tuple[int, int], MarkEntry]] = defaultdict(dict)
    weights = {w.id: float(w.weight) for w in facts.work_types.values()}
    shorts = {w.id: w.short_name for w in facts.work_types.values()}
    # The marks count and the average: the one definition (``stats.tally_marks``), over the marks read.
    tallies = tally_marks(map(_TALLIED, facts.marks), weighted=weighted, weights=weights)
    # Cells: the loop runs once per stored mark (thousands): locals and tuple unpacking, not attribute reads.
    # The API lists the facts themselves and reads no cell (``cells=False``).
    # The lesson's own mark (the default work type, slot 0: one per student and lesson, ``mark_unique_cell``)
    # makes the cell, stored as the entry itself (``StoredCell``); work columns' marks and the other marks at
    # the lesson come after.
    for m in facts.cell_marks if cells else ():
        lesson_cells[m[2]][m[1]] = m
    for m in facts.other_marks if cells else ():
        _pk, lesson, sid, wt, slot, value, _numeric, _comment, _version, _late = m
        if slot == 0:
            work_cells[sid][(lesson, wt)] = m
        elif value:
            row_cells = lesson_cells[sid]
            stored = row_cells.get(lesson)
            cell = row_cells[lesson] = LessonCell() if stored is None else as_cell(stored)
            if cell.extras is None:
                cell.extras = []
            short = shorts.get(wt, "")
            cell.extras.append(f"{short}: {value}" if short else value)
    for a in facts.attendance if cells else ():
        row_cells = lesson_cells[a.student]
        stored = row_cells.get(a.lesson)
        if stored is None:
            row_cells[a.lesson] = a
        else:
            cell = row_cells[a.lesson] = as_cell(stored)
            cell.attendance = a
    # Grades: the shown columns' cells, and the periods each student's period/annual grades close.
    span = {p.id: (p.start, p.end) for p in periods}
    closed: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    grades: dict[tuple[int, str, int], GradeEntry] = {}
    for grade, period_of in facts.grades:
        if grade.kind in CLOSING_KINDS and period_of in span:
            closed[grade.student].append(span[period_of])
        if period_of == period.id or grade.kind in (GradeKind.ANNUAL, GradeKind.EXAM):
            grades[(grade.student, grade.kind, grade.ordinal)] = grade
    keys = [(c.kind, c.ordinal) for c in period_columns]
    empty: dict[Any, Any] = {}
    shown = average_formatter(school)
    rows = []
    for sid, start, end, name in students:
        tally = tallies.get(sid, EMPTY_TALLY)
        average = tally.mean(school)
        rows.append(
            GridRow(
                id=sid,
                name=name,
                left_on=end if end is not None and end < today else None,
                start=start,
                end=end,
                whole_period=start <= period.start and (end is None or end >= period.end),
                lesson_cells=lesson_cells.get(sid, empty),
                work_cells=work_cells.get(sid, empty),
                period_cells=[PeriodCell(grades.get((sid, kind, ordinal))) for kind, ordinal in keys],
                closed=closed.get(sid, []),
                count=tally.count,
                mean=average,
                average=shown(average),
                lessons=lessons,
            )
        )
    return rows


# --- The JSON API's view of the same model -------------------------------------------------------


def api_payload(grid: Grid, *, facts: bool = True) -> dict[str, Any]:
    """The grid as the JSON API answers it (``api.routes.journal.GridOut``, without the ``assignment``
    heading): the period's students, lessons and stored facts, each with its version, and per student the
    marks count against the school's rule with the average (R2.1, R2.5, R2.6). Nothing is read or decided
    here: it is ``read_grid``'s model as lists. ``facts=False`` leaves the marks and attendance lists empty
    (``api_json`` writes them itself)."""
    period = grid.period
    wt = {w.id: w for w in grid.work_types}
    order = {w.id: w.ordinal for w in grid.work_types}
    notes = {
        (row.id, column.kind, column.ordinal): cell
        for row in grid.rows
        for column, cell in zip(grid.period_columns, row.period_cells, strict=True)
        if cell.warnings or cell.basis
    }
    return {
        "period": {"id": period.id, "name": period.name, "start": period.start, "end": period.end},
        "students": [{"id": r.id, "name": r.name} for r in grid.rows],
        "lessons": [
            {
                "id": x.id,
                "date": x.date,
                "number": x.number,
                "topic": x.topic,
                "lesson_type": x.lesson_type,
                "homework": x.homework,
                "homework_due": x.homework_due,
                "version": x.version,
                "register_taken": x.register_taken,
                "conducted_by": x.conducted_by_id,
            }
            for x in grid.lessons
        ],
        "marks": []
        if not facts
        else [
            {
                "id": m.id,
                "lesson": m.lesson,
                "student": m.student,
                "work_type": wt[m.work_type].code,
                "slot": m.slot,
                "value": m.value,
                "comment": m.comment,
                "version": m.version,
                "is_late": m.late,
            }
            for m in sorted(grid.marks, key=lambda m: (m.lesson, m.student, order[m.work_type], m.slot))
        ],
        "attendance": []
        if not facts
        else [
            {
                "id": a.id,
                "lesson": a.lesson,
                "student": a.student,
                "value": a.value,
                "reason": a.reason,
                "version": a.version,
                "is_late": a.late,
                "excused": a.excused,
            }
            for a in sorted(grid.attendance, key=lambda a: (a.lesson, a.student))
        ],
        "period_grades": [
            {
                "id": g.id,
                "student": g.student,
                "kind": g.kind,
                "ordinal": g.ordinal,
                "title": g.title,
                "value": g.value,
                "version": g.version,
                "locked": g.locked,
                **_notes(notes.get((g.student, g.kind, g.ordinal))),
            }
            for g in sorted(grid.grades, key=lambda g: (g.student, g.kind, g.ordinal))
        ],
        "accumulation": [
            {
                "student": r.id,
                "count": r.count,
                "required": grid.required,
                "average": r.mean,
                **_accumulation_notes(grid.notes.get(r.id), grid.policy_off),
            }
            for r in grid.rows
        ],
        "annual": _annual_notes(grid),
        "work_types": [
            {
                "code": w.code,
                "name": w.name,
                "short_name": w.short_name,
                "weight": w.weight,
                "allows_several": w.allows_several,
            }
            for w in grid.work_types
            if w.is_active
        ],
    }


def api_json(grid: Grid, heading: dict[str, Any], encoder: type[json.JSONEncoder]) -> str:
    """The API's answer as JSON text: ``{"assignment": heading, **api_payload(grid)}`` as ``json.dumps`` with
    ``encoder`` writes it, the marks and attendance (thousands of rows) written here directly, one f-string a
    row, instead of a dictionary a row for the encoder (half of the answer's CPU).
    ``tests/journal/test_api.py`` checks that both texts read back as the same data.
    """
    payload = {"assignment": heading, **api_payload(grid, facts=False)}
    text: dict[str, str] = {}

    def s(value: str) -> str:  # a JSON string, as json.dumps writes it (ASCII only), each distinct text once
        found = text.get(value)
        if found is None:
            found = text[value] = encode_basestring_ascii(value)
        return found

    wt = {w.id: s(w.code) for w in grid.work_types}
    order = {w.id: w.ordinal for w in grid.work_types}
    # Every distinct text once (a dozen values, few comments), then plain subscripts in the loops.
    texts = {m.value for m in grid.marks} | {m.comment for m in grid.marks}
    texts.update(t for a in grid.attendance for t in (a.value, a.reason))
    js = {t: s(t) for t in texts}
    boolean = {True: "true", False: "false"}
    marks = ", ".join(
        f'{{"id": {pk}, "lesson": {lesson}, "student": {student}, "work_type": {wt[work_type]}, '
        f'"slot": {slot}, "value": {js[value]}, "comment": {js[comment]}, "version": {version}, '
        f'"is_late": {boolean[late]}}}'
        for pk, lesson, student, work_type, slot, value, _numeric, comment, version, late in _api_mark_order(
            grid.marks, order
        )
    )
    attendance = ", ".join(
        f'{{"id": {pk}, "lesson": {lesson}, "student": {student}, "value": {js[value]}, '
        f'"reason": {js[reason]}, "version": {version}, "is_late": {boolean[late]}, '
        f'"excused": {boolean[excused]}}}'
        for pk, lesson, student, value, reason, version, late, _missed, excused in sorted(
            grid.attendance, key=_BY_LESSON_STUDENT
        )
    )
    written = {"marks": f"[{marks}]", "attendance": f"[{attendance}]"}
    parts = [
        f"{s(key)}: {written[key] if key in written else json.dumps(value, cls=encoder)}"
        for key, value in payload.items()
    ]
    return "{" + ", ".join(parts) + "}"


# A ``MarkEntry``'s (lesson, student, work type id, slot): the API's order when the work types' ids rise with
# their ordinals (a key made in C, no Python call per mark).
_BY_LESSON_STUDENT_TYPE_SLOT = operator.itemgetter(1, 2, 3, 4)


def _api_mark_order(marks: list[MarkEntry], order: dict[int, int]) -> list[MarkEntry]:
    """The marks by lesson, student, work type's ordinal and slot (``api_payload``'s order). When the ids of
    the work types rise strictly with their ordinals, sorting by the id is the same order, with a key made in C."""
    by_ordinal = sorted(order, key=lambda wid: (order[wid], wid))
    if all(order[a] < order[b] and a < b for a, b in itertools.pairwise(by_ordinal)):
        return sorted(marks, key=_BY_LESSON_STUDENT_TYPE_SLOT)
    return sorted(marks, key=lambda m: (m[1], m[2], order[m[3]], m[4]))


def _notes(cell: PeriodCell | None) -> dict[str, Any]:
    if cell is None:
        return {"warnings": [], "basis": []}
    return {"warnings": [w.as_data() for w in cell.warnings], "basis": [b.as_data() for b in cell.basis]}


def _accumulation_notes(note: StudentNotes | None, policy_off: bool) -> dict[str, Any]:
    warning = note.period_warning if note is not None else None
    below = note is not None and note.accumulation is not None and note.accumulation.below
    return {"below_rule": below and not policy_off, "warnings": [warning.as_data()] if warning is not None else []}


def _annual_notes(grid: Grid) -> list[dict[str, Any]]:
    out = []
    for row in grid.rows:
        note = grid.notes.get(row.id)
        if note is not None and note.annual is not None:
            value = note.annual_value.code if note.annual_value is not None else None
            out.append({"student": row.id, "value": value, **note.annual.as_data(note.annual_value)})
    return out


def _add_rule_notes(grid: Grid, facts: _Facts, policy: JournalPolicy) -> None:
    """What the school's rules say of the period and annual grades (issue 10), on their cells: one
    definition (``rules.period_grade_notes_of``) for the page, the API and the deputy's control page.

    No query: the rules read the rows' counts (``stats.tally_marks``, as ``rules.journals_accumulation``
    counts them), the journal's grades of the year and the year's periods ``read_grid`` has read.
    """
    period = grid.period
    if period.id is None:
        return
    has_annual = grid.column_index(GradeKind.ANNUAL) is not None
    counts = {
        row.id: Accumulation(row.count, grid.required, row.end is None or row.end >= period.end) for row in grid.rows
    }
    starts = {p.id: p.start for p in grid.periods}
    basis_kinds = (GradeKind.PERIOD, GradeKind.CORRECTED, GradeKind.ANNUAL)
    grades = [
        {
            "student_id": g.student,
            "kind": g.kind,
            "period_id": period_of,
            "ordinal": g.ordinal,
            "value": facts.grade_values[g.id],
        }
        for g, period_of in sorted(facts.grades, key=lambda item: (starts.get(item[1], dt.date.min), item[1]))
        if g.kind in basis_kinds and g.ordinal == 0
    ]
    periods: dict[int, dict[str, Any]] = (
        {
            p.id: {"name": p.name, "kind": p.kind, "parent_id": p.parent_id, "start": p.start}
            for p in grid.periods
            if p.id is not None
        }
        if has_annual
        else {}
    )
    grid.notes = period_grade_notes_of(counts, grades, periods, period.id, policy, annual=has_annual)
    grid.policy_off = policy.accumulation_policy == AccumulationPolicy.OFF
    pi, ai = grid.column_index(GradeKind.PERIOD), grid.column_index(GradeKind.ANNUAL)
    explained: dict[int, str] = {}  # the tooltip of each distinct expectation (students without grades share one)
    for row in grid.rows:
        note = grid.notes.get(row.id)
        if note is None:
            continue
        if pi is not None:
            cell = row.period_cells[pi]
            if cell.value and note.period_warning is not None:
                cell.warnings.append(note.period_warning)
        if ai is not None and note.annual is not None:
            cell = row.period_cells[ai]
            cell.basis.extend(note.annual.basis)
            cell.warnings.extend(note.annual_warnings)
            explain = explained.get(id(note.annual))
            if explain is None:
                explain = explained[id(note.annual)] = note.annual.title()
            cell.explain = explain
            if not cell.value or any(w.code == "annual_disagrees" for w in cell.warnings):
                cell.note = note.annual_note()
