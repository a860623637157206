"""The education authority's comparison of its schools (issue 11, R6.1, R6.2): the same figures, side by side.

For a chosen period — a year's annual grades, or a kind of period with its number ("Semester 1") of a year
named alike in every school — each school compared gets:

- **progress and quality** (R6.1): the school's total line of the progress report
  (``queries.progress_report`` grouped by the whole school): students, average mark, success rate, quality
  rate and СОУ, each by **the school's own definitions** (``ReportSettings``) and rounding — the figures the
  school itself reports for that period;
- **attendance** (R6.2): lessons missed, excused, unexcused, illness and late arrivals over the period's days
  (``attendance.scoped_rows`` counted by ``journal.absences.absence_counts``, the one definition), and the
  **excused share** = excused ÷ missed × 100 %, rounded by the school's rule (``round_average``).

Each school is read through the viewer's own context in that school (``access.reports.report_assignments``),
so the comparison shows exactly what the viewer would read school by school. School-level aggregates only:
no student, teacher or contact appears. Whole days missed are not compared (they need every student-day,
seconds per school; see docs/reports.md).

Cost: three queries for the calendars and the settings, then three per school (the viewer's context, the
progress aggregate, the attendance aggregate); a school without the chosen period costs one.

The figures leave this module as plain data (:func:`as_data`: one dict per school, the API's shape), which is
also what a background run keeps (:func:`dumps` / :func:`loads`, JSON): the page, the XLSX, the PDF and the API
are all written from it (``authority_exports``), whether it was computed at once or in the background.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from classbook.access.context import build_context
from classbook.access.reports import report_assignments
from classbook.journal.absences import absence_counts
from classbook.reports import attendance, queries
from classbook.reports.models import GroupBy, ReportSettings
from classbook.schools.averages import round_average
from classbook.schools.models import AcademicYear, PeriodKind, School, StudyPeriod

if TYPE_CHECKING:
    from classbook.people.models import User

YEAR = "year"


@dataclass(frozen=True)
class Choice:
    """A period the schools share: ``<year name>|year`` or ``<year name>|<kind>|<ordinal>``."""

    key: str
    label: str

    @property
    def is_year(self) -> bool:
        return self.key.endswith(f"|{YEAR}")


@dataclass
class SchoolLine:
    school_id: int
    name: str
    period: str | None = None  # the school's own period name; None: the school has no such period
    start: dt.date | None = None
    end: dt.date | None = None
    progress: queries.ProgressLine | None = None
    missed: int = 0
    excused: int = 0
    illness: int = 0
    late: int = 0
    excused_share: Decimal | None = None
    shows_sou: bool = False

    @property
    def unexcused(self) -> int:
        return self.missed - self.excused


@dataclass
class Comparison:
    choice: Choice
    lines: list[SchoolLine] = field(default_factory=list)


_ROMAN = ("I", "II", "III", "IV", "V", "VI")


def _numbered(kind: str, ordinal: int, kinds: dict[str, Any]) -> str:
    """A period of every compared school by its kind and number, named as the schools name their own ("I семестр",
    "II четверть"), not "Семестр 1"; a kind without a numbered name keeps the kind and the number."""
    roman = _ROMAN[ordinal - 1] if 0 < ordinal <= len(_ROMAN) else str(ordinal)
    if kind == PeriodKind.SEMESTER:
        return _("Semester %(n)s") % {"n": roman}
    if kind == PeriodKind.HALF:
        return _("Half-year %(n)s") % {"n": roman}
    if kind == PeriodKind.QUARTER:
        return _("Quarter %(n)s") % {"n": roman}
    return f"{kinds.get(kind, kind)} {ordinal}"


@dataclass(frozen=True)
class Calendars:
    """The compared schools' years and periods, read once (two queries)."""

    years: list[AcademicYear]
    periods: list[StudyPeriod]

    def choices(self) -> list[Choice]:
        """Every year name (its annual grades) and kind of period with its number found in the schools, newest
        year first."""
        kinds = dict(PeriodKind.choices)
        out: dict[str, Choice] = {}
        for year in self.years:
            out.setdefault(
                f"{year.name}|{YEAR}", Choice(f"{year.name}|{YEAR}", f"{year.name}: {_('Year (annual grades)')}")
            )
        for year_name in dict.fromkeys(y.name for y in self.years):
            ids = {y.pk for y in self.years if y.name == year_name}
            for p in sorted((p for p in self.periods if p.year_id in ids), key=lambda p: (p.kind, p.ordinal)):
                key = f"{year_name}|{p.kind}|{p.ordinal}"
                out.setdefault(key, Choice(key, f"{year_name}: {_numbered(p.kind, p.ordinal, kinds)}"))
        return sorted(out.values(), key=lambda c: (self._start(c.key), c.key.endswith(f"|{YEAR}"), c.key))

    def _start(self, key: str) -> float:
        name = key.split("|")[0]
        starts = [y.start for y in self.years if y.name == name]
        return -min(starts).toordinal() if starts else 0  # newest year first

    def default(self) -> str:
        """The newest year's first period (by kind and number), else its annual grades."""
        found = self.choices()
        return found[0].key if found else ""

    def match(self, key: str, school: School) -> tuple[AcademicYear, StudyPeriod | None] | None:
        """The school's own year and period for the choice ``key``; None when the school has no such period."""
        parts = key.split("|")
        year = next((y for y in self.years if y.school_id == school.pk and y.name == parts[0]), None)
        if year is None or len(parts) < 2:
            return None
        if parts[1] == YEAR and len(parts) == 2:
            return year, None
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        period = next(
            (p for p in self.periods if p.year_id == year.pk and p.kind == parts[1] and p.ordinal == int(parts[2])),
            None,
        )
        return (year, period) if period is not None else None


def calendars(schools: Iterable[School]) -> Calendars:
    ids = [s.pk for s in schools]
    return Calendars(
        years=list(AcademicYear.objects.filter(school_id__in=ids).order_by("-start", "school_id")),
        periods=list(StudyPeriod.objects.filter(school_id__in=ids).exclude(kind=PeriodKind.YEAR)),
    )


def compare(
    user: User,
    schools: list[School],
    cal: Calendars,
    choice: Choice,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """The comparison of ``schools`` (already the viewer's: ``access.report_runs.compared_schools``)."""
    result = Comparison(choice=choice)
    settings = {s.school_id: s for s in ReportSettings.objects.filter(school__in=schools)}
    for done, school in enumerate(schools):
        if progress is not None:
            progress(done, len(schools))
        line = SchoolLine(school.pk, school.name)
        result.lines.append(line)
        ctx = build_context(user, school)
        picked = cal.match(choice.key, school) if ctx is not None else None
        if ctx is None or picked is None:
            continue
        year, period = picked
        line.period = period.name if period is not None else year.name
        line.start, line.end = (period.start, period.end) if period is not None else (year.start, year.end)
        school_settings = settings.get(school.pk) or ReportSettings.defaults_for(school.pk, school.country)
        line.shows_sou = school_settings.show_sou
        assignments = report_assignments(ctx)
        report = queries.progress_report(
            assignments, queries.Scope(year=year, period=period), GroupBy.SCHOOL, school_settings, school
        )
        line.progress = report.total
        rows = attendance.scoped_rows(assignments, attendance.Range(line.start, line.end))
        counts = absence_counts(rows, by=("school_id",)).get(school.pk)
        if counts is not None:
            line.missed, line.excused, line.illness, line.late = (
                counts.missed,
                counts.excused,
                counts.illness,
                counts.late,
            )
        line.excused_share = round_average(Decimal(line.excused) * 100 / line.missed, school) if line.missed else None
    if progress is not None:
        progress(len(schools), len(schools))
    return result


# --- As plain data (the page, the files, the API and a background run's stored result) -----------------

DECIMALS = ("average", "success_rate", "quality_rate", "sou", "excused_share")
DATES = ("start", "end")


def line_data(line: SchoolLine) -> dict[str, Any]:
    """One school's figures: ``None`` where the school has no such period (or no grade in it); the СОУ only
    where the school shows it."""
    p = line.progress
    has = line.period is not None
    return {
        "school_id": line.school_id,
        "name": line.name,
        "period": line.period,
        "start": line.start,
        "end": line.end,
        "students": p.students if p else None,
        "average": p.average if p else None,
        "success_rate": p.success_rate if p else None,
        "quality_rate": p.quality_rate if p else None,
        "sou": p.sou if p and line.shows_sou else None,
        "missed": line.missed if has else None,
        "excused": line.excused if has else None,
        "unexcused": line.unexcused if has else None,
        "illness": line.illness if has else None,
        "late": line.late if has else None,
        "excused_share": line.excused_share,
    }


def as_data(comparison: Comparison) -> dict[str, Any]:
    return {
        "period": {"key": comparison.choice.key, "label": comparison.choice.label},
        "schools": [line_data(line) for line in comparison.lines],
    }


def dumps(data: dict[str, Any]) -> bytes:
    """The comparison as JSON (decimals as strings, dates ISO), as a background run keeps it."""
    return json.dumps(data, default=str, ensure_ascii=False).encode()


def loads(content: bytes) -> dict[str, Any]:
    """The inverse of :func:`dumps`: decimals and dates back to their types, so they print as computed."""
    data: dict[str, Any] = json.loads(content)
    for school in data["schools"]:
        for key in DECIMALS:
            school[key] = Decimal(school[key]) if school[key] is not None else None
        for key in DATES:
            school[key] = dt.date.fromisoformat(school[key]) if school[key] is not None else None
    return data
