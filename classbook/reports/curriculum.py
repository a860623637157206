"""Read models of the curriculum reports (R6.4, R6.2 for colleges): every figure is an existing definition.

- **Curriculum statistics** (:func:`curriculum_report`): lessons given against the calendar-thematic plan,
  by lesson type, and the results of the control works, by class, subject, teacher, journal or the whole
  school, for a study period or the year. The lesson and plan counts are the programme completion's
  (``planning.queries.completion``, R3.2) over the period's days; the control works' results are the
  progress report's figures (``reports.queries.figures_by``) over the marks of control work types.
- **Yearly summary table of success** (:func:`year_table`, 002): the progress report's figures of the
  counted grades (``reports.queries.counted_grades``) by class × subject and year level × subject, with each
  class's, each year level's and the school's total.
- **Group results for a period** (:func:`group_results`, 004 §4.2.1): the progress report of one college
  group by discipline, with the discipline's teachers.

A constant number of queries whatever the size of the school; no mark is looked at in Python (the
per-assignment counts of the completion are summed per line). Formulas and sources: docs/reports.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classbook.core.collation import name_order
from classbook.journal.models import LessonType, Mark
from classbook.planning.queries import Completion, completion
from classbook.reports.models import GroupBy, ReportSettings
from classbook.reports.queries import (
    ProgressLine,
    ProgressReport,
    Scope,
    counted_grades,
    enrolled_on,
    figures_by,
    progress_report,
    scoped_assignments,
)
from classbook.schools.averages import round_average
from classbook.schools.models import School, SchoolClass, TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange

# Every lesson type of the journal, in its order; the first three are the works the programme counts.
TYPES: tuple[str, ...] = (
    LessonType.CONTROL,
    LessonType.LABORATORY,
    LessonType.PRACTICE,
    LessonType.REGULAR,
    LessonType.NEW_MATERIAL,
    LessonType.COMBINED,
    LessonType.REVISION,
    LessonType.EXCURSION,
)
WORKS = TYPES[:3]


class CurriculumLines(models.TextChoices):
    """What one line of the curriculum statistics is (a filter, not stored)."""

    CLASS = "class", gettext_lazy("Class")
    SUBJECT = "subject", gettext_lazy("Subject")
    TEACHER = "teacher", gettext_lazy("Teacher")
    JOURNAL = "journal", gettext_lazy("Journal (class and subject)")
    SCHOOL = "school", gettext_lazy("Whole school")


# The mark's path to the line's id (the journal's teacher: a substitute's lesson stays in the journal's line).
_MARK_KEYS: dict[str, str | None] = {
    CurriculumLines.CLASS: "lesson__assignment__school_class_id",
    CurriculumLines.SUBJECT: "lesson__assignment__subject_id",
    CurriculumLines.TEACHER: "lesson__assignment__teacher_id",
    CurriculumLines.JOURNAL: "lesson__assignment_id",
    CurriculumLines.SCHOOL: None,
}


def _journal_label(a: TeachingAssignment) -> str:
    subject = f"{a.subject} ({a.subgroup.name})" if a.subgroup_id and a.subgroup else str(a.subject)
    return f"{a.school_class} · {subject} · {a.teacher.short_name}"


_ASSIGNMENT_KEYS: dict[str, Callable[[TeachingAssignment], tuple[int | None, str]]] = {
    CurriculumLines.CLASS: lambda a: (a.school_class_id, str(a.school_class)),
    CurriculumLines.SUBJECT: lambda a: (a.subject_id, str(a.subject)),
    CurriculumLines.TEACHER: lambda a: (a.teacher_id, a.teacher.short_name),
    CurriculumLines.JOURNAL: lambda a: (a.pk, _journal_label(a)),
    CurriculumLines.SCHOOL: lambda a: (None, _("Whole school")),
}


@dataclass
class TypeCount:
    planned: int = 0  # hours of the type in the plans (the whole year)
    due: int = 0  # hours of the type the plans put on the period's lessons up to the day
    conducted: int = 0  # lessons of the type given in the period up to the day


@dataclass
class CurriculumLine:
    """One line of the curriculum statistics: sums of the journals' completion figures, and control results."""

    key: int | None
    label: str
    journals: int = 0
    without_plan: int = 0  # journals whose plan has no topics (or no plan)
    hours_per_week: Decimal = Decimal(0)
    planned_year: int = 0  # the plans' hours for the whole year
    planned: int = 0  # the plans' hours bound to the period's lessons (any day of the period)
    due: int = 0  # the plans' hours bound to the period's lessons up to the day
    conducted: int = 0  # lessons given in the period up to the day (cancelled ones left out)
    by_substitute: int = 0
    behind: int = 0  # Σ per journal max(0, due − given) + plan hours left on cancelled lessons up to the day
    ahead: int = 0  # Σ per journal max(0, given − due): lessons beyond the plan's hours (or without a plan)
    by_type: dict[str, TypeCount] = field(default_factory=lambda: {t: TypeCount() for t in TYPES})
    completion: Decimal | None = None  # given ÷ planned for the period × 100
    control: ProgressLine | None = None  # the results of the control works

    def add(self, c: Completion) -> None:
        self.journals += 1
        self.without_plan += 0 if c.planned else 1
        self.hours_per_week += c.assignment.hours_per_week
        self.planned_year += c.planned
        self.planned += c.planned_in_window
        self.due += c.due
        self.conducted += c.conducted
        self.by_substitute += c.by_substitute
        self.behind += max(0, c.due - c.conducted) + c.due_cancelled
        self.ahead += max(0, c.conducted - c.due)
        for t in TYPES:
            counts = self.by_type[t]
            counts.planned += c.planned_by_type.get(t, 0)
            counts.due += c.due_by_type.get(t, 0)
            counts.conducted += c.conducted_by_type.get(t, 0)


@dataclass
class CurriculumReport:
    scope: Scope
    lines_by: str
    settings: ReportSettings
    start: dt.date
    as_of: dt.date  # the day the "given" and "due" counts stop at: the period's end, or today within it
    lines: list[CurriculumLine] = field(default_factory=list)
    total: CurriculumLine | None = None


def window(scope: Scope, today: dt.date) -> tuple[dt.date, dt.date, dt.date]:
    """The period's (or year's) first and last day, and the day the counts stop at: its last day, or today."""
    start = scope.period.start if scope.period is not None else scope.year.start
    end = scope.as_of
    return start, end, min(end, today)


def control_marks(
    assignments: QuerySet[TeachingAssignment], scope: Scope, *, start: dt.date, as_of: dt.date, include_departed: bool
) -> QuerySet[Mark]:
    """The marks that are results of control works: of a work type marked "control work" (``WorkType.is_control``),
    with a value, at a lesson of the journals in the period up to the day that was not cancelled. A student who
    left the class before the period's last day is out unless the school counts departed students."""
    cancelled = LessonChange.objects.filter(kind=ChangeKind.CANCELLED, lesson__assignment__in=assignments.values("pk"))
    marks = Mark.objects.filter(
        lesson__assignment__in=assignments.values("pk"),
        lesson__date__gte=start,
        lesson__date__lte=as_of,
        work_type__is_control=True,
        value__isnull=False,
    ).exclude(lesson_id__in=cancelled.values("lesson_id"))
    if not include_departed:
        marks = marks.filter(enrolled_on(scope.as_of, "lesson__assignment__school_class_id"))
    return marks


def curriculum_report(
    assignments: QuerySet[TeachingAssignment],
    scope: Scope,
    lines_by: str,
    settings: ReportSettings,
    school: School,
    *,
    today: dt.date,
) -> CurriculumReport:
    """Curriculum statistics (R6.4): five queries (the completion's four, the control works' one)."""
    start, end, as_of = window(scope, today)
    journals = scoped_assignments(assignments, scope)
    report = CurriculumReport(scope=scope, lines_by=lines_by, settings=settings, start=start, as_of=as_of)
    rows = completion(journals, as_of=as_of, since=start, until=end, types=TYPES)
    if not rows:
        return report
    lines: dict[int | None, CurriculumLine] = {}
    total = CurriculumLine(None, _("Total"))
    keyed = _ASSIGNMENT_KEYS[lines_by]
    for row in rows:
        key, label = keyed(row.assignment)
        lines.setdefault(key, CurriculumLine(key, label)).add(row)
        total.add(row)
    marks = control_marks(journals, scope, start=start, as_of=as_of, include_departed=settings.include_departed)
    results, results_total = figures_by(marks, _MARK_KEYS[lines_by], settings, school)
    for line in lines.values():
        line.control = results.get(line.key) if line.key is not None else results_total
    total.control = results_total
    for line in [*lines.values(), total]:
        line.completion = round_average(Decimal(line.conducted * 100) / line.planned, school) if line.planned else None
    ordered = list(lines.values())
    if lines_by in (CurriculumLines.SUBJECT, CurriculumLines.TEACHER):
        ordered.sort(key=lambda line: line.label.lower())
    report.lines, report.total = ordered, total
    return report


# --- The yearly summary table of success (R6.4, 002) --------------------------------------------------------

# Two ids in one text key ("<class id>:<subject id>"), so one GROUP BY gives class × subject lines. (An integer
# key, class id × 2**32 + subject id, came back truncated to 32 bits from PostgreSQL: text has no such trap.)


def _pair(first: str, second: str) -> Concat:
    return Concat(Cast(first, CharField()), Value(":"), Cast(second, CharField()), output_field=CharField())


def split_pair(key: str) -> tuple[int, int]:
    first, second = key.split(":")
    return int(first), int(second)


@dataclass
class TableSection:
    """A class or a year level: its subjects' lines and its total line."""

    key: int
    label: str
    lines: list[ProgressLine]  # one per subject (``key`` is the subject's id)
    total: ProgressLine | None


@dataclass
class YearTable:
    scope: Scope
    settings: ReportSettings
    classes: list[TableSection]
    year_levels: list[TableSection]
    total: ProgressLine | None


def _labelled(line: ProgressLine, label: str, key: int | None = None) -> ProgressLine:
    return ProgressLine(**{**line.__dict__, "label": label, "key": key if key is not None else line.key})


def year_table(
    assignments: QuerySet[TeachingAssignment], scope: Scope, settings: ReportSettings, school: School
) -> YearTable:
    """The year's (or a period's) results by class × subject and year level × subject: five queries."""
    grades = counted_grades(assignments, scope, include_departed=settings.include_departed)
    by_class_subject, _t = figures_by(
        grades, _pair("assignment__school_class_id", "assignment__subject_id"), settings, school
    )
    by_level_subject, _t = figures_by(
        grades, _pair("assignment__school_class__year_level_id", "assignment__subject_id"), settings, school
    )
    by_class, _t = figures_by(grades, "assignment__school_class_id", settings, school)
    by_level, total = figures_by(grades, "assignment__school_class__year_level_id", settings, school)
    names = list(
        scoped_assignments(assignments, scope)
        .order_by("school_class__year_level__number", "school_class__name", "subject__name")
        .values(
            "school_class_id",
            "school_class__name",
            "school_class__year_level_id",
            "school_class__year_level__number",
            "school_class__year_level__name",
            "subject_id",
            "subject__name",
        )
        .distinct()
    )
    subjects = {r["subject_id"]: r["subject__name"] for r in names}
    classes = {r["school_class_id"]: r["school_class__name"] for r in names}
    levels = {
        r["school_class__year_level_id"]: r["school_class__year_level__name"]
        or str(r["school_class__year_level__number"])
        for r in names
    }

    def sections(
        pairs: dict[Any, ProgressLine], totals: dict[Any, ProgressLine], labels: dict[int, str]
    ) -> list[TableSection]:
        out = []
        for key, label in labels.items():  # in the order of the year levels and classes
            lines = sorted(
                (
                    _labelled(line, subjects.get(split_pair(k)[1], "?"), split_pair(k)[1])
                    for k, line in pairs.items()
                    if split_pair(k)[0] == key
                ),
                key=lambda line: line.label.lower(),
            )
            if lines:
                out.append(
                    TableSection(key, label, lines, _labelled(totals[key], _("Total")) if key in totals else None)
                )
        return out

    return YearTable(
        scope=scope,
        settings=settings,
        classes=sections(by_class_subject, by_class, classes),
        year_levels=sections(by_level_subject, by_level, levels),
        total=total,
    )


# --- Group results for a period (R6.2, colleges) ------------------------------------------------------------


@dataclass
class GroupResults:
    group: SchoolClass
    report: ProgressReport
    teachers: dict[int, str]  # discipline id -> its teachers' short names


def group_results(
    assignments: QuerySet[TeachingAssignment],
    group: SchoolClass,
    scope: Scope,
    settings: ReportSettings,
    school: School,
) -> GroupResults:
    """A group's results for a period by discipline (the progress report of the group by subject): three queries."""
    scope = Scope(year=scope.year, period=scope.period, school_class=group)
    report = progress_report(assignments, scope, GroupBy.SUBJECT, settings, school)
    teachers: dict[int, list[str]] = {}
    for a in scoped_assignments(assignments, scope).select_related("teacher").order_by(*name_order("teacher__"), "pk"):
        if a.teacher.short_name not in teachers.setdefault(a.subject_id, []):
            teachers[a.subject_id].append(a.teacher.short_name)
    return GroupResults(group=group, report=report, teachers={k: ", ".join(v) for k, v in teachers.items()})
