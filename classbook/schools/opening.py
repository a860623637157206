"""Opening a school year (R4.3): the new year with its periods and holidays, the classes promoted with their
students, subgroups, class teachers and teaching assignments, the bells and the weekly timetable — from the
previous year, in one transaction.

``plan_opening`` reads and validates and returns what would be created (the preview); ``open_year`` builds the
same plan under a lock and writes it with bulk inserts. Pages, the API and the ``open_year`` management
command call these two. Nothing of the previous year is changed: its classes, enrolments, subgroups,
assignments and timetable entries stay as they were (the new year's rows are new rows), so its journals and
class lists remain whole. Running it twice does not duplicate: the second run is refused because the year
exists.

Rules (see docs/year-opening.md):

- a class of level *n* becomes a class of level *n + 1* (``5-А`` → ``6-А``: a leading number equal to the
  level is raised, other names are kept); classes of the final level graduate and are not copied;
- new first-level classes are created empty, with the names the manager gives;
- a student is carried when their enrolment in a class of the previous year is open and they have not left
  the school (``left_on``); a held-back student goes to the new class of the same level and name (created
  when there is none, for example for a held-back first-grader when no such first class is opened);
- subgroups are copied with their carried students; class teachers and teaching assignments with the same
  teacher when that person is still a teacher of the school (others are listed in the preview and skipped);
- bell schedules serve the promoted classes as they served the old ones; the weekly timetable in force at
  the end of the previous year is copied for the copied assignments, valid for the whole new year; no
  lessons are generated (the deputy checks the timetable and generates lessons as usual);
- the calendar follows the country's rules and this year's pattern (``holidays.py``, issue 13): public
  holidays are computed for the new year (Orthodox Easter and Trinity by the Julian computus, fixed dates,
  the weekend transfer as the school's ``holiday_rule`` says), never copied; study periods, vacations and the
  school's other days keep last year's place in the week (the 4th Monday of October stays the 4th Monday);
  the school's own holidays keep their date; extra working days are not copied (decided each year), nor
  days that fall outside the new year. Every date carries the reason it got (``why``), shown in the preview;
  the school adds or moves days in the preview (``DayChange``) before confirming.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from classbook.access import structure
from classbook.access.context import build_context
from classbook.core.audit import log_action
from classbook.core.collation import by_name
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.people.models import Enrolment, Membership, Role, Student, User
from classbook.roster.events import announce_enrolment
from classbook.schools import holidays as rules
from classbook.schools.models import (
    AcademicYear,
    ClassKind,
    DayKind,
    HolidayRule,
    School,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    TeachingAssignment,
    YearLevel,
)
from classbook.schools.services import PeriodSpec, standard_period_specs
from classbook.timetable.models import BellSchedule, TimetableEntry

MAX_NAME = 20
BATCH = 1000

_LEADING_NUMBER = re.compile(r"^(\d+)(.*)$")
_YEAR_NUMBER = re.compile(r"\d{4}")


# --- input and plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayChange:
    """A day the school adds, or moves (``name`` of a planned day), in the preview before confirming."""

    name: str
    start: dt.date
    end: dt.date
    kind: str = DayKind.HOLIDAY


@dataclass
class DayPlan:
    """A special day of the new year and why it has its dates (shown in the preview)."""

    kind: str
    name: str
    start: dt.date
    end: dt.date
    why: str

    def get_kind_display(self) -> str:
        return str(DayKind(self.kind).label)


@dataclass(frozen=True)
class OpeningInput:
    """What the manager chooses. ``first_classes`` None means "the same names as last year's first level"."""

    name: str
    start: dt.date
    end: dt.date
    final_level: int | None = None
    first_classes: tuple[str, ...] | None = None
    held_back: frozenset[int] = frozenset()
    copy_timetable: bool = True
    day_changes: tuple[DayChange, ...] = ()


@dataclass
class StudentPlan:
    student_id: int
    name: str
    from_class: str
    to_class: str | None  # None: not carried (graduated or left)
    status: str  # "promoted", "held_back", "graduated", "left"


@dataclass
class ClassPlan:
    name: str
    level: int
    kind: str  # "promoted", "first", "repeat"
    class_kind: str = ClassKind.CLASS
    source_id: int | None = None
    source_name: str = ""
    class_teacher_id: int | None = None
    class_teacher_name: str = ""
    students: list[StudentPlan] = field(default_factory=list)
    subgroups: list[str] = field(default_factory=list)


@dataclass
class OpeningPlan:
    school: School
    source: AcademicYear
    input: OpeningInput
    final_level: int
    first_level: int
    periods: list[PeriodSpec]
    holidays: list[DayPlan]
    holidays_not_copied: list[str]
    classes: list[ClassPlan]
    graduating: list[tuple[str, int]]  # class name, students
    left: list[StudentPlan]
    assignments: int
    assignments_skipped: list[str]
    class_teachers_dropped: list[str]
    entries: int
    reference_day: dt.date | None  # the day of the previous year whose timetable is copied

    @property
    def students(self) -> list[StudentPlan]:
        return [s for c in self.classes for s in c.students]

    @property
    def held_back(self) -> list[StudentPlan]:
        return [s for s in self.students if s.status == "held_back"]

    def summary(self) -> dict[str, Any]:
        return {
            "source_year": self.source.pk,
            "name": self.input.name,
            "start": self.input.start.isoformat(),
            "end": self.input.end.isoformat(),
            "periods": len(self.periods),
            "holidays": len(self.holidays),
            "classes": len(self.classes),
            "graduating_classes": [name for name, _n in self.graduating],
            "students": len(self.students),
            "held_back": sorted(s.student_id for s in self.held_back),
            "left": len(self.left),
            "assignments": self.assignments,
            "assignments_skipped": len(self.assignments_skipped),
            "timetable_entries": self.entries,
        }


@dataclass
class OpeningResult:
    year: AcademicYear
    plan: OpeningPlan
    counts: dict[str, int]


# --- defaults ----------------------------------------------------------------------------------------


def _shift(day: dt.date, years: int = 1) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def latest_year(school: School) -> AcademicYear | None:
    return AcademicYear.objects.filter(school=school).order_by("-start").first()


def next_name(name: str, start: dt.date, end: dt.date) -> str:
    """``2026/2027`` → ``2027/2028``; a name without years becomes ``<start year>/<end year>``."""
    if _YEAR_NUMBER.search(name):
        return _YEAR_NUMBER.sub(lambda m: str(int(m.group()) + 1), name)[:MAX_NAME]
    return f"{start.year}/{end.year}"


def defaults(school: School) -> dict[str, Any]:
    """What the wizard's form starts with: last year shifted by a year, its first-level class names."""
    source = latest_year(school)
    if source is None:
        return {}
    levels = list(
        SchoolClass.objects.filter(school=school, year=source)
        .order_by("year_level__number", "name")
        .values_list("year_level__number", "name")
    )
    first = min((n for n, _name in levels), default=1)
    start, end = _shift(source.start), _shift(source.end)
    if rules.has_country_feasts(school):  # 1 September or the next Monday; the last day keeps its place
        start = rules.first_school_day(school, source.start.year + 1)[0]
        end = rules.align(source.end)[0]
    return {
        "name": next_name(source.name, start, end),
        "start": start,
        "end": end,
        "final_level": max((n for n, _name in levels), default=11),
        "first_classes": [name for n, name in levels if n == first],
        "source": source,
    }


def promoted_name(name: str, level: int) -> str:
    """``5-А`` of level 5 → ``6-А``; a name that does not start with its level's number stays."""
    match = _LEADING_NUMBER.match(name)
    if match and int(match.group(1)) == level:
        return f"{level + 1}{match.group(2)}"[:MAX_NAME]
    return name


# --- permission and validation -----------------------------------------------------------------------


def may_open_year(acting_user: User, school: School) -> bool:
    ctx = build_context(acting_user, school) if getattr(acting_user, "is_authenticated", False) else None
    return ctx is not None and structure.may_open_year(ctx)


def _date(value: dt.date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _check_dates(school: School, data: OpeningInput) -> AcademicYear:
    """The previous year to open from; refuses reversed, too long or overlapping dates and an existing year."""
    name = (data.name or "").strip()
    if not name:
        raise DomainError(_("Enter the name of the new year, for example 2027/2028."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("The name is too long (at most 20 characters)."), field="name")
    if data.start is None or data.end is None:
        raise DomainError(_("Enter the first and the last day of the new year."), field="start")
    if data.end <= data.start:
        raise DomainError(_("The last day must be after the first day."), field="end")
    if (data.end - data.start).days > 400:
        raise DomainError(_("An academic year cannot be longer than 400 days."), field="end")
    same = AcademicYear.objects.filter(school=school, name=name).first()
    if same is not None:
        raise ConflictError(
            _("The year %(name)s exists already (%(start)s - %(end)s); it was opened before.")
            % {"name": same.name, "start": _date(same.start), "end": _date(same.end)},
            code="year_exists",
        )
    overlap = (
        AcademicYear.objects.filter(school=school, start__lte=data.end, end__gte=data.start).order_by("start").first()
    )
    if overlap is not None:
        raise DomainError(
            _("The new year overlaps the year %(name)s (%(start)s - %(end)s). Choose days after it.")
            % {"name": overlap.name, "start": _date(overlap.start), "end": _date(overlap.end)},
            code="overlap",
            field="start",
        )
    source = AcademicYear.objects.filter(school=school, end__lt=data.start).order_by("-start").first()
    if source is None:
        raise DomainError(
            _("There is no earlier year to open the new one from. Create the first year on the years page."),
            field="start",
        )
    if AcademicYear.objects.filter(school=school, start__gt=source.start).exists():
        raise DomainError(_("A later year than %(name)s exists already.") % {"name": source.name}, field="start")
    return source


# Who else is held back: the records app registers the students named by a signed "held back" order of the
# previous year (``records.services.held_back_for_opening``), so the wizard ticks them without retyping.
held_back_sources: list[Callable[[School, AcademicYear], set[int]]] = []


# --- the plan ----------------------------------------------------------------------------------------


@dataclass
class _Source:
    classes: list[Any]
    enrolled: dict[int, list[Any]]  # class id -> current students (rows)
    subgroups: dict[int, list[Any]]  # class id -> subgroups
    subgroup_students: dict[int, set[int]]  # subgroup id -> student ids
    teachers: set[int]  # active teachers of the school now
    teacher_names: dict[int, str]


def _teachers(school: School) -> set[int]:
    today = timezone.localdate()
    return set(
        Membership.objects.filter(school=school, role=Role.TEACHER, is_active=True, user__is_active=True)
        .exclude(until__lt=today)
        .values_list("user_id", flat=True)
    )


def _load(school: School, source: AcademicYear) -> _Source:
    classes = list(
        SchoolClass.objects.filter(school=school, year=source)
        .select_related("year_level", "class_teacher")
        .order_by("year_level__number", "name")
    )
    enrolled: dict[int, list[Any]] = defaultdict(list)
    seen: set[int] = set()
    rows = (
        Enrolment.objects.filter(school=school, school_class__year=source)
        .filter(Q(end__isnull=True) | Q(end__gte=source.end))
        .select_related("student__user")
        .order_by("-start", "-pk")
    )
    for row in rows:
        if row.student_id in seen:
            continue  # two open enrolments: the latest one counts
        seen.add(row.student_id)
        enrolled[row.school_class_id].append(row.student)
    subgroups: dict[int, list[Any]] = defaultdict(list)
    for subgroup in Subgroup.objects.filter(school=school, school_class__year=source).order_by("name"):
        subgroups[subgroup.school_class_id].append(subgroup)
    members: dict[int, set[int]] = defaultdict(set)
    through = Subgroup.students.through
    for subgroup_id, student_id in through.objects.filter(
        subgroup__school=school, subgroup__school_class__year=source
    ).values_list("subgroup_id", "student_id"):
        members[subgroup_id].add(student_id)
    return _Source(
        classes=classes,
        enrolled=enrolled,
        subgroups=subgroups,
        subgroup_students=members,
        teachers=_teachers(school),
        teacher_names={c.class_teacher.pk: c.class_teacher.full_name for c in classes if c.class_teacher is not None},
    )


def _has_left(student: Student, new_start: dt.date) -> bool:
    return student.left_on is not None and student.left_on <= new_start


def _first_names(data: OpeningInput, src: _Source, first_level: int) -> list[str]:
    if data.first_classes is None:
        return [c.name for c in src.classes if c.year_level.number == first_level]
    names: list[str] = []
    for raw in data.first_classes:
        name = raw.strip()
        if not name:
            continue
        if len(name) > MAX_NAME:
            raise DomainError(_("The class name “%(name)s” is too long.") % {"name": name[:30]}, field="first_classes")
        if name in names:
            raise DomainError(_("The class “%(name)s” is named twice.") % {"name": name}, field="first_classes")
        names.append(name)
    return names


def _build(school: School, source: AcademicYear, data: OpeningInput) -> OpeningPlan:
    src = _load(school, source)
    levels = [c.year_level.number for c in src.classes]
    final_level = data.final_level or max(levels, default=11)
    if not 1 <= final_level <= 12:
        raise DomainError(_("The final year level must be between 1 and 12."), field="final_level")
    first_level = min(levels, default=1)

    classes: list[ClassPlan] = []
    by_key: dict[tuple[str, int], ClassPlan] = {}
    names: set[str] = set()
    graduating: list[tuple[str, int]] = []
    dropped_teachers: list[str] = []

    def add(plan: ClassPlan) -> ClassPlan:
        if plan.name in names:
            raise DomainError(
                _("Two classes of the new year would be named “%(name)s”. Rename one of last year's classes first.")
                % {"name": plan.name},
                field="first_classes" if plan.kind == "first" else None,
            )
        classes.append(plan)
        by_key[(plan.name, plan.level)] = plan
        names.add(plan.name)
        return plan

    for old in src.classes:
        level = old.year_level.number
        if level >= final_level:
            graduating.append((old.name, len(src.enrolled.get(old.pk, []))))
            continue
        teacher_id = old.class_teacher_id if old.class_teacher_id in src.teachers else None
        if old.class_teacher_id and teacher_id is None:
            dropped_teachers.append(f"{old.name}: {src.teacher_names.get(old.class_teacher_id, '')}")
        add(
            ClassPlan(
                name=promoted_name(old.name, level),
                level=level + 1,
                kind="promoted",
                class_kind=old.kind,
                source_id=old.pk,
                source_name=old.name,
                class_teacher_id=teacher_id,
                class_teacher_name=src.teacher_names.get(teacher_id, "") if teacher_id else "",
                subgroups=[g.name for g in src.subgroups.get(old.pk, [])],
            )
        )
    for name in _first_names(data, src, first_level):
        if name in names:
            raise DomainError(
                _("The first-year class “%(name)s” has the name of a promoted class.") % {"name": name},
                field="first_classes",
            )
        add(ClassPlan(name=name, level=first_level, kind="first"))

    enrolled_ids = {s.pk for students in src.enrolled.values() for s in students}
    unknown = set(data.held_back) - enrolled_ids
    if unknown:
        raise DomainError(
            _("Only current students of the previous year can be held back (unknown: %(ids)s).")
            % {"ids": ", ".join(str(i) for i in sorted(unknown)[:10])},
            field="held_back",
        )

    held_back = set(data.held_back)
    for source_of_held_back in held_back_sources:
        held_back |= source_of_held_back(school, source) & enrolled_ids
    new_class_of = {c.source_id: c for c in classes if c.source_id}
    left: list[StudentPlan] = []
    for old in src.classes:
        level = old.year_level.number
        for student in by_name(src.enrolled.get(old.pk, []), lambda s: s.user):
            who = student.user.full_name
            if _has_left(student, data.start):
                left.append(StudentPlan(student.pk, who, old.name, None, "left"))
                continue
            if student.pk in held_back:
                target = by_key.get((old.name, level))
                if target is None:
                    name = old.name if old.name not in names else f"{level}-{old.name}"[:MAX_NAME]
                    target = add(ClassPlan(name=name, level=level, kind="repeat", class_kind=old.kind))
                target.students.append(StudentPlan(student.pk, who, old.name, target.name, "held_back"))
                continue
            promoted = new_class_of.get(old.pk)
            if promoted is None:  # a graduate
                continue
            promoted.students.append(StudentPlan(student.pk, who, old.name, promoted.name, "promoted"))

    holidays, not_copied = _holidays(school, source, data)
    copied = [c for c in classes if c.source_id]
    assignments, skipped = _assignments(src, {c.source_id for c in copied if c.source_id})
    reference_day, entries = _entries(school, source, [a.pk for a in assignments]) if data.copy_timetable else (None, 0)
    return OpeningPlan(
        school=school,
        source=source,
        input=data,
        final_level=final_level,
        first_level=first_level,
        periods=_periods(school, source, data),
        holidays=holidays,
        holidays_not_copied=not_copied,
        classes=classes,
        graduating=graduating,
        left=left,
        assignments=len(assignments),
        assignments_skipped=skipped,
        class_teachers_dropped=dropped_teachers,
        entries=entries,
        reference_day=reference_day,
    )


def _mapped(day: dt.date, source: AcademicYear, data: OpeningInput) -> tuple[dt.date, str]:
    """Where last year's ``day`` goes in the new year, and why (the preview shows it)."""
    if day == source.start:
        return data.start, _("the first day of the new year")
    if day == source.end:
        return data.end, _("the last day of the new year")
    new, how = rules.align(day)
    if how == "same":
        return new, _("copied from %(year)s, the same date (%(day)s)") % {"year": source.name, "day": _date(day)}
    return new, _("copied from %(year)s, the same weekday of the same week of the month (%(day)s, %(weekday)s)") % {
        "year": source.name,
        "day": _date(day),
        "weekday": date_format(day, "l"),
    }


def _periods(school: School, source: AcademicYear, data: OpeningInput) -> list[PeriodSpec]:
    """Last year's study periods in this year's pattern (each boundary keeps its place in the week; the
    year's first and last day are the new ones; periods that followed each other still do). Without
    periods last year: the country's standard periods."""
    old = list(StudyPeriod.objects.filter(school=school, year=source).order_by("start", "-end", "pk"))
    if not old:
        why = _("country rule: the standard periods")
        return [dataclasses.replace(spec, why=why) for spec in standard_period_specs(school, data.start, data.end)]
    index = {p.pk: i for i, p in enumerate(old)}
    depth: list[int] = []
    rows: list[dict[str, Any]] = []
    for p in old:
        parent = index.get(p.parent_id) if p.parent_id else None
        depth.append(depth[parent] + 1 if parent is not None and parent < len(depth) else 0)
        start, start_why = _mapped(p.start, source, data)
        end, end_why = _mapped(p.end, source, data)
        rows.append({"p": p, "parent": parent, "start": start, "end": end, "why": [start_why, end_why]})
    # Periods that followed each other last year still do: the earlier one ends the day before the next.
    for a in rows:
        for b in rows:
            follows = a["parent"] == b["parent"] and b["p"].start == a["p"].end + dt.timedelta(days=1)
            if follows and a["end"] != b["start"] - dt.timedelta(days=1):
                a["end"] = b["start"] - dt.timedelta(days=1)
                a["why"][1] = _("the day before %(name)s starts") % {"name": b["p"].name}
    specs = []
    for i, row in enumerate(rows):
        start = max(row["start"], data.start)
        end = min(max(row["end"], start), data.end)
        p = row["p"]
        specs.append(
            PeriodSpec(
                p.kind,
                p.name,
                p.ordinal,
                start,
                end,
                parent=row["parent"],
                depth=depth[i],
                why=_("from: %(start)s; to: %(end)s") % {"start": row["why"][0], "end": row["why"][1]},
            )
        )
    return specs


def _norm_name(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("ʼ", "'").lower().split())


def _holidays(school: School, source: AcademicYear, data: OpeningInput) -> tuple[list[DayPlan], list[str]]:
    """The new year's special days: public holidays computed by the country's rules (never copied), the
    school's other days from last year in this year's pattern, then the school's own changes."""
    rule = rules.holiday_rule(school)
    plans: list[DayPlan] = []
    not_copied: list[str] = []
    names: dict[str, str] = {}  # feast key -> last year's name of it (the school's wording)
    country = rules.has_country_feasts(school)
    for day in SpecialDay.objects.filter(school=school, year=source).order_by("start"):
        if day.kind == DayKind.WORKING:
            not_copied.append(_("%(name)s (an extra working day: decided each year)") % {"name": day.name})
            continue
        feast = None
        if country and day.kind in (DayKind.HOLIDAY, DayKind.DAY_OFF):
            feast = rules.match_feast(school, day.name, day.start, day.end)
        if feast is not None:  # computed below for the new year, not copied
            names.setdefault(feast.key, day.name)
            continue
        if day.kind == DayKind.HOLIDAY:
            start, end = _shift(day.start), _shift(day.end)
            why = _("copied from %(year)s, the same date (%(day)s)") % {"year": source.name, "day": _date(day.start)}
        else:
            start, why = _mapped(day.start, source, data)
            end = start + (day.end - day.start)
        if start < data.start or end > data.end:
            not_copied.append(_("%(name)s (outside the new year)") % {"name": day.name})
            continue
        plans.append(DayPlan(day.kind, day.name, start, end, why))
    for public in rules.public_days(school, data.start, data.end, rule):
        name = names.get(public.feast.key) or public.feast.name
        if rule == HolidayRule.WORKING:
            not_copied.append(
                _("%(name)s %(day)s (public holidays are working days: the school's setting)")
                % {"name": name, "day": _date(public.start)}
            )
            continue
        plans.append(DayPlan(DayKind.HOLIDAY, name, public.start, public.end, public.why))
    _apply_changes(plans, data)
    plans.sort(key=lambda d: (d.start, d.end, d.name))
    return plans, not_copied


def _apply_changes(plans: list[DayPlan], data: OpeningInput) -> None:
    """The school's own additions and moves from the preview: checked, then applied to the plan."""
    by_name = {_norm_name(d.name): d for d in plans}
    for change in data.day_changes:
        name = change.name.strip()
        if not name or len(name) > 120:
            raise DomainError(_("Each added or moved day needs a name (at most 120 characters)."), field="day_changes")
        if change.end < change.start:
            raise DomainError(
                _("“%(name)s”: the last day must not be before the first day.") % {"name": name[:60]},
                field="day_changes",
            )
        if change.start < data.start or change.end > data.end:
            raise DomainError(
                _("“%(name)s”: the days must lie inside the new year.") % {"name": name[:60]}, field="day_changes"
            )
        if change.kind not in DayKind.values or change.kind == DayKind.WORKING:
            raise DomainError(_("“%(name)s”: unknown kind of day.") % {"name": name[:60]}, field="day_changes")
        found = by_name.get(_norm_name(name))
        if found is not None:
            found.why = _("moved by the school (was %(start)s – %(end)s)") % {
                "start": _date(found.start),
                "end": _date(found.end),
            }
            found.start, found.end = change.start, change.end
            continue
        added = DayPlan(change.kind, name, change.start, change.end, _("added by the school"))
        plans.append(added)
        by_name[_norm_name(name)] = added


_DAY = r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}"
_CHANGE_LINE = re.compile(rf"^\s*(?P<start>{_DAY})(?:\s*[–—-]\s*(?P<end>{_DAY}))?\s+(?P<name>.+)$")


def _parse_day(text: str) -> dt.date | None:
    for fmt in ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def day_changes_from_text(text: str) -> tuple[DayChange, ...]:
    """The preview's "add or move days": one day per line, ``DD.MM.YYYY Name`` or ``DD.MM.YYYY - DD.MM.YYYY
    Name`` (ISO dates too). A line naming a planned day moves it; another name adds a holiday. Bad lines are
    refused with the lines named."""
    changes: list[DayChange] = []
    bad: list[str] = []
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > 100:
        raise DomainError(_("At most 100 lines."), field="day_changes")
    for line in lines:
        match = _CHANGE_LINE.match(line)
        start = _parse_day(match.group("start")) if match else None
        end = _parse_day(match.group("end")) if match and match.group("end") else start
        if match is None or start is None or end is None:
            bad.append(line[:60])
            continue
        changes.append(DayChange(name=match.group("name").strip(), start=start, end=end))
    if bad:
        raise DomainError(
            _("Write each day as “DD.MM.YYYY Name” or “DD.MM.YYYY - DD.MM.YYYY Name”; not understood: %(lines)s")
            % {"lines": "; ".join(bad[:10])},
            field="day_changes",
        )
    return tuple(changes)


def _assignments(src: _Source, class_ids: set[int]) -> tuple[list[TeachingAssignment], list[str]]:
    copied, skipped = [], []
    qs = (
        TeachingAssignment.objects.filter(school_class_id__in=class_ids)
        .select_related("teacher", "subject", "school_class", "subgroup")
        .order_by("school_class__name", "subject__name", "pk")
    )
    for assignment in qs:
        if assignment.teacher_id in src.teachers:
            copied.append(assignment)
        else:
            skipped.append(
                _("%(subject)s in %(group)s: %(teacher)s is no longer a teacher of the school")
                % {
                    "subject": assignment.subject.name,
                    "group": assignment.subgroup or assignment.school_class,
                    "teacher": assignment.teacher.full_name,
                }
            )
    return copied, skipped


def _entries_in_force(school: School, source: AcademicYear, assignment_ids: list[int]) -> tuple[dt.date | None, Any]:
    """The weekly timetable in force on the last day the previous year's timetable reaches."""
    active = TimetableEntry.objects.filter(school=school, year=source, withdrawn_at__isnull=True)
    reference_day = active.aggregate(last=Max("valid_until"))["last"]
    if reference_day is None:
        return None, TimetableEntry.objects.none()
    return reference_day, active.filter(
        assignment_id__in=assignment_ids, valid_from__lte=reference_day, valid_until__gte=reference_day
    )


def _entries(school: School, source: AcademicYear, assignment_ids: list[int]) -> tuple[dt.date | None, int]:
    reference_day, qs = _entries_in_force(school, source, assignment_ids)
    return reference_day, qs.count() if reference_day else 0


def _require(acting_user: User, school: School) -> None:
    if not may_open_year(acting_user, school):
        raise PermissionDeniedError(_("Only the administration may open a school year."))


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("ʼ", "'").lower().split())


def held_back_from_list(*, school: School, start: dt.date, text: str) -> frozenset[int]:
    """Students to hold back named one per line by personal file number or full name ("Прізвище Ім'я
    [По батькові]"), among the current students of the year before ``start``. An unknown or ambiguous line
    is refused with the lines named (R4.3: "hold back by a list")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return frozenset()
    if len(lines) > 500:
        raise DomainError(_("At most 500 lines."), field="held_back_list")
    source = AcademicYear.objects.filter(school=school, end__lt=start).order_by("-start").first()
    keys: dict[str, set[int]] = defaultdict(set)
    if source is not None:
        students = (
            Student.objects.filter(school=school, enrolments__school_class__year=source)
            .filter(Q(enrolments__end__isnull=True) | Q(enrolments__end__gte=source.end))
            .select_related("user")
            .distinct()
        )
        for student in students:
            user = student.user
            for key in (student.personal_file_number, user.full_name, f"{user.last_name} {user.first_name}"):
                if key.strip():
                    keys[_norm(key)].add(student.pk)
    found: set[int] = set()
    unknown, ambiguous = [], []
    for line in lines:
        ids = keys.get(_norm(line), set())
        if not ids:
            unknown.append(line[:60])
        elif len(ids) > 1:
            ambiguous.append(line[:60])
        else:
            found |= ids
    if unknown or ambiguous:
        parts = []
        if unknown:
            parts.append(_("not current students: %(lines)s") % {"lines": "; ".join(unknown[:10])})
        if ambiguous:
            parts.append(
                _("more than one student: %(lines)s (use the personal file number)")
                % {"lines": "; ".join(ambiguous[:10])}
            )
        raise DomainError(
            _("Check the list of held-back students — %(problems)s.") % {"problems": "; ".join(parts)},
            field="held_back_list",
        )
    return frozenset(found)


def plan_opening(*, acting_user: User, school: School, data: OpeningInput) -> OpeningPlan:
    """The preview: what opening the year would create, or a ``DomainError`` saying why it cannot (R4.3)."""
    _require(acting_user, school)
    source = _check_dates(school, data)
    return _build(school, source, data)


# --- writing -----------------------------------------------------------------------------------------


def _bulk(model: Any, rows: list[Any]) -> list[Any]:
    return model.objects.bulk_create(rows, batch_size=BATCH)


@transaction.atomic
def open_year(*, acting_user: User, school: School, data: OpeningInput) -> OpeningResult:
    """Open the new school year from the previous one (R4.3): one transaction, bulk inserts, audited.

    Refuses (``DomainError``, nothing written) bad dates, an overlap with another year, unknown held-back
    students and clashing class names; a second run is refused with ``ConflictError`` (code ``year_exists``).
    """
    _require(acting_user, school)
    # Two managers opening at once queue here; the second one then finds the year and is refused.
    School.objects.select_for_update().filter(pk=school.pk).first()
    source = _check_dates(school, data)
    plan = _build(school, source, data)

    year = AcademicYear(school=school, name=data.name.strip(), start=data.start, end=data.end, is_current=False)
    year.full_clean()
    year.save()

    # Study periods, level by level so each knows the period that encloses it (parents are spec indexes).
    periods: list[StudyPeriod | None] = [None] * len(plan.periods)
    for depth in sorted({p.depth for p in plan.periods}):
        todo = [(i, spec) for i, spec in enumerate(plan.periods) if spec.depth == depth]
        rows = [
            StudyPeriod(
                school=school,
                year=year,
                parent=periods[spec.parent] if spec.parent is not None else None,
                kind=spec.kind,
                name=spec.name,
                ordinal=spec.ordinal,
                start=spec.start,
                end=spec.end,
            )
            for _i, spec in todo
        ]
        for (i, _spec), period in zip(todo, _bulk(StudyPeriod, rows), strict=True):
            periods[i] = period

    _bulk(
        SpecialDay,
        [
            SpecialDay(school=school, year=year, kind=d.kind, name=d.name[:120], start=d.start, end=d.end)
            for d in plan.holidays
        ],
    )

    # Year levels the promoted classes need (a school-wide row, created when missing).
    level_ids = dict(YearLevel.objects.filter(school=school).values_list("number", "pk"))
    missing = sorted({c.level for c in plan.classes} - set(level_ids))
    for level in _bulk(YearLevel, [YearLevel(school=school, number=n) for n in missing]):
        level_ids[level.number] = level.pk

    new_classes = _bulk(
        SchoolClass,
        [
            SchoolClass(
                school=school,
                year=year,
                year_level_id=level_ids[c.level],
                name=c.name,
                kind=c.class_kind,
                class_teacher_id=c.class_teacher_id,
            )
            for c in plan.classes
        ],
    )
    class_id = {c.name: obj.pk for c, obj in zip(plan.classes, new_classes, strict=True)}
    new_of_old = {c.source_id: class_id[c.name] for c in plan.classes if c.source_id}

    _bulk(
        Enrolment,
        [
            Enrolment(school=school, student_id=s.student_id, school_class_id=class_id[c.name], start=data.start)
            for c in plan.classes
            for s in c.students
        ],
    )
    for c in plan.classes:  # webhooks (issue 18): each student's place in the new year
        for s in c.students:
            announce_enrolment(
                "new_year",
                school_id=school.pk,
                student_id=s.student_id,
                class_id=class_id[c.name],
                previous_class_id=c.source_id,
                on=data.start,
            )

    # Subgroups of the promoted classes, with the students carried into the class.
    old_subgroups = list(Subgroup.objects.filter(school=school, school_class_id__in=list(new_of_old)))
    new_subgroups = _bulk(
        Subgroup,
        [Subgroup(school=school, school_class_id=new_of_old[g.school_class_id], name=g.name) for g in old_subgroups],
    )
    new_subgroup_of = {old.pk: new.pk for old, new in zip(old_subgroups, new_subgroups, strict=True)}
    promoted_students = {
        c.source_id: {s.student_id for s in c.students if s.status == "promoted"} for c in plan.classes if c.source_id
    }
    through = Subgroup.students.through
    members = through.objects.filter(subgroup_id__in=list(new_subgroup_of)).values_list(
        "subgroup_id", "subgroup__school_class_id", "student_id"
    )
    _bulk(
        through,
        [
            through(subgroup_id=new_subgroup_of[g], student_id=s)
            for g, old_class, s in members
            if s in promoted_students.get(old_class, set())
        ],
    )

    # Teaching assignments (the workload) with the same teacher, subject, hours and scale.
    src_teachers = _teachers(school)
    old_assignments = [
        a
        for a in TeachingAssignment.objects.filter(school_class_id__in=list(new_of_old)).order_by("pk")
        if a.teacher_id in src_teachers
    ]
    new_assignments = _bulk(
        TeachingAssignment,
        [
            TeachingAssignment(
                school=school,
                year=year,
                teacher_id=a.teacher_id,
                school_class_id=new_of_old[a.school_class_id],
                subgroup_id=new_subgroup_of.get(a.subgroup_id) if a.subgroup_id else None,
                subject_id=a.subject_id,
                hours_per_week=a.hours_per_week,
                scale_id=a.scale_id,
            )
            for a in old_assignments
        ],
    )
    new_assignment_of = {old.pk: new.pk for old, new in zip(old_assignments, new_assignments, strict=True)}

    # Bells: each schedule serves the promoted classes as it served the old ones; a first-year class
    # follows the schedule of last year's class of the same name.
    old_by_name = {c.name: c.pk for c in SchoolClass.objects.filter(school=school, year=source)}
    first_of_old = {
        old_by_name[c.name]: class_id[c.name] for c in plan.classes if c.kind == "first" and c.name in old_by_name
    }
    links = BellSchedule.classes.through
    bell_rows = [
        links(bellschedule_id=schedule_id, schoolclass_id=target)
        for schedule_id, old_class in links.objects.filter(
            bellschedule__school=school, schoolclass__year=source
        ).values_list("bellschedule_id", "schoolclass_id")
        for target in (new_of_old.get(old_class), first_of_old.get(old_class))
        if target is not None
    ]
    _bulk(links, bell_rows)

    entries: list[TimetableEntry] = []
    if data.copy_timetable:
        _ref, in_force = _entries_in_force(school, source, list(new_assignment_of))
        entries = _bulk(
            TimetableEntry,
            [
                TimetableEntry(
                    school=school,
                    year=year,
                    assignment_id=new_assignment_of[e.assignment_id],
                    weekday=e.weekday,
                    number=e.number,
                    room_id=e.room_id,
                    parity=e.parity,
                    valid_from=data.start,
                    valid_until=data.end,
                    created_by=acting_user,
                )
                for e in in_force.order_by("pk")
            ],
        )

    counts = {
        "periods": len(periods),
        "holidays": len(plan.holidays),
        "classes": len(new_classes),
        "enrolments": len(plan.students),
        "subgroups": len(new_subgroups),
        "assignments": len(new_assignments),
        "bell_links": len(bell_rows),
        "timetable_entries": len(entries),
    }
    log_action(
        "schools.year.opened",
        actor=acting_user,
        school=school,
        obj=year,
        data={
            **plan.summary(),
            "created": counts,
            "calendar": [[d.name, str(d.start), str(d.end), d.why] for d in plan.holidays]
            + [[p.name, str(p.start), str(p.end), p.why] for p in plan.periods],
        },
    )
    if entries:
        log_action(
            "timetable.entries.copied",
            actor=acting_user,
            school=school,
            obj=year,
            data={"from_year": source.pk, "reference_day": str(plan.reference_day), "entries": len(entries)},
        )
    return OpeningResult(year=year, plan=plan, counts=counts)
