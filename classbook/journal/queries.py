"""Read models for the journal pages: the index of journals and the grid (R2.1-R2.3, R2.6, R2.8).

The grid is built from a fixed handful of queries (students, lessons, marks and attendance, period
grades, remarks, attendance codes, periods), each returning plain values; the matrix is assembled in
Python, so the number of queries does not grow with students × lessons.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import FloatField, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import number_format

from classbook.access.rules import Perm
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    GradeKind,
    JournalChange,
    Lesson,
    LessonType,
    Mark,
    PeriodGrade,
    Remark,
    WorkType,
)
from classbook.people.models import Enrolment, Student
from classbook.schools.models import StudyPeriod, TeachingAssignment
from classbook.timetable.models import ChangeKind as TimetableChangeKind

CANCELLED = TimetableChangeKind.CANCELLED.value

# Ukrainian and Russian letters in one order that is right for both alphabets; the database's
# collation (bytes on SQLite) would put "Є", "І", "Ї" before "А".
_ALPHABET = "абвгґдеєёжзиіїйклмнопрстуфхцчшщъыьэюя"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}


def alphabet_key(*parts: str) -> tuple[tuple[int, ...], ...]:
    """Sort key for names in the order of the Ukrainian/Russian alphabet (apostrophes ignored)."""
    return tuple(tuple(_RANK.get(ch, 100 + ord(ch)) for ch in part.lower() if ch not in "'’ʼ`-") for part in parts)


def required_marks(hours_per_week: Decimal) -> int:
    """Grade accumulation: at least 3 marks per period for 1 lesson a week, 5 for 2 or more (R2.6)."""
    return 3 if hours_per_week < 2 else 5


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
class PeriodColumn:
    kind: str
    ordinal: int
    title: str


@dataclass
class GridRow:
    id: int
    name: str
    left_on: dt.date | None
    cells: list[tuple[int, str, str, bool, str, list[str] | None]] = field(default_factory=list)
    # Per period column: (code, locked, version).
    period_values: list[tuple[str, bool, int]] = field(default_factory=list)
    count: int = 0
    average: str = ""


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
    """
    default_wt = WorkType.objects.filter(school=OuterRef("school"), is_active=True).order_by("ordinal", "id")
    return (
        TeachingAssignment.objects.filter(pk=pk, pk__in=assignments.filter(pk=pk).values("pk"))
        .select_related("teacher", "school", "school_class__year_level", "subgroup", "subject", "year")
        .annotate(default_work_type_id=Subquery(default_wt.values("id")[:1], output_field=IntegerField()))
    )


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


def build_grid(
    ctx: Any,
    assignment: TeachingAssignment,
    *,
    period_id: Any = None,
    today: dt.date | None = None,
    all_lessons: bool = False,
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

    # 4: marks and attendance of the period in one round trip (a UNION of two value queries).
    # Numbers come as floats (no Decimal per row): they only feed the average shown with one decimal.
    in_period = Q(lesson__assignment_id=assignment.pk, lesson__date__gte=period.start, lesson__date__lte=period.end)
    mark_q = Mark.objects.filter(in_period).values_list(
        Value("m"),
        "lesson_id",
        "student_id",
        "work_type_id",
        "slot",
        "value__code",
        Cast("value__numeric", FloatField()),
        Cast("work_type__weight", FloatField()),
        "work_type__short_name",
        "version",
        "is_late",
    )
    att_q = Attendance.objects.filter(in_period).values_list(
        Value("a"),
        "lesson_id",
        "student_id",
        Value(None, output_field=IntegerField()),
        Value(0),
        "code__code",
        Value(None, output_field=FloatField()),
        Value(None, output_field=FloatField()),
        Value(""),
        "version",
        "is_late",
    )
    default_wt = getattr(assignment, "default_work_type_id", None)
    # Per student, per lesson: (code, version, late).
    primary: dict[int, dict[int, tuple[str, int, bool]]] = defaultdict(dict)
    attendance: dict[int, dict[int, tuple[str, int, bool]]] = defaultdict(dict)
    extras: dict[int, dict[int, list[str]]] = defaultdict(dict)
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    counts: dict[int, int] = defaultdict(int)
    # Compiled by the ORM, fetched with the cursor: no per-value converters for 2,000+ rows.
    union_sql, union_params = mark_q.union(att_q, all=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(union_sql, union_params)
        cell_rows = cursor.fetchall()
    for kind, lesson_id, student_id, wt, slot, code, numeric, weight, wt_short, version, late in cell_rows:
        if kind == "a":
            attendance[student_id][lesson_id] = (code or "", version, bool(late))
            continue
        if code:
            counts[student_id] += 1
            if numeric is not None:
                w = 1.0 if weight is None else weight
                acc = sums[student_id]
                acc[0] += numeric * w
                acc[1] += w
        if wt == default_wt and slot == 0:
            primary[student_id][lesson_id] = (code or "", version, bool(late))
        elif code:
            extras[student_id].setdefault(lesson_id, []).append(f"{wt_short}: {code}" if wt_short else code)

    # 5: period grades of the period, and the annual and exam grades of the year.
    grade_rows = (
        PeriodGrade.objects.filter(assignment_id=assignment.pk)
        .filter(Q(period_id=period.id) | Q(kind__in=[GradeKind.ANNUAL, GradeKind.EXAM]))
        .values("student_id", "kind", "ordinal", "title", "value__code", "locked_at", "version")
    )
    grades: dict[tuple[int, str, int], tuple[str, bool, int]] = {}
    thematic: dict[int, str] = {}
    kinds_present: set[str] = set()
    for g in grade_rows:
        grades[(g["student_id"], g["kind"], g["ordinal"])] = (
            g["value__code"],
            g["locked_at"] is not None,
            g["version"],
        )
        kinds_present.add(g["kind"])
        if g["kind"] == GradeKind.THEMATIC:
            thematic.setdefault(g["ordinal"], g["title"])
    leaf_ends = [p.end for p in periods]
    is_last = not periods or period.end >= max(leaf_ends)
    labels = dict(GradeKind.choices)
    columns = [
        PeriodColumn(GradeKind.THEMATIC, o, t or f"{labels[GradeKind.THEMATIC]} {o}")
        for o, t in sorted(thematic.items())
    ]
    columns.append(PeriodColumn(GradeKind.PERIOD, 0, str(labels[GradeKind.PERIOD])))
    columns.append(PeriodColumn(GradeKind.CORRECTED, 0, str(labels[GradeKind.CORRECTED])))
    for kind in (GradeKind.ANNUAL, GradeKind.EXAM):
        if is_last or kind in kinds_present:
            columns.append(PeriodColumn(kind, 0, str(labels[kind])))

    rows = []
    lesson_keys = [
        (lesson.id, lesson.date, "cancelled" if lesson.cancelled else "future" if lesson.is_future else "")
        for lesson in lessons
    ]
    blank_cells = [(lesson_id, "", "0.0", False, future, None) for lesson_id, _date, future in lesson_keys]
    none: dict[int, Any] = {}
    for s in students:
        sid = s["student_id"]
        start, end = s["start"], s["end"]
        whole_period = start <= period.start and (end is None or end >= period.end)
        pm = primary.get(sid, none)
        pa = attendance.get(sid, none)
        px = extras.get(sid, none)
        cells = []
        append = cells.append
        # The hot loop (students × lessons): int-keyed dict lookups and tuples; empty cells are shared.
        for (lesson_id, date, future), blank in zip(lesson_keys, blank_cells):  # noqa: B905 - same length
            m = pm.get(lesson_id)
            a = pa.get(lesson_id)
            outside = not whole_period and (date < start or (end is not None and date > end))
            state = "na" if outside else future
            if m is None and a is None:
                append(
                    blank
                    if state == future and lesson_id not in px
                    else (lesson_id, "", "0.0", False, state, px.get(lesson_id))
                )
                continue
            m = m or ("", 0, False)
            a = a or ("", 0, False)
            display = f"{a[0]} {m[0]}" if a[0] and m[0] else a[0] or m[0]
            append((lesson_id, display, f"{m[1]}.{a[1]}", m[2] or a[2], state, px.get(lesson_id)))
        acc = sums.get(sid)
        average = number_format(acc[0] / acc[1], 1) if acc and acc[1] else ""
        rows.append(
            GridRow(
                id=sid,
                name=_name(
                    s["student__user__first_name"], s["student__user__last_name"], s["student__user__patronymic"]
                ),
                left_on=end if end is not None and end < today else None,
                cells=cells,
                period_values=[grades.get((sid, c.kind, c.ordinal), ("", False, 0)) for c in columns],
                count=counts.get(sid, 0),
                average=average,
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
    # 7: the school's attendance codes, so the page knows which typed text is attendance.
    codes = list(AttendanceCode.objects.filter(school_id=school_id).order_by("ordinal").values("code", "name"))
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
        required=required_marks(assignment.hours_per_week),
        remarks=remarks,
        attendance_codes=codes,
        can_add_lesson=is_teacher,
        can_edit_any=any(lesson.editable for lesson in lessons) or (is_teacher and period.id is not None),
        period_editable=is_teacher and period.id is not None,
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
    mark = (
        Mark.objects.filter(lesson_id=lesson.pk, student_id=student_id, work_type_id=default_wt, slot=0)
        .values("value__code", "version", "is_late")
        .first()
    )
    att = (
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


def student_period_stats(assignment: TeachingAssignment, student_id: int, lesson_date: dt.date) -> dict[str, Any]:
    """Accumulation and average of a student in the grid's period containing ``lesson_date`` (R2.6)."""
    periods = _periods(assignment)
    period = choose_period([p for p in periods if p.start <= lesson_date <= p.end], None, lesson_date, assignment.year)
    rows = Mark.objects.filter(
        student_id=student_id,
        lesson__assignment_id=assignment.pk,
        lesson__date__gte=period.start,
        lesson__date__lte=period.end,
        value__isnull=False,
    ).values_list("value__numeric", "work_type__weight")
    count = 0
    total = Decimal(0)
    weights = Decimal(0)
    for numeric, weight in rows:
        count += 1
        if numeric is not None:
            w = Decimal(weight if weight is not None else 1)
            total += Decimal(numeric) * w
            weights += w
    return {
        "count": count,
        "required": required_marks(assignment.hours_per_week),
        "average": number_format(total / weights, 1) if weights else "",
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


def lesson_state(lesson_id: int) -> dict[str, Any] | None:
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
