"""The printed class journal's read model (issue 12, R6.6): what the paper journal's pages hold.

Nothing is counted here: every figure comes from the read model that owns it.

- a subject's left page (students × dated columns of marks and "н", the thematic, semester, corrected,
  annual columns, "н/а") and right page (date, topic, homework) are the journal grid (``journal.grid.read_grid``,
  one study period at a time, 5 queries each);
- the summary of achievements (зведений облік) is the reports' summary sheet (``reports.queries.summary_sheet``)
  and the attendance page the reports' attendance sheet (``reports.attendance.attendance_sheet``);
- corrections are the journal's audit trail (``JournalChange``): every change of a cell that had a value
  (one query for the whole class), printed as instruction 496 asks: the superseded entry struck through, the
  right one beside it, and a note at the foot of the page with who corrected it and when;
- the remarks of the administration are the journal's control remarks (``Remark``, R6.10), one query;
- the information about students comes from their records and enrolments, one query (and one for guardians).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.context import SchoolContext
from classbook.journal.grid import DatedColumn, Grid, PeriodChoice, full_name, read_grid, short_name, study_periods
from classbook.journal.models import ChangeKind, JournalChange, Remark
from classbook.journal.queries import class_journals
from classbook.people.models import Enrolment, GuardianLink
from classbook.reports.attendance import AttendanceReport, attendance_sheet
from classbook.reports.queries import Scope, SummarySheet, report_settings, summary_sheet
from classbook.schools.models import ClassKind, Country, SchoolClass, TeachingAssignment

# Dated columns on one left page (landscape A4, as the paper journal's spread holds about as many).
COLUMNS_PER_PAGE = 22

# The sections a printed journal may hold, in the paper journal's order.
SECTIONS = ("title", "contents", "subjects", "summary", "attendance", "remarks", "students")
# What a subject teacher prints of a class that is not their own: their subjects' pages and the remarks on them.
SUBJECT_SECTIONS = ("title", "contents", "subjects", "remarks")


class Layout:
    """Which official form the journal follows."""

    UA = "ua"  # order 423 of 10.05.2011, instruction 496 of 03.06.2008: grades 5-11
    UA_PRIMARY = "ua_primary"  # order 412 of 08.04.2015: grades 1-4
    RU = "ru"  # Russian-style school: the class journal and summary sheets of progress
    GROUP = "group"  # college: the journal of a group's lessons (журнал учебных занятий группы)


def layout_of(school_class: SchoolClass) -> str:
    if school_class.kind == ClassKind.GROUP:
        return Layout.GROUP
    if school_class.school.country == Country.RUSSIAN_STYLE:
        return Layout.RU
    level = school_class.year_level.number if school_class.year_level_id else 5
    return Layout.UA_PRIMARY if level <= 4 else Layout.UA


# --- Corrections ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One correction of a cell: the superseded entry, the right one, who and when."""

    old: str
    new: str
    by: str
    at: dt.datetime
    reason: str


@dataclass
class Cell:
    value: str = ""
    struck: list[str] = field(default_factory=list)  # superseded entries, oldest first
    note: int | None = None  # the number of the note at the foot of the page
    outside: bool = False  # the student was not in the class that day


@dataclass
class Note:
    number: int
    student: str
    where: str  # the column: a date, or a period column's title
    changes: list[Change]


_CELL_KINDS = (ChangeKind.MARK, ChangeKind.ATTENDANCE, ChangeKind.PERIOD_GRADE, ChangeKind.CORRECTION)
_KEY: dict[str, str] = {
    ChangeKind.MARK: "mark",
    ChangeKind.ATTENDANCE: "attendance",
    ChangeKind.PERIOD_GRADE: "grade",
    ChangeKind.CORRECTION: "grade",
}


def corrections(assignment_ids: list[int], start: dt.date, end: dt.date) -> dict[tuple[str, int], list[Change]]:
    """Every change of a journal cell that already had a value, by the changed row (``("mark", id)``,
    ``("attendance", id)``, ``("grade", id)``), oldest first: one query for all the journals.

    A corrected semester grade's first journal change creates the corrected cell (its old value is the
    semester grade it corrects, kept in its own column): it is no correction of that cell and is left out.
    """
    rows = (
        JournalChange.objects.filter(assignment_id__in=assignment_ids, kind__in=_CELL_KINDS, object_id__isnull=False)
        .exclude(old_value="")
        .filter(Q(lesson__isnull=True) | Q(lesson__date__range=(start, end)))
        .order_by("at", "id")
        .values_list(
            "kind",
            "object_id",
            "old_value",
            "new_value",
            "at",
            "reason",
            "actor__first_name",
            "actor__last_name",
            "actor__patronymic",
        )
    )
    found: dict[tuple[str, int], list[Change]] = defaultdict(list)
    created: set[int] = set()
    for kind, object_id, old, new, at, reason, first, last, patronymic in rows:
        if object_id is None:  # pragma: no cover - filtered out above
            continue
        if kind == ChangeKind.CORRECTION and object_id not in created:
            created.add(object_id)
            continue
        change = Change(old, new, short_name(first, last, patronymic), timezone.localtime(at), reason)
        found[(_KEY[kind], object_id)].append(change)
    return found


# --- A subject's pages --------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    name: str
    cells: list[Cell]
    period_cells: list[Cell]


@dataclass
class Spread:
    """One left page and its right page: up to ``COLUMNS_PER_PAGE`` dated columns."""

    columns: list[DatedColumn]
    period_titles: list[str]  # the thematic, semester … columns: on the period's last spread
    rows: list[Row]
    notes: list[Note]

    @property
    def lessons(self) -> list[Any]:
        """The right page: each lesson once (work columns share their lesson)."""
        return [c.lesson for c in self.columns if c.work_type_id is None]


@dataclass
class SubjectPart:
    """One subject (journal) in one study period."""

    anchor: str
    assignment_id: int
    subject: str
    group: str
    teacher: str
    period: str
    spreads: list[Spread]


def _spreads(grid: Grid, changes: dict[tuple[str, int], list[Change]], start: dt.date, end: dt.date) -> list[Spread]:
    columns = [c for c in grid.columns if start <= c.lesson.date <= end]
    chunks = [columns[i : i + COLUMNS_PER_PAGE] for i in range(0, len(columns), COLUMNS_PER_PAGE)] or [[]]
    titles = [c.title for c in grid.period_columns]
    spreads = []
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        notes: list[Note] = []
        rows = [
            Row(
                n,
                row.name,
                [_dated_cell(row, column, changes, notes) for column in chunk],
                [
                    _period_cell(row.name, cell, t, changes, notes)
                    for cell, t in zip(row.period_cells, titles, strict=True)
                ]
                if last
                else [],
            )
            for n, row in enumerate(grid.rows, start=1)
        ]
        spreads.append(Spread(chunk, titles if last else [], rows, notes))
    return spreads


def _noted(cell: Cell, found: list[Change], student: str, where: str, notes: list[Note]) -> Cell:
    if found:
        cell.struck = [c.old for c in found]
        cell.note = len(notes) + 1
        notes.append(Note(cell.note, student, where, found))
    return cell


def _dated_cell(row: Any, column: DatedColumn, changes: dict[tuple[str, int], list[Change]], notes: list[Note]) -> Cell:
    lesson = column.lesson
    if row.outside(lesson.date):
        return Cell(outside=True)
    where = f"{lesson.date:%d.%m}" + (f" ({column.short})" if column.short else "")
    if column.work_type_id is not None:
        mark = row.work_cells.get((lesson.id, column.work_type_id))
        if mark is None:
            return Cell()
        return _noted(Cell(mark.value), changes.get(("mark", mark.id), []), row.name, where, notes)
    cell = row.cell(lesson.id)
    found = []
    if cell.attendance is not None:
        found += changes.get(("attendance", cell.attendance.id), [])
    if cell.mark is not None:
        found += changes.get(("mark", cell.mark.id), [])
    found.sort(key=lambda c: c.at)
    shown = cell.value
    if cell.extras:
        shown = " ".join([shown, *cell.extras]).strip()
    return _noted(Cell(shown), found, row.name, where, notes)


def _period_cell(
    student: str, cell: Any, title: str, changes: dict[tuple[str, int], list[Change]], notes: list[Note]
) -> Cell:
    if cell.grade is None:
        return Cell()
    return _noted(Cell(cell.value), changes.get(("grade", cell.grade.id), []), student, title, notes)


def _leaf_periods(periods: list[PeriodChoice], start: dt.date, end: dt.date) -> list[PeriodChoice]:
    """The study periods without nested ones (quarters, or semesters where there are no quarters) that
    overlap the days: a subject's pages run period by period, as in the paper journal."""
    parents = {p.parent_id for p in periods if p.parent_id}
    return [p for p in periods if p.id not in parents and p.start <= end and p.end >= start]


def subject_parts(
    ctx: SchoolContext,
    journals: list[TeachingAssignment],
    periods: list[PeriodChoice],
    changes: dict[tuple[str, int], list[Change]],
    start: dt.date,
    end: dt.date,
) -> list[SubjectPart]:
    """Every journal's pages, period by period: ``read_grid`` per journal and period (5 queries each)."""
    leaves: list[PeriodChoice | None] = [*_leaf_periods(periods, start, end)] or [None]
    parts = []
    for a in journals:
        for period in leaves:
            grid = read_grid(ctx, a, period_id=period.id if period else None, periods=periods, all_lessons=True)
            spreads = _spreads(grid, changes, max(start, grid.period.start), min(end, grid.period.end))
            if not any(s.columns for s in spreads) and not any(c.grade for r in grid.rows for c in r.period_cells):
                continue
            parts.append(
                SubjectPart(
                    anchor=f"j{a.pk}-p{grid.period.id or 0}",
                    assignment_id=a.pk,
                    subject=a.subject.name,
                    group=a.subgroup.name if a.subgroup_id and a.subgroup else "",
                    teacher=full_name(a.teacher.first_name, a.teacher.last_name, a.teacher.patronymic),
                    period=grid.period.name,
                    spreads=spreads,
                )
            )
    return parts


# --- The class's pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemarkLine:
    day: dt.date
    subject: str
    author: str
    text: str
    fixed_on: dt.date | None
    fixed_note: str


def administration_remarks(assignment_ids: list[int], start: dt.date, end: dt.date) -> list[RemarkLine]:
    """The control remarks of the administration on the journals (R6.10), oldest first: one query."""
    rows = (
        Remark.objects.filter(assignment_id__in=assignment_ids)
        .order_by("created_at", "id")
        .values_list(
            "created_at",
            "assignment__subject__name",
            "author__first_name",
            "author__last_name",
            "author__patronymic",
            "text",
            "fixed_at",
            "fixed_note",
        )
    )
    out = []
    for created, subject, first, last, patronymic, text, fixed_at, note in rows:
        day = timezone.localdate(created)
        if start <= day <= end:
            fixed = timezone.localdate(fixed_at) if fixed_at else None
            out.append(RemarkLine(day, subject, short_name(first, last, patronymic), text, fixed, note))
    return out


@dataclass
class StudentInfo:
    number: int
    name: str
    birth_date: dt.date | None
    file_number: str
    address: str
    phone: str
    guardians: list[str]
    start: dt.date
    end: dt.date | None


def students_info(school_class: SchoolClass, start: dt.date, end: dt.date, *, contacts: bool) -> list[StudentInfo]:
    """Information about students (the journal's last pages): who was in the class in the days, with their
    record; addresses, phones and guardians only with ``contacts`` (``access.printing.may_print_contacts``).
    Two queries (one without contacts)."""
    rows = (
        Enrolment.objects.filter(school_class=school_class, start__lte=end)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .values_list(
            "student_id",
            "student__user__first_name",
            "student__user__last_name",
            "student__user__patronymic",
            "student__birth_date",
            "student__personal_file_number",
            "student__address",
            "student__phone",
            "start",
            "end",
        )
    )
    guardians: dict[int, list[str]] = defaultdict(list)
    if contacts:
        links = (
            GuardianLink.objects.filter(student__enrolments__school_class=school_class)
            .exclude(ended_on__lt=start)
            .order_by("id")
            .values_list(
                "student_id",
                "relation",
                "guardian__first_name",
                "guardian__last_name",
                "guardian__patronymic",
                "guardian__phone",
            )
            .distinct()
        )
        for sid, relation, first, last, patronymic, phone in links:
            text = full_name(first, last, patronymic)
            guardians[sid].append(", ".join(p for p in (relation, text, phone) if p))
    from classbook.journal.grid import alphabet_key

    ordered = sorted(rows, key=lambda r: alphabet_key(r[2], r[1], r[3]))
    return [
        StudentInfo(
            n,
            full_name(first, last, patronymic),
            birth,
            file_number,
            address if contacts else "",
            phone if contacts else "",
            guardians.get(sid, []),
            enrolled,
            left,
        )
        for n, (sid, first, last, patronymic, birth, file_number, address, phone, enrolled, left) in enumerate(
            ordered, start=1
        )
    ]


# --- The whole journal ----------------------------------------------------------------------------


@dataclass
class ClassJournal:
    school_class: SchoolClass
    layout: str
    start: dt.date
    end: dt.date
    sections: tuple[str, ...]
    parts: list[SubjectPart] = field(default_factory=list)
    summaries: list[SummarySheet] = field(default_factory=list)
    attendance: AttendanceReport | None = None
    remarks: list[RemarkLine] = field(default_factory=list)
    students: list[StudentInfo] = field(default_factory=list)
    class_teacher: str = ""

    @property
    def school(self) -> Any:
        return self.school_class.school

    @property
    def subjects(self) -> list[str]:
        """The subjects printed, each once, in the contents' order."""
        return list(dict.fromkeys(p.subject for p in self.parts))


def class_journal(
    ctx: SchoolContext,
    school_class: SchoolClass,
    assignments: QuerySet[TeachingAssignment],
    *,
    start: dt.date,
    end: dt.date,
    assignment_ids: list[int] | None = None,
    sections: tuple[str, ...] = SECTIONS,
    contacts: bool = False,
) -> ClassJournal:
    """The printed journal of ``school_class`` over the days: the journals of ``assignments`` (the ones the
    user may print, ``access.printing.printable_assignments``), narrowed to ``assignment_ids``, and the
    ``sections`` asked for. The class's own pages (summary, attendance, remarks, students) count the same
    ``assignments``. Queries: a few per class, 5 per subject and study period."""
    allowed = set(assignments.values_list("pk", flat=True))
    wanted = [i for i in assignment_ids if i in allowed] if assignment_ids is not None else sorted(allowed)
    journal = ClassJournal(school_class, layout_of(school_class), start, end, sections)
    teacher = school_class.class_teacher
    journal.class_teacher = full_name(teacher.first_name, teacher.last_name, teacher.patronymic) if teacher else ""
    journals = class_journals(school_class.pk, wanted) if wanted else []
    if "subjects" in sections and journals:
        periods = study_periods(journals[0])
        changes = corrections(wanted, start, end)
        journal.parts = subject_parts(ctx, journals, periods, changes, start, end)
    if "summary" in sections:
        journal.summaries = summaries(assignments, school_class, start, end)
    if "attendance" in sections:
        journal.attendance = attendance_sheet(assignments, school_class, start, end)
    if "remarks" in sections:
        journal.remarks = administration_remarks(wanted, start, end)
    if "students" in sections:
        journal.students = students_info(school_class, start, end, contacts=contacts)
    return journal


def summaries(
    assignments: QuerySet[TeachingAssignment], school_class: SchoolClass, start: dt.date, end: dt.date
) -> list[SummarySheet]:
    """The summary of achievements (зведений облік): the reports' summary sheet of every study period the days
    overlap, and of the year's annual grades when the days reach the year's end."""
    from classbook.schools.models import StudyPeriod

    year = school_class.year
    settings = report_settings(school_class.school)
    sheets = [
        summary_sheet(assignments, school_class, Scope(year=year, period=p), settings, school_class.school)
        for p in StudyPeriod.objects.filter(year=year, end__gte=start, start__lte=end).order_by("start", "-end")
    ]
    if end >= year.end:
        sheets.append(summary_sheet(assignments, school_class, Scope(year=year), settings, school_class.school))
    return sheets


def default_range(school_class: SchoolClass, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The class's year up to today (or the whole year once it is over)."""
    year = school_class.year
    today = today or timezone.localdate()
    return year.start, min(max(today, year.start), year.end)


def section_labels() -> dict[str, str]:
    return {
        "title": _("Title page"),
        "contents": _("Contents"),
        "subjects": _("Subject pages"),
        "summary": _("Summary of achievements"),
        "attendance": _("Attendance"),
        "remarks": _("Remarks of the administration"),
        "students": _("Information about students"),
    }


def period_choices(school_class: SchoolClass) -> list[tuple[str, str, dt.date, dt.date]]:
    """The study periods of the class's year and the year itself, as the page offers them: (key, name, days)."""
    from classbook.schools.models import StudyPeriod

    year = school_class.year
    periods = StudyPeriod.objects.filter(year=year).order_by("start", "-end")
    return [
        *[(f"p{p.pk}", p.name, p.start, p.end) for p in periods],
        (f"y{year.pk}", _("Whole year %(year)s") % {"year": year.name}, year.start, year.end),
    ]
