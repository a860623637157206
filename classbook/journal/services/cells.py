"""One lesson cell of the journal: a mark, an attendance entry (R2.1, R2.2, R2.5, R2.7, R2.8).

The one write path of a lesson cell (issue 10): the grid (``write_lesson_cell``), the API, the bulk
write of a lesson and every other writer call ``record_mark``/``record_attendance``, which own all of
the cell's rules: the scale, the work type and its slots, one entry per cell (an absence and a mark never
share a cell; ``replace=True`` replaces, two audited changes), a cancelled or future lesson, the student
in the class and subgroup, the period lock (marks, their comments and attendance), the deadline's late
flag, the version check, the audit row and the notifications (``_log``). No door re-implements one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.access.journal import (
    can_edit_lesson_of,
)
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    GradeKind,
    JournalChange,
    Lesson,
    Mark,
    PeriodGrade,
    WorkType,
)
from classbook.journal.rules import policy_for
from classbook.journal.services import _sql
from classbook.journal.services._common import (
    MAX_SLOT,
    CellConflict,
    CellValue,
    _change,
    _logged,
    _raise_period_closed,
    default_work_type,
    is_late_entry,
    may_write_journal,
)
from classbook.people.models import Enrolment, Student, User
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    ScaleValue,
    School,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)
from classbook.timetable.models import ChangeKind as TimetableChangeKind
from classbook.timetable.models import LessonChange


@dataclass(frozen=True)
class _Cell:
    """What one cell save needs to know about the lesson's journal and the student, and what the cell holds."""

    teacher_id: int
    school_id: int
    subgroup_id: int | None
    scale_id: int | None
    enrolled: bool
    in_subgroup: bool
    closed: bool
    default_work_type_id: int | None
    cancelled: bool
    # The attendance row of the student at the lesson (None: never written) and whether its code is an absence.
    attendance: Attendance | None
    absent_code: str
    # The mark row of the asked work type and slot (None: never written), and the first mark the student has
    # at the lesson in any work type or slot ("" if none): what an absence would share the cell with.
    mark: Mark | None
    any_mark: str
    # The school's attendance code the grid's typed text is, if it is one (``typed``; None otherwise).
    typed_code: AttendanceCode | None = None
    # How many marks (with a value) the student has at the lesson, in every work type and slot.
    marks: int = 0
    # The effective scale's name and values as one text (``_scale_values`` parses it, cached per text).
    scale_text: str = ""


@functools.cache
def _cell_sql(typed: bool = True, with_lesson: bool = False) -> str:
    """The cell query as text, built once: the ORM spends milliseconds compiling a query this shape.

    Without ``typed`` the school's attendance code of the typed text is not looked up (its columns are
    NULL). The text is kept short (one space for any run of white space): psycopg caches the conversion of
    a statement up to 4 KiB only, and the one-statement save (``_one_statement_sql``) embeds this one.
    ``with_lesson`` reads the lesson too (``%(le)s`` of the journal ``%(asg)s`` in the school ``%(sch)s``, its
    day instead of ``%(day)s``), its journal and the journal's year, their columns after the cell's
    (``_LESSON_COLUMNS``): the grid's save reads them all in this one query (``write_grid_lesson_cell``).
    """
    t = {
        m.__name__: m._meta.db_table
        for m in (
            TeachingAssignment,
            Enrolment,
            PeriodGrade,
            StudyPeriod,
            WorkType,
            Attendance,
            AttendanceCode,
            Mark,
            ScaleValue,
            LessonChange,
            MarkingScale,
        )
    }
    t.update(
        subject=Subject._meta.db_table,
        school_class=SchoolClass._meta.db_table,
        year_level=YearLevel._meta.db_table,
        school=School._meta.db_table,
        members=Subgroup.students.through._meta.db_table,
    )
    q = connection.ops.quote_name
    pg = connection.vendor == "postgresql"
    day = f"l.{q('date')}" if with_lesson else "%(day)s"

    def sep(n: int) -> str:
        return f"chr({n})" if pg else f"char({n})"

    scale = "COALESCE(a.scale_id, su.scale_id, yl.scale_id, sc.default_scale_id)"
    # One value as "id US ordinal US code US aliases US period_only", the values joined by RS (control
    # characters: a code or an alias never holds one); the order is Python's (``_scale_values`` sorts).
    value = (
        f"CAST(v.id AS text) || {sep(31)} || CAST(v.ordinal AS text) || {sep(31)} || v.code || {sep(31)}"
        f" || v.aliases || {sep(31)} || CASE WHEN v.period_only THEN '1' ELSE '0' END"
    )
    agg = f"string_agg({value}, chr(30))" if pg else f"group_concat({value}, char(30))"
    default_wt = f"""(SELECT w.id FROM {q(t["WorkType"])} w WHERE w.school_id = a.school_id AND w.is_active
   ORDER BY w.ordinal, w.id LIMIT 1)"""  # noqa: S608
    # PostgreSQL reads the default work type once (a lateral join), not once for the column and twice more for
    # the mark's join condition as a subquery does there; SQLite has no LATERAL.
    default_wt_join = f"LEFT JOIN LATERAL {default_wt} dw (id) ON TRUE" if pg else ""
    if pg:
        default_wt = "dw.id"
    # The student's marks at the lesson: the first one's code (the one-entry rule) and how many there are. On
    # PostgreSQL one scan of the cell's marks (a lateral join) gives both; SQLite has a subquery for each.
    marks_from = f"""FROM {q(t["Mark"])} m2 JOIN {q(t["ScaleValue"])} v ON v.id = m2.value_id
   WHERE m2.lesson_id = %(le)s AND m2.student_id = %(st)s"""
    if pg:
        marks_join = f"""LEFT JOIN LATERAL (SELECT (array_agg(v.code ORDER BY m2.work_type_id, m2.slot))[1], COUNT(*)
   {marks_from}) ms2 (first, n) ON TRUE"""
        marks_first, marks_count = "ms2.first", "ms2.n"
    else:
        marks_join = ""
        marks_first = f"(SELECT v.code {marks_from} ORDER BY m2.work_type_id, m2.slot LIMIT 1)"
        marks_count = f"(SELECT COUNT(*) {marks_from})"
    typed_join = f"""LEFT JOIN {q(t["AttendanceCode"])} x ON x.school_id = a.school_id
  AND x.code IN (%(t1)s, %(t2)s, %(t3)s, %(t4)s)"""
    lesson_columns = lesson_join = ""
    if with_lesson:
        lesson_columns = "".join(
            f", {alias}.{q(f.column)}" for alias, model in _LESSON_COLUMNS for f in model._meta.concrete_fields
        )
        lesson_join = f"""JOIN {q(Lesson._meta.db_table)} l ON l.id = %(le)s AND l.assignment_id = a.id
  AND l.school_id = %(sch)s
JOIN {q(AcademicYear._meta.db_table)} y ON y.id = a.year_id"""
    # Only table names from model metadata go into the text; every value is a query parameter.
    sql = f"""
SELECT a.teacher_id, a.school_id, a.subgroup_id,
  {scale},
  EXISTS (SELECT 1 FROM {q(t["Enrolment"])} e WHERE e.student_id = %(st)s
          AND e.school_class_id = a.school_class_id AND e.start <= {day}
          AND (e.{q("end")} IS NULL OR e.{q("end")} >= {day})),
  CASE WHEN a.subgroup_id IS NULL THEN FALSE ELSE EXISTS (SELECT 1 FROM {q(t["members"])} m
    WHERE m.subgroup_id = a.subgroup_id AND m.student_id = %(st)s) END,
  EXISTS (SELECT 1 FROM {q(t["PeriodGrade"])} g JOIN {q(t["StudyPeriod"])} p ON p.id = g.period_id
          WHERE g.assignment_id = a.id AND g.student_id = %(st)s AND g.kind IN (%(pe)s, %(an)s)
          AND p.start <= {day} AND p.{q("end")} >= {day}),
  {default_wt},
  EXISTS (SELECT 1 FROM {q(t["LessonChange"])} lc WHERE lc.lesson_id = %(le)s AND lc.kind = %(cx)s),
  t.id, t.code_id, ac.code, t.version, t.is_late, t.reason,
  CASE WHEN ac.counts_as_absent AND NOT ac.is_late THEN ac.code ELSE '' END,
  mk.id, mk.work_type_id, mk.value_id, mv.code, mk.comment, mk.version, mk.is_late,
  {marks_first},
  {"x.id, x.code, x.is_active, x.counts_as_absent, x.is_late" if typed else "NULL, NULL, NULL, NULL, NULL"},
  {marks_count},
  (SELECT ms.name FROM {q(t["MarkingScale"])} ms WHERE ms.id = {scale})
   || {sep(29)} || COALESCE((SELECT {agg} FROM {q(t["ScaleValue"])} v WHERE v.scale_id = {scale}), '')
{lesson_columns}
FROM {q(t["TeachingAssignment"])} a
JOIN {q(t["subject"])} su ON su.id = a.subject_id
JOIN {q(t["school_class"])} c ON c.id = a.school_class_id
LEFT JOIN {q(t["year_level"])} yl ON yl.id = c.year_level_id
JOIN {q(t["school"])} sc ON sc.id = a.school_id
{lesson_join}
{default_wt_join}
{marks_join}
LEFT JOIN {q(t["Attendance"])} t ON t.lesson_id = %(le)s AND t.student_id = %(st)s
LEFT JOIN {q(t["AttendanceCode"])} ac ON ac.id = t.code_id
LEFT JOIN {q(t["Mark"])} mk ON mk.lesson_id = %(le)s AND mk.student_id = %(st)s AND mk.slot = %(slot)s
  AND mk.work_type_id = CASE WHEN %(wt)s > 0 THEN %(wt)s ELSE {default_wt} END
LEFT JOIN {q(t["ScaleValue"])} mv ON mv.id = mk.value_id
{typed_join if typed else ""}
WHERE a.id = %(asg)s"""  # noqa: S608
    return " ".join(sql.split())


# The lesson, its journal and the journal's year, as the grid's save reads them with the cell (``_cell_sql``).
_LESSON_COLUMNS = (("l", Lesson), ("a", TeachingAssignment), ("y", AcademicYear))
_CELL_COLUMNS = 31


@functools.cache
def _converters(model: Any, vendor: str) -> list[tuple[list[Any], Any]]:
    """Each concrete field's converters of a raw value (as the ORM's compiler applies them)."""
    del vendor
    out = []
    for f in model._meta.concrete_fields:
        col = f.get_col(model._meta.db_table)
        out.append((connection.ops.get_db_converters(col) + col.get_db_converters(connection), col))
    return out


def _model_from_row(model: Any, values: Any) -> Any:
    converted = []
    for value, (convs, col) in zip(values, _converters(model, connection.vendor), strict=True):
        for convert in convs:
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], converted)


def _lesson_from_row(row: Any, school: School) -> Lesson:
    """The lesson of the grid's cell query (``_cell_sql(with_lesson=True)``), its journal and year attached, as
    ``queries.readable_lesson`` returns it (the school is the caller's, the journal's default work type set)."""
    at = _CELL_COLUMNS
    parts = []
    for _alias, model in _LESSON_COLUMNS:
        n = len(model._meta.concrete_fields)
        parts.append(_model_from_row(model, row[at : at + n]))
        at += n
    lesson, assignment, year = parts
    assignment.year = year
    assignment.school = school
    assignment.default_work_type_id = row[7]
    lesson.assignment = assignment
    lesson.school = school
    return lesson  # type: ignore[no-any-return]


def _cell_context(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    *,
    work_type_id: int | None = None,
    slot: int = 0,
    typed: str = "",
) -> _Cell:
    """Everything a cell save checks, and what the cell holds, in one query (issue 3, issue 10).

    Who teaches the lesson's journal, its effective scale (assignment, subject, year level, school
    default: ``TeachingAssignment.effective_scale`` in SQL), the school's default work type, and as
    ``EXISTS`` flags the student's enrolment in the class on the lesson day, their membership of the
    subgroup, a period/annual grade closing the period (R2.7) and a cancelled lesson (R4.2); then the
    student's attendance row at the lesson, the mark row of ``work_type_id`` (None: the default) and
    ``slot``, the first mark of the student at the lesson (the one-entry rule), and the school's
    attendance code ``typed`` is (as typed, lower, upper or capitalised: SQLite compares Cyrillic
    case-sensitively), so the grid tells a code from a mark without a query of its own. The checks
    then run in a fixed order, so the same error wins through every door.
    """
    params = _cell_params(lesson, student, work_type_id, slot, typed)
    with connection.cursor() as cursor:
        cursor.execute(_cell_sql(bool(typed.strip())), params)
        row = cursor.fetchone()
    cell = _cell_from_row(row, lesson, student, slot)
    _check_cell(acting_user, lesson, student, cell)
    return cell


def _cell_params(
    lesson: Lesson | None, student: Student, work_type_id: int | None, slot: int, typed: str
) -> dict[str, Any]:
    """The cell query's parameters; without ``lesson`` (the query reads it) its own are the caller's to add."""
    typed = typed.strip()[:4]
    params: dict[str, Any] = {
        "pe": GradeKind.PERIOD.value,
        "an": GradeKind.ANNUAL.value,
        "cx": TimetableChangeKind.CANCELLED.value,
        "wt": work_type_id or 0,
        "slot": slot,
        "st": student.pk,
    }
    if lesson is not None:
        params.update(le=lesson.pk, day=lesson.date, asg=lesson.assignment_id)
    if typed:  # the school's code typed as is, lower, upper or capitalised (SQLite compares Cyrillic by case)
        params.update(t1=typed, t2=typed.lower(), t3=typed.upper(), t4=typed.capitalize())
    return params


# What the last cell query of a journal said about it in this process: its teacher and its scale (as the
# scale's text). ``record_mark`` on PostgreSQL writes on this assumption in the same statement that reads
# the cell, and the statement checks it (the text compared whole): a changed teacher or scale means no
# write, and the save goes the ordinary way with what the statement read (``_one_statement_mark``).
_JOURNALS: dict[int, tuple[int, int | None, str]] = {}


def _cell_from_row(row: Any, lesson: Lesson, student: Student, slot: int) -> _Cell:
    """The cell query's row (``_cell_sql``) as a ``_Cell``, with plain model instances for the rows it holds."""
    attendance = None
    if row[9] is not None:
        code = _sql.instance(AttendanceCode, id=row[10], school_id=lesson.school_id, code=row[11]) if row[10] else None
        attendance = _sql.instance(
            Attendance,
            {"code": code, "lesson": lesson, "student": student},
            id=row[9],
            school_id=lesson.school_id,
            lesson_id=lesson.pk,
            student_id=student.pk,
            code_id=row[10],
            version=row[12],
            is_late=bool(row[13]),
            reason=row[14] or "",
        )
    mark = None
    if row[16] is not None:
        value = _sql.instance(ScaleValue, id=row[18], scale_id=row[3], code=row[19]) if row[18] else None
        mark = _sql.instance(
            Mark,
            {"value": value, "lesson": lesson, "student": student},
            id=row[16],
            school_id=lesson.school_id,
            lesson_id=lesson.pk,
            student_id=student.pk,
            work_type_id=row[17],
            slot=slot,
            value_id=row[18],
            comment=row[20] or "",
            version=row[21],
            is_late=bool(row[22]),
        )
    scale_text = row[30] or ""
    if len(_JOURNALS) > 10_000:  # pragma: no cover - a long-lived worker of a very large site
        _JOURNALS.clear()
    _JOURNALS[lesson.assignment_id] = (row[0], row[3], scale_text)
    return _Cell(
        teacher_id=row[0],
        school_id=row[1],
        subgroup_id=row[2],
        scale_id=row[3],
        enrolled=bool(row[4]),
        in_subgroup=bool(row[5]),
        closed=bool(row[6]),
        default_work_type_id=row[7],
        cancelled=bool(row[8]),
        attendance=attendance,
        absent_code=row[15] or "",
        mark=mark,
        any_mark=row[23] or "",
        typed_code=AttendanceCode(
            pk=row[24],
            school_id=lesson.school_id,
            code=row[25],
            is_active=bool(row[26]),
            counts_as_absent=bool(row[27]),
            is_late=bool(row[28]),
        )
        if row[24] is not None
        else None,
        marks=int(row[29] or 0),
        scale_text=scale_text,
    )


def _check_cell(acting_user: User, lesson: Lesson, student: Student, cell: _Cell) -> None:
    """The cell's checks in their fixed order, so the same error wins through every door."""
    if not may_write_journal(acting_user, cell.teacher_id, lesson.conducted_by_id, cell.school_id):
        raise PermissionDeniedError(_("Only the teacher of this lesson may change it."))
    if cell.cancelled:
        raise DomainError(
            _("The lesson was cancelled: no marks or attendance are entered for it."), code="lesson_cancelled"
        )
    _check_future(lesson)
    if student.school_id != cell.school_id or not cell.enrolled:
        raise DomainError(_("This student is not in the class of the lesson."), code="not_in_class")
    if cell.subgroup_id and not cell.in_subgroup:
        raise DomainError(_("This student is not in the subgroup of the lesson."), code="not_in_subgroup")
    # R2.7 and issue 10: the period grade closes everything of the student in the period (marks, their
    # comments, attendance); a change is possible only through the recorded correction of the grade.
    if cell.closed:
        _raise_period_closed()


def _check_future(lesson: Lesson) -> None:
    # The policy is read only for future lessons, so the everyday write costs no extra query.
    if lesson.date > timezone.localdate() and not policy_for(lesson.school_id).allow_future_marks:
        raise DomainError(_("A lesson in the future cannot have marks or attendance yet."), code="future_lesson")


@functools.lru_cache(maxsize=256)
def _scale_values(scale_id: int, text: str) -> tuple[str, list[ScaleValue]]:
    """The scale's name and values from the cell query's text (``_cell_sql``), parsed once per distinct text:
    the text is the values themselves, so an edited scale is a new text (a new key), never a stale entry."""
    name, _sep, rows = text.partition("\x1d")
    values = []
    for item in rows.split("\x1e") if rows else []:
        pk, ordinal, code, aliases, period_only = item.split("\x1f")
        values.append(
            ScaleValue(
                pk=int(pk),
                scale_id=scale_id,
                code=code,
                aliases=aliases,
                ordinal=int(ordinal),
                period_only=period_only == "1",
            )
        )
    values.sort(key=lambda v: (v.ordinal, v.pk))
    return name, values


def _parse_cell_mark(scale_id: int | None, scale_text: str, text: str) -> ScaleValue:
    """``MarkingScale.parse`` on the scale the cell query read (its values in ``scale_text``): no query."""
    if scale_id is None:
        raise DomainError(_("No marking scale is set for this subject."), code="no_scale")
    return _parse_on_scale(scale_id, scale_text, text)


@functools.lru_cache(maxsize=1024)
def _parse_on_scale(scale_id: int, scale_text: str, text: str) -> ScaleValue:
    """The value ``text`` is on the scale of ``scale_text``, once per distinct text (a refusal is not cached)."""
    name, values = _scale_values(scale_id, scale_text)
    try:
        return MarkingScale(pk=scale_id, name=name).parse(text, values=values)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], code=exc.code or "invalid_mark", field="value") from None


# The cell's row with its value (or code), compiled once per process (services._sql); the slot is a
# constant of the text (one text per slot used: a small integer column does not take the binder's sentinels).
@functools.cache
def _mark_query(slot: int) -> _sql.PreparedCell:
    return _sql.PreparedCell(
        Mark,
        "value",
        lambda lesson, student, work_type: Mark.objects.select_related("value").filter(
            lesson_id=lesson, student_id=student, work_type_id=work_type, slot=slot
        ),
    )


_ATTENDANCE = _sql.PreparedCell(
    Attendance,
    "code",
    lambda lesson, student: Attendance.objects.select_related("code").filter(lesson_id=lesson, student_id=student),
)


def _current_mark(lesson: Lesson, student: Student, work_type_id: int, slot: int) -> Mark | None:
    return _mark_query(slot).get(lesson=lesson.pk, student=student.pk, work_type=work_type_id)  # type: ignore[no-any-return]


class CellOccupied(DomainError):
    """One lesson cell holds one entry: a mark and an absence do not share it (issue 10).

    Raised when a mark is written where the student is absent, or an absence where they have a mark,
    and the caller did not say it replaces (``replace=True``). ``holds`` is what the cell holds now.
    """

    code = "cell_occupied"

    def __init__(self, holds: str, typed: str) -> None:
        super().__init__(
            _("This cell holds “%(holds)s”. Replace it with “%(typed)s”?") % {"holds": holds, "typed": typed},
            field="value",
        )
        self.holds = holds
        self.extra = {"holds": holds, "typed": typed}


def _check_seen(row: Any, seen: int | None, shown: Callable[[Any], str]) -> None:
    """The grid's cell shows both entries: if the other one moved on since the page read it, the page is stale."""
    if seen is not None and seen != (row.version if row is not None else 0):
        raise CellConflict(CellValue(shown(row), row.version) if row is not None else CellValue("", 0))


def _check_one_entry(held: str, typed: str, replace: bool) -> bool:
    """Whether the write replaces ``held`` (the other kind of entry in the cell); refused unless ``replace``."""
    if not held or not typed:
        return False
    if not replace:
        raise CellOccupied(held, typed)
    return True


def record_mark(
    *,
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    work_type: WorkType | None = None,
    slot: int = 0,
    comment: str | None = None,
    reason: str = "",
    replace: bool = False,
) -> Mark:
    """Set, change or clear (``text=""``) a student's mark for a lesson (R2.1, R2.5): every door's one write.

    ``expected_version`` is the version the writer saw (0 for an empty cell); if the cell moved on,
    ``CellConflict`` is raised and nothing changes. Entries after the deadline are flagged late (R2.2).
    Once the student's period (or annual) grade is set, the records of that period are closed (R2.7).
    Work types that allow several marks per lesson use ``slot`` 0..MAX_SLOT. A mark where the student
    is recorded absent is refused (``CellOccupied``) unless ``replace``: then the absence is cleared
    and the mark set, two audited changes in this transaction.

    Round trips (issue 3, issue 10): the checks with the cell and the scale's values (1), the write and
    the audit row (1 on PostgreSQL, 2 on SQLite: ``services._sql``); a replace adds the absence's write
    and audit row. On PostgreSQL a changed mark is all of it in one statement (``_one_statement_mark``),
    without BEGIN/COMMIT when no transaction is open. The write of an existing
    cell is ``UPDATE … WHERE version = expected``: no row lock is taken before it; zero rows updated
    means somebody else wrote first (a conflict), and the value read before is then the old value of
    the audit row, because every change bumps the version.
    """
    outcome = _one_statement_mark(
        acting_user, lesson, student, text, expected_version, work_type, slot, comment, reason
    )
    if isinstance(outcome, tuple):
        return outcome[0]
    with transaction.atomic():
        if outcome is not None:  # the cell as the one statement read it (nothing written): its checks, then on
            _check_cell(acting_user, lesson, student, outcome)
        return _record_mark(
            acting_user,
            lesson,
            student,
            text,
            expected_version,
            work_type,
            slot,
            comment,
            reason,
            replace,
            cell=outcome,
        )[0]


@functools.cache
def _one_statement_sql() -> str:
    """The cell's query, the versioned write of its mark and the audit row as one statement (PostgreSQL).

    ``s`` is the cell query (``_cell_sql``, columns c0..c30); ``w`` updates the mark it read only where
    every check of the cell passes on what ``s`` read (the teacher and the scale as the caller assumed
    them, the student in the class and subgroup, the period open, the lesson not cancelled, no absence
    in the cell, the version as expected, the value or comment changed); ``a`` inserts the audit row
    (the notification's outbox entry) from what ``w`` wrote, so no write means no audit row.
    """
    q = _sql._q
    fields = _sql._insert_fields(JournalChange)
    columns = ", ".join(q(f.column) for f in fields)
    values = []
    for i, f in enumerate(fields):
        if f.name == "object_id":
            values.append("w.written")
        elif f.name == "old_value":
            values.append("COALESCE(s.c19, '')")
        else:
            values.append(f"%(j{i})s::{_sql._cast_type(f)}")
    names = ", ".join(f"c{i}" for i in range(31))
    mark, change = q(Mark._meta.db_table), q(JournalChange._meta.db_table)
    names_of = {f.name: f.column for f in Mark._meta.concrete_fields}
    col = {
        name: q(names_of[name]) for name in ("value", "comment", "is_late", "updated_at", "updated_by", "version", "id")
    }
    sql = f"""WITH s ({names}) AS ({_cell_sql(False)}),
w (written, version, is_late) AS (
  UPDATE {mark} m SET {col["value"]} = %(va)s,
    {col["comment"]} = COALESCE(%(co)s::text, m.{col["comment"]}),
    {col["is_late"]} = m.{col["is_late"]} OR %(la)s, {col["updated_at"]} = %(no)s,
    {col["updated_by"]} = %(us)s, {col["version"]} = m.{col["version"]} + 1
  WHERE m.{col["id"]} = (SELECT s.c16 FROM s WHERE s.c0 = %(te)s AND s.c1 = %(ss)s AND s.c4
      AND (s.c2 IS NULL OR s.c5) AND NOT s.c6 AND NOT s.c8 AND s.c15 = '' AND s.c30 = %(sx)s)
    AND m.{col["version"]} = %(ev)s
    AND (m.{col["value"]} IS DISTINCT FROM %(va)s
         OR m.{col["comment"]} <> COALESCE(%(co)s::text, m.{col["comment"]}))
  RETURNING m.{col["id"]}, m.{col["version"]}, m.{col["is_late"]}
),
a AS (INSERT INTO {change} ({columns}) SELECT {", ".join(values)} FROM w CROSS JOIN s RETURNING {q("id")})
SELECT s.*, w.written, w.version, w.is_late, a.id FROM s LEFT JOIN w ON TRUE LEFT JOIN a ON TRUE"""  # noqa: S608
    return " ".join(sql.split())


def _one_statement_mark(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    work_type: WorkType | None,
    slot: int,
    comment: str | None,
    reason: str,
) -> tuple[Mark, _Cell] | _Cell | None:
    """A change of an existing mark in **one statement** on PostgreSQL (issue 10: ≥ 1,000 saves/s): the cell's
    query, the write and its audit row (``_one_statement_sql``); outside a transaction it is the whole save
    (no BEGIN, no COMMIT: one statement is atomic by itself).

    It writes on what this process last read of the journal (``_JOURNALS``: the teacher, the scale), which
    the statement checks with every other rule of the cell, and only for what the ordinary path would write
    the same way; the value is parsed beforehand on that scale. Returns (the mark, the cell) when written;
    the cell as read when not (a check refused, the cell moved, the assumption is stale: the ordinary path
    goes on with it and decides, raising the error); None when this path does not apply (SQLite, a new
    cell, a clear, a slot of the default work type, a future lesson, text that is not a mark, a journal
    not read yet): the ordinary path reads the cell itself.
    """
    if connection.vendor != "postgresql" or expected_version <= 0 or not text.strip():
        return None
    known = _JOURNALS.get(lesson.assignment_id)
    if known is None or known[1] is None:
        return None
    teacher_id, scale_id, scale_text = known
    if not can_edit_lesson_of(acting_user, teacher_id, lesson.conducted_by_id) or lesson.date > timezone.localdate():
        return None
    if work_type is None:
        if slot:
            return None
    elif work_type.school_id != lesson.school_id or (slot and not work_type.allows_several):
        return None
    if not 0 <= slot <= MAX_SLOT or (comment is not None and len(comment) > 300):
        return None
    try:
        value = _parse_cell_mark(scale_id, scale_text, text)
    except DomainError:
        return None
    late = is_late_entry(lesson)
    change = _change(acting_user=acting_user, kind=ChangeKind.MARK, lesson=lesson, student=student, object_id=None,
                     old="", new=value.code, reason=reason, is_late=late)  # fmt: skip
    params = _cell_params(lesson, student, work_type.pk if work_type else None, slot, "")
    now = timezone.now()
    params.update(
        va=value.pk,
        co=comment,
        la=late,
        no=now,
        us=acting_user.pk,
        ev=expected_version,
        te=teacher_id,
        ss=student.school_id,
        sx=scale_text,
    )
    for i, audit_value in enumerate(_sql._insert_params(change)):
        params[f"j{i}"] = audit_value
    with connection.cursor() as cursor:
        cursor.execute(_one_statement_sql(), params)
        row = cursor.fetchone()
    cell = _cell_from_row(row, lesson, student, slot)
    if row[31] is None:
        return cell
    mark = cell.mark
    assert mark is not None  # the statement updated the mark it read
    old = _mark_code(mark)
    mark.value, mark.version, mark.is_late, mark.updated_at, mark.updated_by = value, row[32], row[33], now, acting_user
    if comment is not None:
        mark.comment = comment
    if work_type is not None:
        mark.work_type = work_type
    change.object_id, change.old_value = row[31], old
    # The audit row's pre_save/post_save as ``Model.save()`` sends them (the diary's cache listens), both after
    # the statement: only then is it known whether the row was written (no pre_save for a row never saved).
    _sql._signal(change, pre_save)
    _sql._saved(change, row[34])
    _logged(change, student)
    return mark, cell


def _record_mark(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    work_type: WorkType | None,
    slot: int,
    comment: str | None,
    reason: str,
    replace: bool,
    seen_attendance: int | None = None,
    cell: _Cell | None = None,
) -> tuple[Mark, _Cell]:
    if cell is None:
        cell = _cell_context(acting_user, lesson, student, work_type_id=work_type.pk if work_type else None, slot=slot)
    _check_seen(cell.attendance, seen_attendance, _attendance_code)
    if work_type is not None and work_type.school_id != lesson.school_id:
        raise DomainError(_("Unknown work type."), code="invalid_work_type")
    if work_type is None:
        if cell.default_work_type_id is None:
            raise DomainError(_("The school has no work types configured."), code="no_work_types")
        work_type_id = cell.default_work_type_id
        # The work type's row is read only when a slot asks whether it allows several marks.
        several = default_work_type(lesson.school_id).allows_several if slot else False
    else:
        work_type_id = work_type.pk
        several = work_type.allows_several
    if slot and not several:
        raise DomainError(_("This work type allows one mark per lesson."), code="one_mark_only")
    if not 0 <= slot <= MAX_SLOT:
        raise DomainError(
            _("At most %(count)s marks of one work type per lesson.") % {"count": MAX_SLOT + 1}, code="too_many_marks"
        )
    if comment is not None and len(comment) > 300:
        raise DomainError(_("The comment is too long (300 characters at most)."), code="invalid", field="comment")
    value = _parse_cell_mark(cell.scale_id, cell.scale_text, text) if text.strip() else None
    late = is_late_entry(lesson)
    replacing = _check_one_entry(cell.absent_code, value.code if value else "", replace)
    current = cell.mark
    new_comment = (current.comment if current else "") if comment is None else comment
    # A replace's audit rows (the cleared absence's, the mark's) in one statement on SQLite (services._sql).
    with _sql.audits_together(replacing):
        if replacing:
            _write_attendance(acting_user, lesson, student, cell.attendance, None, cell.attendance.version, "", late)  # type: ignore[union-attr]
        mark = _write_mark(
            acting_user,
            lesson,
            student,
            current,
            work_type_id,
            slot,
            value,
            new_comment,
            expected_version,
            reason,
            late,
        )
    if mark is None:
        raise DomainError(_("There is no mark to clear."), code="nothing_to_clear")
    if work_type is not None:
        mark.work_type = work_type
    return mark, cell


def _mark_code(mark: Mark) -> str:
    return mark.value.code if mark.value else ""


def _attendance_code(row: Attendance) -> str:
    return row.code.code if row.code else ""


def _write_cell(
    *,
    model: Any,
    current: Any,
    reread: Callable[[], Any],
    shown: Callable[[Any], str],
    expected_version: int,
    new_text: str,
    create: dict[str, Any] | None,
    changes: dict[str, Any],
    unchanged: bool,
    audit: dict[str, Any],
    reason: str,
    late: bool,
) -> Any:
    """The versioned write of one cell (a mark or an attendance entry) and its audit row (R2.1, R2.2).

    ``current`` is the row read before (None for an empty cell). An empty cell is inserted from
    ``create`` (None: nothing to insert, the caller decides) with ``ON CONFLICT DO NOTHING``: no row
    inserted means somebody inserted first. An existing row is written by ``UPDATE … WHERE version =
    expected`` with ``changes``: no row lock is taken before it; zero rows means somebody wrote first.
    Both conflicts raise ``CellConflict`` with what the cell holds now (``reread``), and nothing changes
    (the audit row is written only with the cell's write). Nothing is written or logged when the text
    and ``unchanged`` (the other fields) say so.
    Statements: the write and the audit row, one statement on PostgreSQL, two on SQLite (services._sql).
    """
    if current is None:
        if expected_version != 0:
            raise CellConflict(CellValue("", 0))
        if create is None:
            return None
        row = model(**create)
        change = _change(**audit, object_id=None, old="", new=new_text, reason=reason, is_late=late)
        if not _sql.insert_with_audit(row, change, "object_id"):
            now_there = reread()
            if now_there is None:  # pragma: no cover - inserted and deleted again in the meantime
                raise CellConflict(CellValue("", 0))
            raise CellConflict(CellValue(shown(now_there), now_there.version))
        _logged(change, audit["student"])
        return row
    old_text = shown(current)
    if current.version != expected_version:
        raise CellConflict(CellValue(old_text, current.version))
    if new_text == old_text and unchanged:
        return current
    changes = {**changes, "is_late": current.is_late or late, "updated_at": timezone.now()}
    change = _change(**audit, object_id=current.pk, old=old_text, new=new_text, reason=reason, is_late=late)
    if not _sql.update_with_audit(model, current.pk, expected_version, changes, change, "object_id"):
        # Somebody wrote between our read and our write; the UPDATE waited for them and matched nothing.
        now_there = reread()
        if now_there is None:  # pragma: no cover - cleared rows stay; only a deleted lesson removes them
            raise CellConflict(CellValue("", 0))
        raise CellConflict(CellValue(shown(now_there), now_there.version))
    for name, new in changes.items():
        setattr(current, name, new)
    current.version = expected_version + 1
    _logged(change, audit["student"])
    return current


def parse_attendance(lesson: Lesson, text: str, codes: list[AttendanceCode] | None = None) -> AttendanceCode:
    """The school's attendance code typed as ``text``; a retired code (not in use) is refused (R2.8).

    ``codes`` are the school's codes when the caller has read them (no query then).
    """
    typed = text.strip()[:4].lower()
    if codes is None:
        code = AttendanceCode.objects.filter(school_id=lesson.school_id, code__iexact=typed).first()
    else:
        code = next((c for c in codes if c.code.lower() == typed), None)
    if code is not None and not code.is_active:
        raise DomainError(
            _("“%(code)s” is no longer in use at this school. Records that have it keep it.") % {"code": code.code},
            code="retired_attendance",
            field="value",
        )
    if code is None:
        active = [c.code for c in codes if c.is_active] if codes is not None else None
        if active is None:
            active = list(
                AttendanceCode.objects.filter(school_id=lesson.school_id, is_active=True).values_list("code", flat=True)
            )
        raise DomainError(
            _("“%(code)s” is not an attendance mark. Allowed: %(allowed)s.")
            % {"code": text.strip()[:10], "allowed": ", ".join(active)},
            code="invalid_attendance",
            field="value",
        )
    return code


@transaction.atomic
def record_attendance(
    *,
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    reason: str = "",
    replace: bool = False,
    codes: list[AttendanceCode] | None = None,
) -> Attendance | None:
    """Mark a student absent/late at a lesson (``text`` is an attendance code) or present (``text=""``) (R2.8).

    Recording attendance also records that the register was taken for the lesson. As ``record_mark``:
    the checks and the cell in one query, an existing cell written by ``UPDATE … WHERE version``, the
    period lock (R2.7). An absence (a code that counts as absent and is not a lateness) where the student
    has a mark at the lesson is refused (``CellOccupied``) unless ``replace``: then each of the student's
    marks at the lesson is cleared and the absence set, audited changes in this transaction. A lateness
    code ("о") or a code that is not an absence stays beside the mark.
    """
    return _record_attendance(acting_user, lesson, student, text, expected_version, reason, replace, codes)[0]


def _record_attendance(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    expected_version: int,
    reason: str,
    replace: bool,
    codes: list[AttendanceCode] | None,
    seen_mark: int | None = None,
    cell: _Cell | None = None,
) -> tuple[Attendance | None, Mark | None]:
    """``record_attendance``; also returns the default work type's mark of the cell as it is after the write."""
    if cell is None:
        cell = _cell_context(acting_user, lesson, student)
    _check_seen(cell.mark, seen_mark, _mark_code)
    code = parse_attendance(lesson, text, codes) if text.strip() else None
    late = is_late_entry(lesson)
    absence = code is not None and code.counts_as_absent and not code.is_late
    mark = cell.mark
    replacing = _check_one_entry(cell.any_mark, code.code if absence and code else "", replace)
    # A replace's audit rows (the cleared marks', the absence's) in one statement on SQLite (services._sql).
    with _sql.audits_together(replacing):
        if replacing and cell.marks == 1 and mark is not None and mark.value_id is not None:
            # The one mark at the lesson is the one the cell's query read: cleared without reading it again.
            _write_mark(acting_user, lesson, student, mark, mark.work_type_id, mark.slot, None, mark.comment,
                        mark.version, "", late)  # fmt: skip
        elif replacing:
            cleared = _clear_marks(acting_user, lesson, student, late)
            mark = next((m for m in cleared if mark is not None and m.pk == mark.pk), mark)
        row = _write_attendance(acting_user, lesson, student, cell.attendance, code, expected_version, reason, late)
    _mark_register_taken(acting_user, lesson)
    return row, mark


def _write_mark(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    current: Mark | None,
    work_type_id: int,
    slot: int,
    value: ScaleValue | None,
    comment: str,
    expected_version: int,
    reason: str,
    late: bool,
) -> Mark | None:
    """One mark cell's versioned write and audit row (``value`` None clears it); ``_write_attendance``'s twin."""
    return _write_cell(  # type: ignore[no-any-return]
        model=Mark,
        current=current,
        reread=functools.partial(_current_mark, lesson, student, work_type_id, slot),
        shown=_mark_code,
        expected_version=expected_version,
        new_text=value.code if value else "",
        create=None
        if value is None
        else {
            "school_id": lesson.school_id,
            "lesson": lesson,
            "student": student,
            "work_type_id": work_type_id,
            "slot": slot,
            "value": value,
            "comment": comment,
            "is_late": late,
            "created_by": acting_user,
            "updated_by": acting_user,
        },
        changes={"value": value, "comment": comment, "updated_by": acting_user},
        unchanged=current is not None and current.comment == comment,
        audit={"acting_user": acting_user, "kind": ChangeKind.MARK, "lesson": lesson, "student": student},
        reason=reason,
        late=late,
    )


def _write_attendance(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    current: Attendance | None,
    code: AttendanceCode | None,
    expected_version: int,
    reason: str,
    late: bool,
) -> Attendance | None:
    return _write_cell(  # type: ignore[no-any-return]
        model=Attendance,
        current=current,
        reread=lambda: _current_attendance(lesson, student),
        shown=_attendance_code,
        expected_version=expected_version,
        new_text=code.code if code else "",
        create=None
        if code is None
        else {
            "school_id": lesson.school_id,
            "lesson": lesson,
            "student": student,
            "code": code,
            "is_late": late,
            "recorded_by": acting_user,
        },
        changes={"code": code, "recorded_by": acting_user},
        unchanged=True,
        audit={"acting_user": acting_user, "kind": ChangeKind.ATTENDANCE, "lesson": lesson, "student": student},
        reason=reason,
        late=late,
    )


def _clear_marks(acting_user: User, lesson: Lesson, student: Student, late: bool) -> list[Mark]:
    """Clear every mark of the student at the lesson (an absence replaces them), each audited."""
    marks = list(
        Mark.objects.select_related("value")
        .filter(lesson_id=lesson.pk, student_id=student.pk, value__isnull=False)
        .order_by("work_type_id", "slot")
    )
    for mark in marks:
        _write_mark(
            acting_user, lesson, student, mark, mark.work_type_id, mark.slot, None, mark.comment, mark.version, "", late
        )
    return marks


@dataclass(frozen=True)
class LessonCell:
    """What the grid's lesson cell holds after a write: the default work type's mark and the attendance."""

    mark: Mark | None
    attendance: Attendance | None

    @property
    def value(self) -> str:
        att = _attendance_code(self.attendance) if self.attendance else ""
        mark = _mark_code(self.mark) if self.mark else ""
        return f"{att} {mark}" if att and mark else att or mark

    @property
    def version(self) -> str:
        return f"{self.mark.version if self.mark else 0}.{self.attendance.version if self.attendance else 0}"

    @property
    def late(self) -> bool:
        return bool((self.mark and self.mark.is_late) or (self.attendance and self.attendance.is_late))


@transaction.atomic
def write_lesson_cell(
    *,
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    mark_version: int,
    attendance_version: int,
    replace: bool = False,
) -> LessonCell:
    """The grid's lesson cell typed as ``text``: an attendance code, a mark of the default work type, or
    nothing (clears both) (R2.1, R2.8). Each goes through ``record_attendance``/``record_mark`` with all
    their rules; a code is recognised among the school's codes (in the cell's query) before the scale is tried.
    """
    return _write_lesson_cell(acting_user, lesson, student, text, mark_version, attendance_version, replace)


def _write_lesson_cell(
    acting_user: User,
    lesson: Lesson,
    student: Student,
    text: str,
    mark_version: int,
    attendance_version: int,
    replace: bool,
    cell: _Cell | None = None,
) -> LessonCell:
    """``write_lesson_cell``; ``cell`` is the cell's query as read with the lesson (its checks not run yet)."""
    text = text.strip()
    if not text:
        mark: Mark | None = None
        att: Attendance | None = None
        if mark_version:
            mark = record_mark(
                acting_user=acting_user, lesson=lesson, student=student, text="", expected_version=mark_version
            )
        if attendance_version:
            att = record_attendance(
                acting_user=acting_user, lesson=lesson, student=student, text="", expected_version=attendance_version
            )
        return LessonCell(mark, att)
    # One query tells a code from a mark and reads the cell: the default work type's mark and the attendance.
    if cell is None:
        cell = _cell_context(acting_user, lesson, student, typed=text)
    else:
        _check_cell(acting_user, lesson, student, cell)
    if cell.typed_code is not None:
        att, mark = _record_attendance(
            acting_user,
            lesson,
            student,
            text,
            attendance_version,
            "",
            replace,
            [cell.typed_code],
            seen_mark=mark_version,
            cell=cell,
        )
        return LessonCell(mark, att)
    mark, cell = _record_mark(
        acting_user,
        lesson,
        student,
        text,
        mark_version,
        None,
        0,
        None,
        "",
        replace,
        seen_attendance=attendance_version,
        cell=cell,
    )
    # ``cell.attendance`` is the row as written when the mark replaced an absence.
    return LessonCell(mark, cell.attendance)


@transaction.atomic
def write_grid_lesson_cell(
    *,
    acting_user: User,
    school: School,
    assignment_id: int,
    lesson_id: int,
    student: Student,
    text: str,
    mark_version: int,
    attendance_version: int,
    replace: bool = False,
    admit: Callable[[Lesson | None], None],
) -> tuple[Lesson, LessonCell]:
    """``write_lesson_cell`` for the grid's endpoint, which has the lesson's id only: the lesson (of the journal
    ``assignment_id`` in ``school``), its journal and year are read **with the cell, in the cell's query**, in
    the save's transaction (issue 10: one statement less per save). ``admit`` is the caller's access decision
    on the lesson read (None: no such lesson of that journal): it raises to refuse, before any check of the
    cell or any write. Returns the lesson as read (for the answer) and what the cell holds after the write.
    """
    typed = text.strip()
    params = _cell_params(None, student, None, 0, typed) | {"le": lesson_id, "asg": assignment_id, "sch": school.pk}
    with connection.cursor() as cursor:
        cursor.execute(_cell_sql(bool(typed), with_lesson=True), params)
        row = cursor.fetchone()
    lesson = _lesson_from_row(row, school) if row is not None else None
    admit(lesson)
    assert lesson is not None  # ``admit`` refuses a missing lesson
    if not typed:  # a clear goes through record_mark/record_attendance, which read the cell themselves
        return lesson, _write_lesson_cell(acting_user, lesson, student, text, mark_version, attendance_version, replace)
    cell = _cell_from_row(row, lesson, student, 0)
    return lesson, _write_lesson_cell(
        acting_user, lesson, student, text, mark_version, attendance_version, replace, cell=cell
    )


def _current_attendance(lesson: Lesson, student: Student) -> Attendance | None:
    return _ATTENDANCE.get(lesson=lesson.pk, student=student.pk)  # type: ignore[no-any-return]


def _mark_register_taken(acting_user: User, lesson: Lesson) -> None:
    if lesson.register_taken_at is None:
        lesson.register_taken_at = timezone.now()
        lesson.register_taken_by = acting_user
        Lesson.objects.filter(pk=lesson.pk, register_taken_at__isnull=True).update(
            register_taken_at=lesson.register_taken_at, register_taken_by=acting_user
        )
