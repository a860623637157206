"""Read models of the reports (R6.1, R6.2): every figure comes from one database aggregation.

The grades a report counts (:func:`counted_grades`) are defined once: the period (semester, quarter)
grades of the chosen period, a corrected grade replacing the grade it corrects (both stay stored,
R2.7), or the annual grades of the year; thematic grades never. Students who left the class before the
period's last day are left out unless the school counts them (``ReportSettings.include_departed``).

The progress report (:func:`progress_report`) groups those grades by class, year level, subject,
teacher or the whole school in one ``GROUP BY`` query (and one more for the total line): counts of
students by their lowest level are differences of ``COUNT(DISTINCT student)`` over cumulative
conditions, so no mark is looked at in Python. The formulas and their sources are in docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Case, Count, Exists, F, IntegerField, Max, Min, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from classbook.core.collation import name_order
from classbook.core.params import is_whole_number
from classbook.journal.models import GradeKind, PeriodGrade
from classbook.people.models import Enrolment
from classbook.reports.models import GroupBy, RateBasis, ReportSettings
from classbook.schools.averages import mean, round_average
from classbook.schools.models import AcademicYear, ScaleLevel, School, SchoolClass, StudyPeriod, TeachingAssignment

# --- What a grade is, as conditions on its value --------------------------------------------------

NOT_ATTESTED = Q(value__period_only=True, value__is_passing=False)  # "н/а"
EXEMPT = Q(value__period_only=True, value__is_passing=True)  # "звільн."
ASSESSED = ~EXEMPT
LOW = Q(value__period_only=False, value__level__in=[ScaleLevel.INITIAL, ScaleLevel.FAIL])  # 1-3; "2"; не зар.
AVERAGE = Q(value__period_only=False, value__level=ScaleLevel.AVERAGE)  # 4-6; "3"
SUFFICIENT = Q(value__period_only=False, value__level=ScaleLevel.SUFFICIENT)  # 7-9; "4"
HIGH = Q(value__period_only=False, value__level=ScaleLevel.HIGH)  # 10-12; "5"
PASSED = Q(value__period_only=False, value__level=ScaleLevel.PASS)  # зар.
NUMBERED = Q(value__period_only=False, value__numeric__isnull=False)

# The Russian СОУ (степень обученности учащихся, В. П. Симонов): the weight of each grade in per cent.
SOU_WEIGHTS = {"high": 100, "sufficient": 64, "average": 36, "low": 16, "not_attested": 7}

LEVELS = ("high", "sufficient", "average", "low")


# The columns each grouping reads: the key first, then what its label is made of.
_GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    GroupBy.CLASS: (
        "assignment__school_class_id",
        "assignment__school_class__name",
        "assignment__school_class__year_level__number",
    ),
    GroupBy.YEAR_LEVEL: (
        "assignment__school_class__year_level_id",
        "assignment__school_class__year_level__number",
        "assignment__school_class__year_level__name",
    ),
    GroupBy.SUBJECT: ("assignment__subject_id", "assignment__subject__name"),
    GroupBy.TEACHER: (
        "assignment__teacher_id",
        "assignment__teacher__last_name",
        "assignment__teacher__first_name",
        "assignment__teacher__patronymic",
    ),
    GroupBy.SCHOOL: (),
}


def report_settings(school: School) -> ReportSettings:
    """The school's definitions, or the defaults when it never changed them (one query)."""
    found = ReportSettings.objects.filter(school=school).first()
    return found or ReportSettings.defaults_for(school.pk, school.country)


@dataclass(frozen=True)
class Scope:
    """What a report covers: a period (or the year's annual grades) and optional narrowing."""

    year: AcademicYear
    period: StudyPeriod | None = None  # None: the annual grades of the year
    school_class: SchoolClass | None = None
    subject_id: int | None = None
    teacher_id: int | None = None
    year_level_id: int | None = None

    @property
    def as_of(self) -> dt.date:
        """The day whose class lists count: the period's (or the year's) last day."""
        return self.period.end if self.period is not None else self.year.end

    @property
    def title(self) -> str:
        return self.period.name if self.period is not None else _("Year (annual grades)")


def _narrow(assignments: QuerySet[TeachingAssignment], scope: Scope) -> QuerySet[TeachingAssignment]:
    qs = assignments.filter(year=scope.year)
    if scope.school_class is not None:
        qs = qs.filter(school_class=scope.school_class)
    if scope.subject_id is not None:
        qs = qs.filter(subject_id=scope.subject_id)
    if scope.teacher_id is not None:
        qs = qs.filter(teacher_id=scope.teacher_id)
    if scope.year_level_id is not None:
        qs = qs.filter(school_class__year_level_id=scope.year_level_id)
    return qs


def enrolled_on(day: dt.date, class_field: str = "assignment__school_class_id") -> Exists:
    """The grade's student belongs to the grade's class on ``day`` (a student who left before is out).

    ``class_field`` is the path to the class from the row (a mark's is ``lesson__assignment__school_class_id``).
    """
    return Exists(
        Enrolment.objects.filter(
            student_id=OuterRef("student_id"),
            school_class_id=OuterRef(class_field),
            start__lte=day,
        ).filter(Q(end__isnull=True) | Q(end__gte=day))
    )


def counted_grades(
    assignments: QuerySet[TeachingAssignment], scope: Scope, *, include_departed: bool
) -> QuerySet[PeriodGrade]:
    """The one definition of the grades a report counts (see the module's docstring)."""
    qs = PeriodGrade.objects.filter(assignment__in=_narrow(assignments, scope).values("pk"), ordinal=0)
    if scope.period is None:
        qs = qs.filter(kind=GradeKind.ANNUAL)
    else:
        # A corrected grade replaces the grade it corrects: keep a row unless another row of the same cell
        # is a corrected grade. One NOT EXISTS at the top level, so the database runs it as an anti-join.
        replaced = PeriodGrade.objects.filter(
            assignment_id=OuterRef("assignment_id"),
            student_id=OuterRef("student_id"),
            period_id=OuterRef("period_id"),
            ordinal=OuterRef("ordinal"),
            kind=GradeKind.CORRECTED,
        ).exclude(pk=OuterRef("pk"))
        qs = qs.filter(period=scope.period, kind__in=[GradeKind.PERIOD, GradeKind.CORRECTED]).exclude(Exists(replaced))
    if not include_departed:
        qs = qs.filter(enrolled_on(scope.as_of))
    return qs


# --- The progress and quality report (R6.1) ---------------------------------------------------------


def _grades(condition: Q) -> Count:
    return Count("id", filter=condition)


# A grade's place in the order of levels; a student counts at the lowest place among their grades.
RANKS = {"not_attested": 0, "low": 1, "average": 2, "sufficient": 3, "high": 4, "passed": 5}


def _per_student() -> dict[str, Any]:
    """Step one, per line and student: the lowest grade's place, and the grades by level and sums."""
    na, low, avg, suf, high = NOT_ATTESTED, LOW, AVERAGE, SUFFICIENT, HIGH
    rank = Case(
        When(na, then=Value(RANKS["not_attested"])),
        When(low, then=Value(RANKS["low"])),
        When(avg, then=Value(RANKS["average"])),
        When(suf, then=Value(RANKS["sufficient"])),
        When(high, then=Value(RANKS["high"])),
        When(PASSED, then=Value(RANKS["passed"])),
        default=None,  # exempt: not assessed
        output_field=IntegerField(),
    )
    sou_points = Case(
        When(high, then=Value(SOU_WEIGHTS["high"])),
        When(suf, then=Value(SOU_WEIGHTS["sufficient"])),
        When(avg, then=Value(SOU_WEIGHTS["average"])),
        When(low, then=Value(SOU_WEIGHTS["low"])),
        When(na, then=Value(SOU_WEIGHTS["not_attested"])),
        default=Value(0),
        output_field=IntegerField(),
    )
    return {
        "lowest": Min(rank),
        "g_all": _grades(Q()),
        "g_assessed": _grades(ASSESSED),
        "g_na": _grades(na),
        "g_low": _grades(low),
        "g_average": _grades(avg),
        "g_sufficient": _grades(suf),
        "g_high": _grades(high),
        "g_passed": _grades(PASSED),
        "sum_numeric": Sum("value__numeric", filter=NUMBERED),
        "n_numeric": _grades(NUMBERED),
        "sou_sum": Sum(sou_points, filter=NUMBERED | NOT_ATTESTED),
        "sou_sum_without_na": Sum(sou_points, filter=NUMBERED),
        "n_sou": _grades((NUMBERED & (low | avg | suf | high)) | NOT_ATTESTED),
        "n_sou_without_na": _grades(NUMBERED & (low | avg | suf | high)),
    }


# Step two, per line over its students: students at or below each place are the cumulative counts
# whose differences are the students by level; the grades' counts and sums add up.
_SUMMED = [name for name in _per_student() if name != "lowest"]


def _outer(quote: Any) -> str:
    lowest = quote("lowest")
    parts = ["COUNT(*) AS s_all", f"COUNT({lowest}) AS s_assessed"]
    parts += [f"SUM(CASE WHEN {lowest} <= {i} THEN 1 ELSE 0 END) AS s_c{i}" for i in range(5)]
    parts += [f"SUM({quote(name)}) AS {name}" for name in _SUMMED]
    return ", ".join(parts)


def _aggregate(grades: QuerySet[Any], key: str | Any | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The figures of every line and of the total in one statement.

    Step one (the ORM's query over the one definition of the counted grades): grades grouped by line and
    student. Step two sums those rows per line; the total first folds each student's rows of every line
    into one (their lowest grade over all lines), then sums. Two levels, because a student's lowest
    grade is a per-student figure (one ``GROUP BY`` would need a ``COUNT(DISTINCT …)`` per level, several
    times slower on PostgreSQL); one statement with a ``WITH``, so step one runs once for both.
    """
    keys = {"k0": F(key) if isinstance(key, str) else key} if key is not None else {}
    inner = grades.order_by().annotate(**keys, sid=F("student_id")).values(*keys, "sid").annotate(**_per_student())
    connection = connections[inner.db]
    sql, params = inner.query.sql_with_params()
    quote = connection.ops.quote_name
    folded = ", ".join([f"MIN({quote('lowest')}) AS {quote('lowest')}", *[f"SUM({n}) AS {n}" for n in _SUMMED]])
    # The SQL text holds only our own column names; every value is a parameter of the ORM's query.
    total = f"SELECT NULL AS k0, {_outer(quote)} FROM (SELECT {folded} FROM per_line GROUP BY sid) per_student"  # noqa: S608
    lines = f" UNION ALL SELECT k0, {_outer(quote)} FROM per_line GROUP BY k0" if key is not None else ""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"WITH per_line AS ({sql}) {total}{lines}", params)
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for name in names:
            if name.startswith(("s_", "g_", "n_")):
                row[name] = int(row[name] or 0)
    return [r for r in rows if r["k0"] is not None], next(r for r in rows if r["k0"] is None)


@dataclass
class ProgressLine:
    """One line of the progress report: a class, year level, subject, teacher, or the total."""

    key: int | None
    label: str
    students: int  # students with a counted grade in the line (exempt ones too)
    by_level: dict[str, int]  # students by their lowest grade: high, sufficient, average, low
    passed_only: int  # students whose only grades are "passed" (pass/fail subjects)
    not_attested: int  # students with at least one "н/а"
    exempt: int  # students exempt from everything in the line
    grades: int
    grades_by_level: dict[str, int]
    grades_not_attested: int
    grades_exempt: int
    average: Decimal | None
    success_rate: Decimal | None
    quality_rate: Decimal | None
    sou: Decimal | None
    rate_base: int  # the denominator of both rates
    success_count: int
    quality_count: int


def _percent(part: int | Decimal, whole: int, school: School) -> Decimal | None:
    return round_average(Decimal(part) * 100 / whole, school) if whole else None


def _line(
    key: int | None, label: str, row: Mapping[str, Any], settings: ReportSettings, school: School
) -> ProgressLine:
    s_all, s_assessed = row["s_all"], row["s_assessed"]
    c0, c1, c2, c3, c4 = (row[f"s_c{i}"] for i in range(5))
    if settings.basis == RateBasis.GRADES:
        base = row["g_assessed"] - (0 if settings.not_attested_fails else row["g_na"])
        success = base - row["g_low"] - (row["g_na"] if settings.not_attested_fails else 0)
        quality = row["g_sufficient"] + row["g_high"] + row["g_passed"]
    else:
        base = s_assessed - (0 if settings.not_attested_fails else c0)
        success = s_assessed - c1
        quality = s_assessed - c2
    sou_sum, n_sou = (
        (row["sou_sum"], row["n_sou"])
        if settings.not_attested_fails
        else (row["sou_sum_without_na"], row["n_sou_without_na"])
    )
    return ProgressLine(
        key=key,
        label=label,
        students=s_all,
        by_level={"low": c1 - c0, "average": c2 - c1, "sufficient": c3 - c2, "high": c4 - c3},
        passed_only=s_assessed - c4,
        not_attested=c0,
        exempt=s_all - s_assessed,
        grades=row["g_all"],
        grades_by_level={lvl: row[f"g_{lvl}"] for lvl in LEVELS},
        grades_not_attested=row["g_na"],
        grades_exempt=row["g_all"] - row["g_assessed"],
        average=mean(row["sum_numeric"] or 0, row["n_numeric"], school),
        success_rate=_percent(success, base, school),
        quality_rate=_percent(quality, base, school),
        sou=_percent(Decimal(sou_sum or 0) / 100, n_sou, school),
        rate_base=base,
        success_count=success,
        quality_count=quality,
    )


def _label(group_by: str, row: Mapping[str, Any]) -> str:
    if group_by == GroupBy.CLASS:
        return str(row["assignment__school_class__name"])
    if group_by == GroupBy.YEAR_LEVEL:
        return str(
            row["assignment__school_class__year_level__name"] or row["assignment__school_class__year_level__number"]
        )
    if group_by == GroupBy.SUBJECT:
        return str(row["assignment__subject__name"])
    if group_by == GroupBy.TEACHER:
        first, patronymic = row["assignment__teacher__first_name"], row["assignment__teacher__patronymic"]
        initials = "".join(f"{p[0]}." for p in (first, patronymic) if p)
        return f"{row['assignment__teacher__last_name']} {initials}".strip()
    return _("Whole school")


def _order(group_by: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
    if group_by == GroupBy.CLASS:
        return (row["assignment__school_class__year_level__number"], row["assignment__school_class__name"])
    if group_by == GroupBy.YEAR_LEVEL:
        return (row["assignment__school_class__year_level__number"],)
    return (_label(group_by, row).lower(),)


@dataclass
class ProgressReport:
    scope: Scope
    group_by: str
    settings: ReportSettings
    lines: list[ProgressLine] = field(default_factory=list)
    total: ProgressLine | None = None


def progress_report(
    assignments: QuerySet[TeachingAssignment], scope: Scope, group_by: str, settings: ReportSettings, school: School
) -> ProgressReport:
    """The progress and quality report (R6.1): two queries whatever the size of the school.

    The figures of the lines and the total (grouped by the line's id only: joining the names into the
    aggregate made PostgreSQL misjudge it), and the lines' names (from the few teaching assignments).
    """
    grades = counted_grades(assignments, scope, include_departed=settings.include_departed)
    report = ProgressReport(scope=scope, group_by=group_by, settings=settings)
    fields = _GROUP_FIELDS[group_by]
    rows, total = _aggregate(grades, fields[0] if fields else None)
    if fields:
        own = [f.removeprefix("assignment__") for f in fields]  # the same columns, read from the assignments
        names = {r[own[0]]: r for r in _narrow(assignments, scope).order_by().values(*own).distinct()}
        for row in rows:
            row.update({f"assignment__{k}": v for k, v in names.get(row["k0"], {}).items()})
        rows.sort(key=lambda r: _order(group_by, r))
        report.lines = [_line(r["k0"], _label(group_by, r), r, settings, school) for r in rows]
    if total["g_all"]:
        report.total = _line(None, _("Total"), total, settings, school)
        if not fields:
            report.lines = [replace_label(report.total, _("Whole school"))]
    return report


def replace_label(line: ProgressLine, label: str) -> ProgressLine:
    return ProgressLine(**{**line.__dict__, "label": label})


# --- The summary sheet of grades (R6.2) ----------------------------------------------------------


@dataclass
class SheetStudent:
    student_id: int
    name: str
    left_on: dt.date | None  # the last day in the class, when the student left before the period ended
    cells: dict[int, str] = field(default_factory=dict)  # subject id -> grade code(s)
    corrected: set[int] = field(default_factory=set)  # subject ids whose grade is a corrected one
    average: Decimal | None = None
    not_attested: int = 0


@dataclass
class SheetSubject:
    subject_id: int
    name: str
    average: Decimal | None = None
    not_attested: int = 0
    exempt: int = 0


@dataclass
class SummarySheet:
    school_class: SchoolClass
    scope: Scope
    subjects: list[SheetSubject]
    students: list[SheetStudent]
    average: Decimal | None = None


def _sheet_students(school_class: SchoolClass, scope: Scope) -> list[SheetStudent]:
    """Everyone in the class at some time in the period, alphabetically; who left is marked."""
    start = scope.period.start if scope.period is not None else scope.year.start
    rows = (
        Enrolment.objects.filter(school_class=school_class, start__lte=scope.as_of)
        .filter(Q(end__isnull=True) | Q(end__gte=start))
        .values("student_id", "student__user__last_name", "student__user__first_name", "student__user__patronymic")
        .annotate(still=Count("id", filter=Q(end__isnull=True) | Q(end__gte=scope.as_of)), last=Max("end"))
        .order_by(*name_order("student__user__"))
    )
    return [
        SheetStudent(
            student_id=r["student_id"],
            name=" ".join(
                p
                for p in (r["student__user__last_name"], r["student__user__first_name"], r["student__user__patronymic"])
                if p
            ),
            left_on=None if r["still"] else r["last"],
        )
        for r in rows
    ]


def summary_sheet(
    assignments: QuerySet[TeachingAssignment],
    school_class: SchoolClass,
    scope: Scope,
    settings: ReportSettings,
    school: School,
) -> SummarySheet:
    """The class's summary sheet of period (or annual) grades, students × subjects (R6.2): five queries.

    Cells show every student who was in the class during the period (those who left are marked);
    the averages and "н/а" counts follow the report settings (who left is out unless counted).
    """
    scope = Scope(year=scope.year, period=scope.period, school_class=school_class)
    class_assignments = _narrow(assignments, scope)
    subjects = [
        SheetSubject(r["subject_id"], r["subject__name"])
        for r in class_assignments.order_by("subject__name", "subject_id")
        .values("subject_id", "subject__name")
        .distinct()
    ]
    students = _sheet_students(school_class, scope)
    by_student = {s.student_id: s for s in students}
    listing = counted_grades(assignments, scope, include_departed=True).values_list(
        "student_id", "assignment__subject_id", "value__code", "kind"
    )
    for student_id, subject_id, code, kind in listing.order_by("student_id", "assignment__subject_id", "assignment_id"):
        row = by_student.get(student_id)
        if row is None:  # a grade of a student who was never in the class during the period
            continue
        row.cells[subject_id] = f"{row.cells[subject_id]} / {code}" if subject_id in row.cells else code
        if kind == GradeKind.CORRECTED:
            row.corrected.add(subject_id)
    counted = counted_grades(assignments, scope, include_departed=settings.include_departed).order_by()
    figures = {
        "total": Sum("value__numeric", filter=NUMBERED),
        "n": _grades(NUMBERED),
        "na": _grades(NOT_ATTESTED),
        "ex": _grades(EXEMPT),
    }
    for r in counted.values("student_id").annotate(**figures):
        if r["student_id"] in by_student:
            by_student[r["student_id"]].average = mean(r["total"] or 0, r["n"], school)
            by_student[r["student_id"]].not_attested = r["na"]
    by_subject = {s.subject_id: s for s in subjects}
    for r in counted.values("assignment__subject_id").annotate(**figures):
        subject = by_subject.get(r["assignment__subject_id"])
        if subject is not None:
            subject.average = mean(r["total"] or 0, r["n"], school)
            subject.not_attested, subject.exempt = r["na"], r["ex"]
    whole = counted.aggregate(**figures)
    return SummarySheet(
        school_class=school_class,
        scope=scope,
        subjects=subjects,
        students=students,
        average=mean(whole["total"] or 0, whole["n"], school),
    )


def level_headers(school: School) -> dict[str, str]:
    """The level columns as the school's teachers name them: "5".."2" on the 5-point scale, else the levels."""
    if school.country == "RU":
        return {"high": "5", "sufficient": "4", "average": "3", "low": "2"}
    return {
        "high": _("high (10-12)"),
        "sufficient": _("sufficient (7-9)"),
        "average": _("average (4-6)"),
        "low": _("initial (1-3)"),
    }


# --- The calendar the filters offer ---------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    years: list[AcademicYear]
    periods: list[StudyPeriod]

    def resolve(self, raw: str) -> tuple[AcademicYear, StudyPeriod | None] | None:
        """ "p<id>" is a study period, "y<id>" a year's annual grades; None for anything else."""
        kind, number = (raw or "")[:1], (raw or "")[1:]
        if not is_whole_number(number):
            return None
        pk = int(number)
        if kind == "y":
            year = next((y for y in self.years if y.pk == pk), None)
            return (year, None) if year is not None else None
        if kind == "p":
            period = next((p for p in self.periods if p.pk == pk), None)
            if period is not None:
                return next(y for y in self.years if y.pk == period.year_id), period
        return None

    def default(self, today: dt.date, *, graded: bool = False) -> str:
        """The choice a report opens on: the shortest period of the current year that holds today, else the
        current year's first period (the current year itself when it has none).

        ``graded`` (the reports of period and annual grades, on a calendar built with ``graded=True``): that
        period when it holds grades already; otherwise the latest period or year that does (``latest_graded``),
        so a report opens on figures rather than on a period whose grades are set only after it ends; the
        running period when nothing holds grades yet.
        """
        current = next((y for y in self.years if y.is_current), self.years[0] if self.years else None)
        if current is None:
            return ""
        mine = [p for p in self.periods if p.year_id == current.pk]
        holding = sorted((p for p in mine if p.start <= today <= p.end), key=lambda p: (p.end - p.start, p.start))
        running = f"p{holding[0].pk}" if holding else f"p{mine[0].pk}" if mine else f"y{current.pk}"
        if not graded or self.has_grades(running):
            return running
        return self.latest_graded() or running

    def has_grades(self, key: str) -> bool:
        """Whether the choice ("p<id>" or "y<id>") holds any grade: a period its period grades, a year its annual
        grades (only on a calendar built with ``graded=True``)."""
        picked = self.resolve(key)
        if picked is None:
            return False
        year, period = picked
        if period is not None:
            return bool(getattr(period, "graded", False))
        return any(getattr(p, "annual", False) for p in self.periods if p.year_id == year.pk)

    def latest_graded(self) -> str:
        """The choice with grades that ended last: a period with period grades or a year with annual grades (at
        the same last day the year wins); "" when no grade is set anywhere."""
        ends = [(p.end, 0, f"p{p.pk}") for p in self.periods if getattr(p, "graded", False)]
        ends += [(y.end, 1, f"y{y.pk}") for y in self.years if self.has_grades(f"y{y.pk}")]
        return max(ends)[2] if ends else ""

    def pending(self, key: str, today: dt.date) -> Pending | None:
        """Why the choice shows no grades when it holds none (it runs or is to come, or its grades are not set
        yet) and the choice to offer instead; None when it holds grades or is not a choice."""
        picked = self.resolve(key)
        if picked is None or self.has_grades(key):
            return None
        year, period = picked
        name, start, end = (period.name, period.start, period.end) if period else (year.name, year.start, year.end)
        offer = self.latest_graded()
        offered = self.resolve(offer) if offer else None
        return Pending(
            name=name,
            is_year=period is None,
            start=start,
            end=end,
            state="running" if start <= today <= end else "future" if today < start else "ended",
            offer=offer,
            offer_label=_choice_label(*offered) if offered else "",
        )


@dataclass(frozen=True)
class Pending:
    """A choice of the grade reports that holds no grades yet: what to say and what to offer instead."""

    name: str
    is_year: bool
    start: dt.date
    end: dt.date
    state: str  # "running", "future" or "ended" (on the day asked)
    offer: str  # the latest choice with grades ("p<id>" / "y<id>"), "" when none
    offer_label: str


def _choice_label(year: AcademicYear, period: StudyPeriod | None) -> str:
    return f"{year.name} · {period.name}" if period is not None else f"{year.name} · {pgettext('study period', 'Year')}"


def calendar(school: School, *, graded: bool = False) -> Calendar:
    """The school's years (newest first) and study periods, for the filters: two queries.

    ``graded``: each period also says whether it holds period grades (``graded``) and annual grades
    (``annual``), for ``Calendar.default(graded=True)`` and ``Calendar.pending`` (two EXISTS in the same query).
    """
    years = list(AcademicYear.objects.filter(school=school).order_by("-start"))
    periods = StudyPeriod.objects.filter(school=school).order_by("year_id", "start", "-end", "ordinal")
    if graded:
        grades = PeriodGrade.objects.filter(school=school, period=OuterRef("pk"))
        periods = periods.annotate(
            graded=Exists(grades.filter(kind=GradeKind.PERIOD, ordinal=0)),
            annual=Exists(grades.filter(kind=GradeKind.ANNUAL)),
        )
    return Calendar(years, list(periods))


# --- The same figures over other rows and other lines (R6.4: curriculum statistics, yearly table) ----------


def figures_by(
    rows: QuerySet[Any], key: str | Any | None, settings: ReportSettings, school: School
) -> tuple[dict[Any, ProgressLine], ProgressLine | None]:
    """The progress report's figures (students by level, average, success, quality, СОУ) of any rows that
    carry a ``value`` and a ``student_id`` — counted period grades, or a journal's marks — grouped by ``key``
    (a field path or an expression; ``None``: only the total). One statement; the one definition above.
    """
    lines, total = _aggregate(rows, key)
    return (
        {r["k0"]: _line(r["k0"], "", r, settings, school) for r in lines},
        _line(None, _("Total"), total, settings, school) if total["g_all"] else None,
    )


def scoped_assignments(assignments: QuerySet[TeachingAssignment], scope: Scope) -> QuerySet[TeachingAssignment]:
    """The teaching assignments a report over ``scope`` covers (its year, class, subject, teacher, year level)."""
    return _narrow(assignments, scope)
