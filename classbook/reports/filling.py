"""Read models of the journal filling and control reports (R6.3, R6.10, R6.11): database aggregation only.

- :func:`filling_report` — per journal (teaching assignment), teacher or class, for a month or a study period:
  lessons given, of them given by a substitute, lessons without a topic, without homework, whose register was
  not taken, marks, marks entered late, students and students below the accumulation rule, open and fixed
  control remarks; and each teacher's journal-keeping quality indicator by the school's formula.
- :func:`user_activity` — for some days, who logged in and what they entered in the journals, per user and
  per role.

Every figure has one definition elsewhere and is only narrowed and grouped here:

- a lesson given is a held lesson (``journal.absences.held_lessons``: the timetable did not cancel it) of the
  journal, dated in the days and not after today;
- its register not taken: ``reports.attendance.REGISTER_NOT_TAKEN`` (the "registers not taken" report's);
- a mark entered late: ``Mark.is_late``, set by the journal's services with ``is_late_entry`` when the mark
  was entered or changed after the school's entry deadline (``School.entry_deadline``) on the lesson day or
  on any later day (R2.2) — the flag the grid and the changes log show;
- marks per student and the accumulation rule: ``journal.rules.journals_accumulation`` and
  ``journals_below_rule`` (R2.6), the grid's and the deputy's accumulation page's count and decision;
- remarks: ``journal.models.Remark`` (R6.10) created in the days, open (not fixed yet) or fixed.

A fixed number of queries whatever the number of journals, lessons and marks; Python walks aggregated rows
(one per journal, per student of a journal, per user). docs/reports.md gives every formula.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.core.collation import alphabet_key, person_key
from classbook.core.models import AuditEntry
from classbook.journal.absences import held_lessons
from classbook.journal.models import AccumulationPolicy, ChangeKind, JournalChange, JournalPolicy, Mark, Remark
from classbook.journal.rules import journals_accumulation, journals_below_rule, policy_or_default
from classbook.people.models import Membership, Role, User
from classbook.reports.attendance import REGISTER_NOT_TAKEN, full_name
from classbook.reports.models import QualitySettings
from classbook.reports.queries import Calendar
from classbook.schools.averages import round_average
from classbook.schools.models import School, StudyPeriod, TeachingAssignment

GROUPS = ("journal", "teacher", "class")
MAX_ACTIVITY_DAYS = 31


@dataclass(frozen=True)
class FillingScope:
    """The days a report covers (a month or a study period) and its narrowing."""

    start: dt.date
    end: dt.date
    period: StudyPeriod | None = None  # the accumulation rule is per study period: only then is it checked
    school_class_id: int | None = None
    teacher_id: int | None = None


@dataclass
class Figures:
    """The filling figures of a journal, a teacher, a class or the total."""

    lessons: int = 0
    substitute: int = 0  # of them given by a substitute
    no_topic: int = 0
    no_homework: int = 0
    no_register: int = 0
    marks: int = 0
    late_marks: int = 0
    students: int | None = None  # None: not checked (a month, or the school does not check the rule)
    below_rule: int | None = None
    min_marks: int | None = None  # the fewest marks a student of the journal has in the period
    remarks_open: int = 0
    remarks_fixed: int = 0
    # The indicator counts the lessons the teacher gave themselves (a substitute's are not theirs).
    own_lessons: int = 0
    own_no_topic: int = 0
    own_no_homework: int = 0
    own_no_register: int = 0

    def add(self, other: Figures) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "min_marks":
                if theirs is not None:
                    setattr(self, f.name, theirs if mine is None else min(mine, theirs))
            elif theirs is not None:
                setattr(self, f.name, (mine or 0) + theirs)


@dataclass
class Component:
    """One part of the quality indicator: a share in per cent and its weight (``share`` None: nothing to
    measure, the part is left out)."""

    key: str
    label: str
    weight: int
    part: int
    whole: int
    share: Decimal | None


@dataclass
class FillingLine:
    key: int | None
    label: str
    figures: Figures
    teacher_id: int | None = None
    order: tuple[Any, ...] = ()
    components: list[Component] = field(default_factory=list)
    score: Decimal | None = None


@dataclass
class FillingReport:
    scope: FillingScope
    group_by: str
    lines: list[FillingLine]
    total: FillingLine
    teachers: list[FillingLine]  # one per teacher, with the quality indicator
    quality: QualitySettings
    checked: bool  # the accumulation rule is checked (a period, and the school checks it)


def parse_month(raw: str) -> tuple[dt.date, dt.date] | None:
    """ "2026-10" → the month's first and last day; None for anything else."""
    try:
        first = dt.date.fromisoformat(f"{raw}-01") if len(raw) == 7 else None
    except ValueError:
        return None
    if first is None:
        return None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def resolve_scope(
    cal: Calendar, *, period: str, month: str, school_class_id: int | None, teacher_id: int | None
) -> tuple[FillingScope, str] | None:
    """The days of a month ("2026-10", first when given) or of a study period / year ("p<id>", "y<id>"), and a
    title; None when neither names anything."""
    days = parse_month(month) if month else None
    if days is not None:
        return FillingScope(days[0], days[1], None, school_class_id, teacher_id), f"{days[0]:%m.%Y}"
    if month:
        return None
    picked = cal.resolve(period)
    if picked is None:
        return None
    year, study = picked
    start, end = (study.start, study.end) if study else (year.start, year.end)
    title = f"{study.name if study else year.name} ({start:%d.%m.%Y} – {end:%d.%m.%Y})"
    return FillingScope(start, end, study, school_class_id, teacher_id), title


def quality_settings(school: School) -> QualitySettings:
    """The school's quality formula, or the defaults (every weight 1; not saved)."""
    return QualitySettings.objects.filter(school=school).first() or QualitySettings(school=school)


def _until_today(scope: FillingScope) -> tuple[dt.date, dt.date]:
    return scope.start, min(scope.end, timezone.localdate())


def _journals(assignments: QuerySet[TeachingAssignment], scope: FillingScope) -> list[TeachingAssignment]:
    qs = assignments
    if scope.school_class_id is not None:
        qs = qs.filter(school_class_id=scope.school_class_id)
    if scope.teacher_id is not None:
        qs = qs.filter(teacher_id=scope.teacher_id)
    if scope.period is not None:
        qs = qs.filter(year_id=scope.period.year_id)
    else:
        qs = qs.filter(year__start__lte=scope.end, year__end__gte=scope.start)
    return list(
        qs.select_related("school_class__year_level", "subject", "teacher", "subgroup").order_by(
            "school_class__year_level__number", "school_class__name", "subject__name", "subgroup__name", "pk"
        )
    )


def _lesson_counts(ids: list[int], start: dt.date, end: dt.date) -> dict[int, dict[str, int]]:
    """One query: the lesson figures per journal, all lessons and those the journal's teacher gave."""
    substitute = Q(conducted_by__isnull=False) & ~Q(conducted_by_id=F("assignment__teacher_id"))
    own = ~substitute
    no_topic, no_homework = Q(topic=""), Q(homework="")
    rows = (
        held_lessons()
        .filter(assignment_id__in=ids, date__range=(start, end))
        .order_by()
        .values("assignment_id")
        .annotate(
            lessons=Count("pk"),
            substitute=Count("pk", filter=substitute),
            no_topic=Count("pk", filter=no_topic),
            no_homework=Count("pk", filter=no_homework),
            no_register=Count("pk", filter=REGISTER_NOT_TAKEN),
            own_lessons=Count("pk", filter=own),
            own_no_topic=Count("pk", filter=own & no_topic),
            own_no_homework=Count("pk", filter=own & no_homework),
            own_no_register=Count("pk", filter=own & REGISTER_NOT_TAKEN),
        )
    )
    return {r.pop("assignment_id"): r for r in rows}


def _mark_counts(ids: list[int], start: dt.date, end: dt.date) -> dict[int, dict[str, int]]:
    """One query: marks with a value at the journal's lessons in the days, and of them those entered late."""
    rows = (
        Mark.objects.filter(lesson__assignment_id__in=ids, lesson__date__range=(start, end), value__isnull=False)
        .order_by()
        .values("lesson__assignment_id")
        .annotate(marks=Count("pk"), late_marks=Count("pk", filter=Q(is_late=True)))
    )
    return {r.pop("lesson__assignment_id"): r for r in rows}


def _remark_counts(ids: list[int], start: dt.date, end: dt.date) -> dict[int, dict[str, int]]:
    """One query: the control remarks on the journal written in the days, open and fixed now."""
    rows = (
        Remark.objects.filter(assignment_id__in=ids, created_at__date__range=(start, end))
        .order_by()
        .values("assignment_id")
        .annotate(
            remarks_open=Count("pk", filter=Q(fixed_at__isnull=True)),
            remarks_fixed=Count("pk", filter=Q(fixed_at__isnull=False)),
        )
    )
    return {r.pop("assignment_id"): r for r in rows}


def _accumulation(
    journals: list[TeachingAssignment], period: StudyPeriod, policy: JournalPolicy
) -> dict[int, tuple[int, int, int | None]]:
    """``{journal: (students staying in it, students below the rule, fewest marks)}``: the journal's own count
    and decision (``journals_accumulation``, ``journals_below_rule``)."""
    counts = journals_accumulation(journals, period, policy=policy)
    below = journals_below_rule(journals, period, policy=policy, counts=counts, names=False)
    out = {}
    for journal_id, students in counts.items():
        staying = [acc.count for acc in students.values() if acc.stays]
        out[journal_id] = (len(staying), len(below.get(journal_id, ())), min(staying) if staying else None)
    return out


def _label(group_by: str, a: TeachingAssignment) -> tuple[int, str, tuple[Any, ...]]:
    teacher = a.teacher.short_name
    if group_by == "teacher":
        return a.teacher_id, teacher, person_key(a.teacher)
    if group_by == "class":
        c = a.school_class
        return c.pk, str(c), (c.year_level.number if c.year_level_id else 0, c.name, c.pk)
    subject = a.subject.name + (f" ({a.subgroup.name})" if a.subgroup_id and a.subgroup else "")
    return a.pk, f"{a.school_class} · {subject} · {teacher}", ()


def filling_report(
    assignments: QuerySet[TeachingAssignment], school: School, scope: FillingScope, group_by: str
) -> FillingReport:
    """The journal filling report over the user's journals (``access.reports.report_assignments``): six
    queries (journals, the formula, the policy, lessons, marks, remarks) and, over a study period, four more
    for the accumulation rule (marks per student, class lists, subgroup lists, period grades) — whatever the
    number of journals, lessons and marks."""
    journals = _journals(assignments, scope)
    quality = quality_settings(school)
    ids = [a.pk for a in journals]
    start, end = _until_today(scope)
    policy = policy_or_default(school.pk)
    checked = scope.period is not None and policy.accumulation_policy != AccumulationPolicy.OFF
    per: dict[int, Figures] = {a.pk: Figures() for a in journals}
    if ids:
        for counts in (_lesson_counts(ids, start, end), _mark_counts(ids, start, end), _remark_counts(ids, start, end)):
            for journal_id, values in counts.items():
                for name, value in values.items():
                    setattr(per[journal_id], name, value)
        if checked and scope.period is not None:
            for journal_id, (students, below, fewest) in _accumulation(journals, scope.period, policy).items():
                fig = per[journal_id]
                fig.students, fig.below_rule, fig.min_marks = students, below, fewest
    lines: dict[int, FillingLine] = {}
    teachers: dict[int, FillingLine] = {}
    for position, a in enumerate(journals):
        key, label, order = _label(group_by, a)
        line = lines.get(key)
        if line is None:
            line = lines[key] = FillingLine(key, label, Figures(), order=order or (position,))
            if group_by != "class":
                line.teacher_id = a.teacher_id
        line.figures.add(per[a.pk])
        t_key, t_label, t_order = _label("teacher", a)
        teacher = teachers.get(t_key)
        if teacher is None:
            teacher = teachers[t_key] = FillingLine(t_key, t_label, Figures(), teacher_id=t_key, order=t_order)
        teacher.figures.add(per[a.pk])
    total = FillingLine(None, _("Total"), Figures())
    for line in lines.values():
        total.figures.add(line.figures)
    for teacher in teachers.values():
        teacher.components, teacher.score = quality_score(teacher.figures, quality, school)
    return FillingReport(
        scope=scope,
        group_by=group_by,
        lines=sorted(lines.values(), key=lambda line: line.order),
        total=total,
        teachers=sorted(teachers.values(), key=lambda line: line.order),
        quality=quality,
        checked=checked,
    )


# --- The quality indicator (R6.11) ------------------------------------------------------------------------

COMPONENTS = ("topic", "homework", "register", "timely", "accumulation", "remarks")


def component_labels() -> dict[str, str]:
    return {
        "topic": _("Lessons with a topic"),
        "homework": _("Lessons with homework"),
        "register": _("Registers taken"),
        "timely": _("Marks entered on time"),
        "accumulation": _("Students with enough marks"),
        "remarks": _("Remarks fixed"),
    }


def _parts(fig: Figures) -> dict[str, tuple[int, int]]:
    """Each component's (part, whole) from a teacher's figures (own lessons only; see ``Figures``)."""
    students = fig.students or 0
    return {
        "topic": (fig.own_lessons - fig.own_no_topic, fig.own_lessons),
        "homework": (fig.own_lessons - fig.own_no_homework, fig.own_lessons),
        "register": (fig.own_lessons - fig.own_no_register, fig.own_lessons),
        "timely": (fig.marks - fig.late_marks, fig.marks),
        "accumulation": (students - (fig.below_rule or 0), students),
        "remarks": (fig.remarks_fixed, fig.remarks_open + fig.remarks_fixed),
    }


def quality_score(fig: Figures, quality: QualitySettings, school: School) -> tuple[list[Component], Decimal | None]:
    """Score = Σ weight × share ÷ Σ weight over the components with something to measure (share in per cent,
    part ÷ whole × 100); a component with nothing to measure (no lessons, no marks, no remarks, the rule not
    checked) or weight 0 is left out with its weight. None when nothing is left. Rounded like averages."""
    labels = component_labels()
    out = []
    weighted, weights = Decimal(0), 0
    for key, (part, whole) in _parts(fig).items():
        weight = getattr(quality, f"w_{key}")
        share = Decimal(part) * 100 / whole if whole else None
        out.append(Component(key, labels[key], weight, part, whole, round_average(share, school)))
        if share is not None and weight:
            weighted += weight * share
            weights += weight
    return out, round_average(weighted / weights, school) if weights else None


def quality_formula(quality: QualitySettings) -> str:
    """The formula as the school set it, printed on the report."""
    labels = component_labels()
    terms = " + ".join(f"{getattr(quality, f'w_{k}')} × «{labels[k]}, %»" for k in COMPONENTS)
    total = " + ".join(str(getattr(quality, f"w_{k}")) for k in COMPONENTS)
    return _(
        "Quality indicator = (%(terms)s) ÷ (%(weights)s); a component with nothing to measure is left out "
        "with its weight."
    ) % {"terms": terms, "weights": total}


# --- Daily user activity (R6.3) ------------------------------------------------------------------------

ACTIVITY_KINDS = {
    ChangeKind.LESSON: "lessons",
    ChangeKind.MARK: "marks",
    ChangeKind.ATTENDANCE: "absences",
    ChangeKind.TOPIC: "topics",
    ChangeKind.HOMEWORK: "homework",
}


@dataclass
class Activity:
    user_id: int | None
    name: str
    roles: str
    logins: int = 0
    lessons: int = 0
    marks: int = 0
    absences: int = 0
    topics: int = 0
    homework: int = 0
    order: tuple[Any, ...] = ()

    def add(self, other: Activity) -> None:
        for name in ("logins", "lessons", "marks", "absences", "topics", "homework"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class ActivityReport:
    start: dt.date
    end: dt.date
    users: list[Activity]
    by_role: list[Activity]
    total: Activity


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The days as an interval of aware datetimes in the school's time zone (the index on ``at`` is used)."""
    tz = timezone.get_current_timezone()
    first = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return first, after


def user_activity(
    school: School, logins: QuerySet[AuditEntry], members: QuerySet[Membership], start: dt.date, end: dt.date
) -> ActivityReport:
    """Who logged in and what they entered in the school's journals on the days: four queries.

    ``logins`` are the school's members' own account entries (``access.scopes.audit_entries_of_members``),
    of which ``people.login``; entries are journal changes (``JournalChange``) the user wrote — every
    writing of a mark, an attendance entry, a topic or homework counts once (a mark changed twice, twice).
    A user's roles are their current roles in the school.
    """
    first, after = _bounds(start, end)
    users: dict[int, Activity] = {}
    login_rows = (
        logins.filter(action="people.login", at__gte=first, at__lt=after)
        .order_by()
        .values("subject_id")
        .annotate(n=Count("pk"))
    )
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for r in login_rows:
        counts[r["subject_id"]]["logins"] = r["n"]
    changes = (
        JournalChange.objects.filter(school=school, at__gte=first, at__lt=after, kind__in=list(ACTIVITY_KINDS))
        .order_by()
        .values("actor_id", "kind")
        .annotate(n=Count("pk"))
    )
    for r in changes:
        counts[r["actor_id"]][ACTIVITY_KINDS[r["kind"]]] = r["n"]
    if counts:
        role_names = dict(Role.choices)
        roles: dict[int, set[str]] = defaultdict(set)
        for uid, role in members.filter(user_id__in=list(counts)).values_list("user_id", "role"):
            roles[uid].add(role)
        for uid, last, first_name, patronymic in User.objects.filter(pk__in=list(counts)).values_list(
            "pk", "last_name", "first_name", "patronymic"
        ):
            users[uid] = Activity(
                uid,
                full_name(last, first_name, patronymic),
                ", ".join(str(role_names.get(r, r)) for r in sorted(roles[uid])),
                order=(alphabet_key(last or "", first_name or "", patronymic or ""), uid),
                **counts[uid],
            )
    by_role: dict[str, Activity] = {}
    for activity in users.values():
        key = activity.roles or "—"
        line = by_role.setdefault(key, Activity(None, key, key, order=(key,)))
        line.add(activity)
    total = Activity(None, _("Total"), "")
    for activity in users.values():
        total.add(activity)
    return ActivityReport(
        start,
        end,
        sorted(users.values(), key=lambda a: a.order),
        sorted(by_role.values(), key=lambda a: a.order),
        total,
    )
