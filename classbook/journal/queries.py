"""Read models for the journal pages around the grid: the index of journals, the opened journal, the cell
lookups and current state the save and history endpoints answer with, and the changes log (R2.1-R2.3,
R2.6, R2.8). The grid itself is one read model in ``grid.py``, for the page and the API.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import IntegerField, OuterRef, Q, QuerySet, Subquery
from django.utils.formats import date_format
from django.utils.translation import pgettext

from classbook.access.context import SchoolContext
from classbook.access.journal import may_control_journals, may_read_assignment, readable_in, readable_values
from classbook.core.prepared import Prepared, PreparedSelect
from classbook.journal.grid import (
    PeriodChoice,
    alphabet_key,
    cell_display,
    choose_period,
    short_name,
    study_periods,
    version_token,
)
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    JournalChange,
    JournalPolicy,
    Lesson,
    LessonType,
    Mark,
    Remark,
    WorkType,
)
from classbook.journal.rules import required_marks as rules_required_marks
from classbook.journal.stats import EMPTY as EMPTY_TALLY
from classbook.journal.stats import tally_marks
from classbook.people.models import Student
from classbook.schools.models import ScaleValue, School, StudyPeriod, TeachingAssignment
from classbook.timetable.models import ChangeKind as TimetableChangeKind

CANCELLED = TimetableChangeKind.CANCELLED.value


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


def _index_rows(assignments: QuerySet[TeachingAssignment]) -> QuerySet[Any]:
    # Only the columns the index shows; no ORDER BY (the entries are sorted here, by the alphabet).
    return assignments.order_by().values_list(
        "id",
        "teacher_id",
        "school_class_id",
        "subject_id",
        "hours_per_week",
        "subject__name",
        "school_class__name",
        "subgroup__name",
        "teacher__first_name",
        "teacher__last_name",
        "teacher__patronymic",
        "teacher__username",
    )


# Compiled once per process (``core.prepared``), one per shape of the access rule (``access.journal.readable_in``):
# the ORM spent ~1.6 ms of CPU compiling the index's queryset, PostgreSQL 1.6 ms planning its DISTINCT.
_INDEX_CONTROL = Prepared(lambda school: _index_rows(readable_in(school)))
_INDEX_STAFF = Prepared(lambda school, teacher, class_teacher: _index_rows(readable_in(school, teacher, class_teacher)))


def journal_index(ctx: SchoolContext) -> list[JournalEntry]:
    """The journals the user may open (``access.journal.readable_values``), for the index page: the user's own
    first (R1.4), then by class and subject. One query, compiled once per process."""
    values: dict[str, Any] | None = readable_values(ctx)
    if values is None:
        return []
    rows = (_INDEX_CONTROL if "teacher" not in values else _INDEX_STAFF).rows(**values)
    order = {"own": 0, "homeroom": 1, "substitute": 2, "control": 3}
    controls = may_control_journals(ctx)
    entries = []
    for (
        pk,
        teacher_id,
        class_id,
        subject_id,
        hours,
        subject,
        class_name,
        subgroup,
        first,
        last,
        patronymic,
        login,
    ) in rows:
        if teacher_id == ctx.user.pk:
            relation = "own"
        elif class_id in ctx.homeroom_class_ids:
            relation = "homeroom"
        elif controls:
            relation = "control"
        else:
            # Scoping lets a plain teacher read another journal only where they substituted (R2.9).
            relation = "substitute"
        entries.append(
            JournalEntry(
                id=pk,
                subject=subject,
                # A subgroup belongs to the journal's class (``TeachingAssignment.clean``): "7-А / group 1".
                group=f"{class_name} / {subgroup}" if subgroup is not None else class_name,
                teacher=short_name(first, last, patronymic) or login,  # ``User.short_name``
                teacher_id=teacher_id,
                class_id=class_id,
                subject_id=subject_id,
                hours=hours,
                relation=relation,
                editable=relation == "own",
            )
        )
    entries.sort(key=lambda e: (order[e.relation], alphabet_key(e.group, e.subject), e.id))
    return entries


# --- The opened journal ----------------------------------------------------------


def _default_work_type() -> Subquery:
    default_wt = WorkType.objects.filter(school=OuterRef("school"), is_active=True).order_by("ordinal", "id")
    return Subquery(default_wt.values("id")[:1], output_field=IntegerField())


# Compiled once per process (``core.prepared``): the ORM spent ~2-3 ms of CPU compiling it per page.
_READABLE = PreparedSelect(
    lambda pk, school: (
        TeachingAssignment.objects.filter(pk=pk, school_id=school)
        .select_related("teacher", "school_class__year_level", "subgroup", "subject", "year")
        .annotate(default_work_type_id=_default_work_type())
    )
)


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
    rows = _READABLE.all(pk=pk, school=ctx.school.pk)
    if not rows or not may_read_assignment(ctx, rows[0]):
        return None
    rows[0].school = ctx.school
    return rows[0]


def class_journals(school_class_id: int, assignment_ids: list[int] | None = None) -> list[TeachingAssignment]:
    """The journals (teaching assignments) of a class as ``read_grid`` wants them (teacher, class, subgroup,
    subject and year joined, the default work type annotated), by subject and group: one query. The caller
    decides access (the printed journal: ``access.printing.printable_assignments``)."""
    qs = (
        TeachingAssignment.objects.filter(school_class_id=school_class_id)
        .select_related("teacher", "school_class__year_level", "subgroup", "subject", "year")
        .annotate(default_work_type_id=_default_work_type())
    )
    if assignment_ids is not None:
        qs = qs.filter(pk__in=assignment_ids)
    found: list[TeachingAssignment] = list(qs)
    found.sort(key=lambda a: (alphabet_key(a.subject.name), alphabet_key(a.subgroup.name if a.subgroup else ""), a.pk))
    return found


_REMARKS = Prepared(
    lambda assignment: (
        Remark.objects.filter(assignment_id=assignment, fixed_at__isnull=True)
        .order_by("-created_at")
        .values_list(
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
    )
)


def open_remarks(assignment: TeachingAssignment) -> list[dict[str, Any]]:
    """The journal's open control remarks, newest first (R6.10): shown above the grid (one query, compiled
    once per process)."""
    return [
        {
            "id": pk,
            "text": text,
            "author": short_name(first, last, patronymic),
            "created_at": created_at,
            "lesson_date": lesson_date,
            "student": short_name(s_first or "", s_last or "", s_patronymic or ""),
        }
        for pk, text, created_at, first, last, patronymic, lesson_date, s_first, s_last, s_patronymic in _REMARKS.rows(
            assignment=assignment.pk
        )
    ]


def assignment_data(assignment: TeachingAssignment, *, can_edit: bool) -> dict[str, Any]:
    """One journal's heading; the assignment must come with teacher, class, subgroup and subject selected."""
    return {
        "id": assignment.pk,
        "subject": assignment.subject.name,
        "school_class": assignment.school_class.name,
        "subgroup": assignment.subgroup.name if assignment.subgroup is not None else None,
        "teacher": assignment.teacher.short_name,
        "hours_per_week": assignment.hours_per_week,
        "can_edit": can_edit,
    }


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


def readable_lesson(ctx: SchoolContext, assignment_id: Any, lesson_id: Any) -> Lesson | None:
    """A lesson of the journal ``assignment_id`` if the user may read that journal, its assignment joined.

    One query for the cell save (issue 10), instead of the assignment's and then the lesson's; the
    access rule is decided from the row as ``readable_assignment`` does. ``lesson.school`` is the context's.
    """
    try:
        assignment_pk, pk = int(assignment_id), int(lesson_id)
    except (TypeError, ValueError):
        return None
    lesson = (
        Lesson.objects.filter(pk=pk, assignment_id=assignment_pk, school_id=ctx.school.pk)
        .select_related("assignment__year")
        .annotate(default_work_type_id=_default_work_type())
        .first()
    )
    if lesson is None or not may_read_assignment(ctx, lesson.assignment):
        return None
    lesson.school = ctx.school
    lesson.assignment.school = ctx.school
    lesson.assignment.default_work_type_id = lesson.default_work_type_id  # type: ignore[attr-defined]
    return lesson


def assignment_period(assignment: TeachingAssignment, period_id: Any) -> StudyPeriod | None:
    """A study period of the assignment's academic year (period grades are set per period)."""
    try:
        pk = int(period_id)
    except (TypeError, ValueError):
        return None
    return StudyPeriod.objects.filter(school_id=assignment.school_id, year_id=assignment.year_id, pk=pk).first()


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

    ``default_work_type_id`` saves a query when the caller has it (``readable_assignment`` annotates it).
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


@functools.cache
def _stats_sql() -> str:
    """The periods containing the day, the school's averaging rules and the student's marks of the journal:
    one ``UNION ALL`` (issue 10: a save's answer in one statement, not three), its text built once."""
    t = {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in (StudyPeriod, JournalPolicy, Mark, Lesson)}
    t["ScaleValue"] = connection.ops.quote_name(ScaleValue._meta.db_table)
    t["WorkType"] = connection.ops.quote_name(WorkType._meta.db_table)
    end = connection.ops.quote_name("end")
    # Only table names from model metadata go into the text; every value is a query parameter.
    return f"""
SELECT 1, p.id, p.start, p.{end}, NULL, NULL FROM {t["StudyPeriod"]} p
WHERE p.school_id = %(school)s AND p.year_id = %(year)s AND p.start <= %(day)s AND p.{end} >= %(day)s
UNION ALL
SELECT 2, CASE WHEN r.weighted_averages THEN 1 ELSE 0 END, NULL, NULL, r.min_marks_one_hour, r.min_marks_more_hours
FROM {t["JournalPolicy"]} r WHERE r.school_id = %(school)s
UNION ALL
SELECT 3, m.value_id, l.date, NULL, v.numeric, w.weight FROM {t["Mark"]} m
JOIN {t["Lesson"]} l ON l.id = m.lesson_id
LEFT JOIN {t["ScaleValue"]} v ON v.id = m.value_id
LEFT JOIN {t["WorkType"]} w ON w.id = m.work_type_id
WHERE m.student_id = %(student)s AND l.assignment_id = %(assignment)s AND m.value_id IS NOT NULL"""  # noqa: S608


def _day(value: Any) -> dt.date:
    """A DATE column read through a raw cursor (SQLite gives the ISO text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def student_period_stats(
    assignment: TeachingAssignment, student_id: int, lesson_date: dt.date, school: School
) -> dict[str, Any]:
    """Accumulation and average of a student in the grid's period containing ``lesson_date`` (R2.6): the
    grid row's figures after a save, by the one definition (``stats.tally_marks``), rounded by the school's
    rule.

    One statement (``_stats_sql``): the periods containing the day (the grid's choice among them,
    ``choose_period``), the school's rules (the defaults when it has none), and the student's marks of
    the journal with their lesson's day, tallied within the chosen period.
    """
    params: dict[str, Any] = {
        "school": assignment.school_id,
        "year": assignment.year_id,
        "day": lesson_date,
        "student": student_id,
        "assignment": assignment.pk,
    }
    with connection.cursor() as cursor:
        cursor.execute(_stats_sql(), params)
        rows = cursor.fetchall()
    periods = [PeriodChoice(r[1], "", _day(r[2]), _day(r[3])) for r in rows if r[0] == 1]
    policy = next(
        (
            JournalPolicy(
                school_id=assignment.school_id,
                weighted_averages=bool(r[1]),
                min_marks_one_hour=int(r[4]),
                min_marks_more_hours=int(r[5]),
            )
            for r in rows
            if r[0] == 2
        ),
        None,
    ) or JournalPolicy(school_id=assignment.school_id)
    period = choose_period(periods, None, lesson_date, assignment.year)
    marks = ((0, r[1], r[4], r[5]) for r in rows if r[0] == 3 and period.start <= _day(r[2]) <= period.end)
    tally = tally_marks(marks, weighted=policy.weighted_averages).get(0, EMPTY_TALLY)
    return {
        "count": tally.count,
        "required": rules_required_marks(assignment.hours_per_week, policy),
        "average": tally.average_text(school),
    }


def cell_history(assignment: TeachingAssignment, lesson_id: int, student_id: int) -> list[dict[str, Any]]:
    """The audit trail of one cell: who, when, old → new, reason, late (legal record)."""
    return [
        {
            "at": r["at"],
            "kind": r["kind"],
            "kind_label": dict(ChangeKind.choices).get(r["kind"], r["kind"]),
            "actor": short_name(r["actor__first_name"], r["actor__last_name"], r["actor__patronymic"])
            or r["actor__username"],
            "old": r["old_value"],
            "new": r["new_value"],
            "reason": r["reason"],
            "late": r["is_late"],
            "device_at": r["device_at"],  # entered offline (issue 17): the device's time beside ``at``
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
            "device_at",
            "actor__first_name",
            "actor__last_name",
            "actor__patronymic",
            "actor__username",
        )[:200]
    ]


def offline_conflicts(
    school_id: int, cells: list[tuple[int, int | None]]
) -> dict[tuple[int, int | None], dict[str, Any]]:
    """What the cells of offline entries that met a conflict hold now, and who changed them last and when (issue 17).

    ``cells`` are (lesson, student) pairs (student None: the lesson's topic and homework). A constant number of
    queries, whatever the number of cells: the grid cells' marks (the default work type), their attendance,
    the lessons, and the cells' latest audit rows.
    """
    if not cells:
        return {}
    lesson_ids = {lesson for lesson, _student in cells}
    student_ids = {student for _lesson, student in cells if student is not None}
    out: dict[tuple[int, int | None], dict[str, Any]] = {}
    if student_ids:
        default_wt = (
            WorkType.objects.filter(school_id=school_id, is_active=True).order_by("ordinal", "id").values("id")[:1]
        )
        marks: dict[tuple[int, int | None], Mapping[str, Any]] = {
            (m["lesson_id"], m["student_id"]): m
            for m in Mark.objects.filter(
                school_id=school_id,
                lesson_id__in=lesson_ids,
                student_id__in=student_ids,
                slot=0,
                work_type_id=default_wt,
            ).values("lesson_id", "student_id", "value__code", "version")
        }
        atts: dict[tuple[int, int | None], Mapping[str, Any]] = {
            (a["lesson_id"], a["student_id"]): a
            for a in Attendance.objects.filter(
                school_id=school_id, lesson_id__in=lesson_ids, student_id__in=student_ids
            ).values("lesson_id", "student_id", "code__code", "version")
        }
        for key in cells:
            if key[1] is None:
                continue
            mark: Mapping[str, Any] = marks.get(key, {})
            att: Mapping[str, Any] = atts.get(key, {})
            out[key] = {
                "value": cell_display(att.get("code__code") or "", mark.get("value__code") or ""),
                "version": version_token(mark.get("version", 0), att.get("version", 0)),
            }
    if any(student is None for _lesson, student in cells):
        for row in Lesson.objects.filter(school_id=school_id, pk__in=lesson_ids).values(
            "pk", "topic", "homework", "version"
        ):
            out[(row["pk"], None)] = {
                "value": row["topic"],
                "homework": row["homework"],
                "version": str(row["version"]),
            }
    changes = (
        JournalChange.objects.filter(school_id=school_id, lesson_id__in=lesson_ids)
        .filter(Q(student_id__in=student_ids) | Q(student__isnull=True))
        .select_related("actor")
        .order_by("-at", "-id")
        .only(
            "lesson_id",
            "student_id",
            "at",
            "actor__first_name",
            "actor__last_name",
            "actor__patronymic",
            "actor__username",
        )
    )
    for change in changes:
        if change.lesson_id is None:  # pragma: no cover - filtered by lesson
            continue
        key = (change.lesson_id, change.student_id)
        if key in out and "by" not in out[key]:
            out[key].update(by=change.actor.short_name, at=change.at)
    return out


def lesson_state(lesson_id: int) -> Mapping[str, Any] | None:
    """The current editable fields of a lesson (after a conflict the page adopts them)."""
    return (
        Lesson.objects.filter(pk=lesson_id)
        .values("version", "topic", "lesson_type", "homework", "homework_due", "number")
        .first()
    )


def period_of(assignment: TeachingAssignment, date: dt.date) -> int | None:
    """The shortest study period of the assignment's year containing ``date`` (to return to it)."""
    periods = [p for p in study_periods(assignment) if p.start <= date <= p.end]
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
