"""The journal's configurable rules and the numbers they produce (R2.2, R2.5-R2.7).

Read-only: the school's ``JournalPolicy``, grade accumulation per student (``journals_accumulation``,
by the one count of ``journal.stats`` that every page, the API and the services use), the basis of
the annual grade and what the school's rule expects of it (a corrected semester grade replaces the
semester grade it corrects), and the notes the grid, the API and the control pages show about period
grades. Writes live in ``services``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from classbook.core.prepared import PreparedModel
from classbook.journal.models import (
    AccumulationPolicy,
    AnnualGradeRule,
    GradeKind,
    JournalPolicy,
    PeriodGrade,
)
from classbook.journal.stats import EMPTY as EMPTY_TALLY
from classbook.journal.stats import MarkTally, journal_tallies
from classbook.people.models import Enrolment, Student
from classbook.schools.models import PeriodKind, ScaleValue, StudyPeriod, Subgroup, TeachingAssignment


class _PeriodCell(Protocol):
    @property
    def period_id(self) -> int: ...

    @property
    def ordinal(self) -> int: ...

    @property
    def kind(self) -> str: ...


_G = TypeVar("_G", bound=_PeriodCell)


def policy_for(school_id: int) -> JournalPolicy:
    """The school's journal rules; the row is created with the defaults the first time it is needed."""
    policy = JournalPolicy.objects.filter(school_id=school_id).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return JournalPolicy.objects.create(school_id=school_id)
    except IntegrityError:  # created by a concurrent request in the meantime
        return JournalPolicy.objects.get(school_id=school_id)


_POLICY = PreparedModel(JournalPolicy, lambda school: JournalPolicy.objects.filter(school_id=school))


def policy_or_default(school_id: int) -> JournalPolicy:
    """The school's journal rules for reading (pages, API): the defaults, unsaved, when the school has no row.

    Compiled once per process (``core.prepared``): the ORM's compilation of this one-row read cost more
    CPU than the read on every grid page and cell answer."""
    return _POLICY.first(school=school_id) or JournalPolicy(school_id=school_id)


def required_marks(hours_per_week: Decimal, policy: JournalPolicy) -> int:
    """Marks a student needs per period: 3 at one lesson a week, 5 at two or more (R2.6)."""
    return policy.min_marks_more_hours if hours_per_week >= 2 else policy.min_marks_one_hour


def correction_last_day(grade: PeriodGrade, policy: JournalPolicy) -> dt.date:
    """The last day a corrected semester grade may be given: N calendar days after the grade was set (R2.7)."""
    return timezone.localdate(grade.set_at) + dt.timedelta(days=policy.correction_window_days)


# --- What a period grade rests on: values, warnings --------------------------------------------


class PeriodSpan(Protocol):
    """A study period as the grid knows it (``StudyPeriod`` or the grid's ``PeriodChoice``)."""

    @property
    def id(self) -> int | None: ...

    @property
    def start(self) -> dt.date: ...

    @property
    def end(self) -> dt.date: ...


@dataclass(frozen=True)
class GradeValue:
    """A grade's value as the rules need it: its code, number, and whether it is "н/а" or "exempt"."""

    code: str
    numeric: Decimal | None = None
    special: bool = False  # a period-only mark: "н/а" (not passing) or "звільн." (passing)
    passing: bool = True

    @property
    def not_attested(self) -> bool:
        return self.special and not self.passing

    @property
    def exempt(self) -> bool:
        return self.special and self.passing

    @classmethod
    def of(cls, value: ScaleValue) -> GradeValue:
        return cls(value.code, value.numeric, value.period_only, value.is_passing)


@dataclass(frozen=True)
class GradeWarning:
    """A school rule the grade does not meet: the grade is saved and the teacher is told (not stored)."""

    code: str
    message: str

    def as_data(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


# --- Accumulation (R2.6) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Accumulation:
    """Marks a student has in a period and how many the school requires (R2.6)."""

    count: int
    required: int
    # In the class (and subgroup) at the period's end: a period grade is due here. False for a student
    # who left during the period (their grade, if any, is still checked).
    stays: bool = True

    @property
    def below(self) -> bool:
        return self.count < self.required


def journals_accumulation(
    assignments: Sequence[TeachingAssignment],
    period: PeriodSpan,
    *,
    policy: JournalPolicy | None = None,
    student_ids: Collection[int] | None = None,
    tallies: Mapping[tuple[int, int], MarkTally] | None = None,
) -> dict[int, dict[int, Accumulation]]:
    """The accumulation count (R2.6), ``{assignment id: {student id: Accumulation}}``: the one definition.

    The count is ``stats.tally_marks``'s (every mark with a value at a lesson of the journal dated in the
    period, several marks at one lesson too; cleared marks do not). Students: everybody in the class (and
    subgroup) at any day of the period. Two queries for any number of journals of one school (a third
    when some have subgroups); with ``student_ids`` (a service checking one student) one
    query, the students taken as given. ``tallies``: the journals' ``stats.journal_tallies`` of the same span,
    when the caller has read them (the forecast needs the averages too): one query fewer.
    """
    if not assignments:
        return {}
    policy = policy or policy_or_default(assignments[0].school_id)
    if tallies is None:
        tallies = journal_tallies(
            [a.pk for a in assignments],
            period.start,
            period.end,
            weighted=policy.weighted_averages,
            student_ids=student_ids,
        )
    if student_ids is not None:
        members: dict[int, dict[int, bool]] = {a.pk: dict.fromkeys(student_ids, True) for a in assignments}
    else:
        members = _journal_members(assignments, period)
    return {
        a.pk: {
            sid: Accumulation(
                tallies.get((a.pk, sid), EMPTY_TALLY).count,
                required_marks(a.hours_per_week, policy),
                stays,
            )
            for sid, stays in members[a.pk].items()
        }
        for a in assignments
    }


def _journal_members(assignments: Sequence[TeachingAssignment], period: PeriodSpan) -> dict[int, dict[int, bool]]:
    """Per journal, its students at any day of the period: ``{student id: in the class at the period's end}``."""
    enrolments = Enrolment.objects.filter(
        school_class_id__in={a.school_class_id for a in assignments}, start__lte=period.end
    ).exclude(end__lt=period.start)
    by_class: dict[int, dict[int, bool]] = defaultdict(dict)
    for class_id, student_id, end in enrolments.values_list("school_class_id", "student_id", "end"):
        stays = end is None or end >= period.end
        by_class[class_id][student_id] = by_class[class_id].get(student_id, False) or stays
    subgroup_ids = {a.subgroup_id for a in assignments if a.subgroup_id}
    in_subgroup: dict[int, set[int]] = defaultdict(set)
    if subgroup_ids:
        through = Subgroup.students.through.objects.filter(subgroup_id__in=subgroup_ids)
        for subgroup_id, student_id in through.values_list("subgroup_id", "student_id"):
            in_subgroup[subgroup_id].add(student_id)
    out = {}
    for a in assignments:
        students = by_class.get(a.school_class_id, {})
        if a.subgroup_id:
            students = {sid: stays for sid, stays in students.items() if sid in in_subgroup[a.subgroup_id]}
        out[a.pk] = students
    return out


def accumulation(
    assignment: TeachingAssignment,
    period: PeriodSpan,
    *,
    policy: JournalPolicy | None = None,
    student_ids: Collection[int] | None = None,
) -> dict[int, Accumulation]:
    """``journals_accumulation`` of one journal: ``{student id: Accumulation}``."""
    return journals_accumulation([assignment], period, policy=policy, student_ids=student_ids)[assignment.pk]


def accumulation_warning(acc: Accumulation, grade: GradeValue | None, policy: JournalPolicy) -> GradeWarning | None:
    """Whether a student's period grade (given, or due and not given yet) breaks the accumulation rule.

    No warning when the school does not check the rule, when the student has enough marks, when the
    grade is "н/а" or "exempt" (they are the answer to too few marks), or when the student left the
    class during the period and has no grade here.
    """
    if policy.accumulation_policy == AccumulationPolicy.OFF or not acc.below:
        return None
    if grade is not None and grade.special:
        return None
    if grade is None and not acc.stays:
        return None
    message = ngettext(
        "%(count)s mark in the period; the school's rule asks for %(required)s.",
        "%(count)s marks in the period; the school's rule asks for %(required)s.",
        acc.count,
    ) % {"count": acc.count, "required": acc.required}
    return GradeWarning("too_few_marks", message)


# --- The annual grade's basis and the school's rule ----------------------------------------------


def _choose_basis(grades: Iterable[_G]) -> list[_G]:
    """One grade per period (and theme number): a corrected grade replaces the period grade it corrects."""
    chosen: dict[tuple[int, int], _G] = {}
    for grade in grades:
        key = (grade.period_id, grade.ordinal)
        if key not in chosen or grade.kind == GradeKind.CORRECTED:
            chosen[key] = grade
    return list(chosen.values())


def annual_grade_basis(assignment: TeachingAssignment, student: Student) -> list[PeriodGrade]:
    """The semester/quarter grades the annual grade is based on, one per period, in order (R2.7).

    Where a corrected grade exists it replaces the period grade it corrects; both stay stored.
    """
    grades = (
        PeriodGrade.objects.filter(
            assignment=assignment, student=student, kind__in=[GradeKind.PERIOD, GradeKind.CORRECTED]
        )
        .select_related("value", "period")
        .order_by("period__start", "ordinal")
    )
    return _choose_basis(grades)


@dataclass(frozen=True)
class BasisGrade:
    """One period grade the annual grade rests on; ``corrected_from`` is the original a corrected grade replaced."""

    period_id: int
    period: str
    value: GradeValue
    corrected_from: str = ""

    @property
    def corrected(self) -> bool:
        return bool(self.corrected_from)

    def label(self) -> str:
        if self.corrected:
            return _("%(period)s: %(value)s (corrected, was %(original)s)") % {
                "period": self.period,
                "value": self.value.code,
                "original": self.corrected_from,
            }
        return f"{self.period}: {self.value.code}"

    def as_data(self) -> dict[str, Any]:
        return {
            "period": self.period_id,
            "period_name": self.period,
            "value": self.value.code,
            "corrected": self.corrected,
            "original": self.corrected_from or None,
        }


@dataclass(frozen=True)
class AnnualExpectation:
    """What the school's rule says of a student's annual grade, and the period grades it rests on.

    ``expected`` is the value the rule gives ("" when it gives none: nothing to go on, "н/а" mixed with
    grades, values without a number that differ); ``mean`` the arithmetic mean it was rounded from.
    """

    basis: tuple[BasisGrade, ...]
    missing: tuple[str, ...] = ()  # periods of the basis's kind without a grade yet
    mean: Decimal | None = None
    expected: str = ""
    expected_numeric: Decimal | None = None
    checked: bool = True  # False when the school switched the check off

    def agrees(self, annual: GradeValue) -> bool:
        if not self.checked or not self.expected:
            return True
        if self.expected_numeric is not None and annual.numeric is not None:
            return annual.numeric == self.expected_numeric
        return annual.code == self.expected

    def warnings(self, annual: GradeValue | None) -> list[GradeWarning]:
        """Warnings about an annual grade (``None``: not given yet, nothing to warn about)."""
        if annual is None or not self.checked:
            return []
        out = []
        if not self.basis:
            out.append(GradeWarning("annual_without_basis", str(_("There are no period grades to base it on."))))
        if self.missing:
            out.append(
                GradeWarning(
                    "annual_basis_incomplete",
                    _("No grade for %(periods)s yet.") % {"periods": ", ".join(self.missing)},
                )
            )
        mixed = [b for b in self.basis if b.value.not_attested]
        if mixed and not self.expected and not annual.not_attested:
            out.append(
                GradeWarning(
                    "annual_basis_not_attested",
                    _("Not attested (%(value)s) in %(periods)s: the rule gives no annual grade.")
                    % {"value": mixed[0].value.code, "periods": ", ".join(b.period for b in mixed)},
                )
            )
        if not self.agrees(annual):
            out.append(GradeWarning("annual_disagrees", self._disagreement(annual)))
        return out

    def _disagreement(self, annual: GradeValue) -> str:
        if self.mean is not None:
            return _(
                "The annual grade %(value)s differs from the school's rule: the mean of the period grades "
                "(%(basis)s) is %(mean)s, which gives %(expected)s."
            ) % {
                "value": annual.code,
                "basis": self.basis_text(),
                "mean": _number(self.mean),
                "expected": self.expected,
            }
        return _("The annual grade %(value)s differs from the period grades (%(basis)s), which give %(expected)s.") % {
            "value": annual.code,
            "basis": self.basis_text(),
            "expected": self.expected,
        }

    def basis_text(self) -> str:
        return "; ".join(b.label() for b in self.basis)

    def title(self) -> str:
        """One line for the grid cell's tooltip: the basis, and what the rule gives."""
        if not self.basis:
            return str(_("Annual grade: no period grades yet."))
        text = _("Annual grade rests on %(basis)s.") % {"basis": self.basis_text()}
        if self.checked and self.expected:
            if self.mean is not None:
                text += " " + _("Mean %(mean)s, the rule gives %(expected)s.") % {
                    "mean": _number(self.mean),
                    "expected": self.expected,
                }
            else:
                text += " " + _("The rule gives %(expected)s.") % {"expected": self.expected}
        return str(text)

    def as_data(self, annual: GradeValue | None = None) -> dict[str, Any]:
        return {
            "basis": [b.as_data() for b in self.basis],
            "missing_periods": list(self.missing),
            "mean": self.mean,
            "expected": self.expected or None,
            "checked": self.checked,
            "warnings": [w.as_data() for w in self.warnings(annual)],
        }


def _number(value: Decimal) -> str:
    """A mean as text: at most two decimals, half up, the reader's decimal separator (9,5; 9,67; 10)."""
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return number_format(q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize())


def annual_expectation_of(
    grades: Iterable[Mapping[str, Any]], periods: Mapping[int, Mapping[str, Any]], policy: JournalPolicy
) -> AnnualExpectation:
    """The school's rule for one student's annual grade, from their period and corrected grade rows.

    ``grades``: rows with ``kind``, ``period_id``, ``ordinal`` and ``value`` (a ``GradeValue``);
    ``periods``: the year's study periods by id (``name``, ``kind``, ``parent_id``).

    The rule (the default ``mean``; docs/journal.md): the basis is one grade per period, a corrected
    grade replacing the original; a period whose parent period is graded too gives way to the parent
    (a half-year grade sums up its quarters); a "year" period is no basis. Exempt periods are left out;
    all exempt gives "exempt"; all "н/а" gives "н/а"; "н/а" mixed with grades gives no value (the
    teacher decides). Otherwise the arithmetic mean of the grades, rounded half up to a whole mark
    (9.5 → 10); values without a number (pass/fail) give their value when they all agree.
    """
    rows = [
        _Row(r["kind"], r["period_id"], r["ordinal"], r["value"])
        for r in grades
        if r["kind"] in (GradeKind.PERIOD, GradeKind.CORRECTED)
        and r["ordinal"] == 0
        and periods.get(r["period_id"], {}).get("kind") != PeriodKind.YEAR
    ]
    originals = {r.period_id: r.value.code for r in rows if r.kind == GradeKind.PERIOD}
    chosen = {r.period_id: r for r in _choose_basis(rows)}

    def graded_ancestor(period_id: int) -> bool:
        parent = periods.get(period_id, {}).get("parent_id")
        while parent is not None:
            if parent in chosen:
                return True
            parent = periods.get(parent, {}).get("parent_id")
        return False

    ordered = sorted(
        (r for pid, r in chosen.items() if not graded_ancestor(pid)),
        key=lambda r: (periods.get(r.period_id, {}).get("start") or dt.date.min, r.period_id),
    )
    basis = tuple(
        BasisGrade(
            r.period_id,
            periods.get(r.period_id, {}).get("name", ""),
            r.value,
            originals.get(r.period_id, "") if r.kind == GradeKind.CORRECTED else "",
        )
        for r in ordered
    )
    kinds = {periods.get(b.period_id, {}).get("kind") for b in basis}
    based_on = {b.period_id for b in basis}
    missing = tuple(
        p["name"]
        for pid, p in sorted(periods.items(), key=lambda item: (item[1].get("start") or dt.date.min, item[0]))
        if p.get("kind") in kinds and pid not in based_on and not graded_ancestor(pid)
    )
    checked = policy.annual_grade_rule != AnnualGradeRule.OFF
    return _expect(basis, missing, checked)


@dataclass(frozen=True)
class _Row:
    kind: str
    period_id: int
    ordinal: int
    value: GradeValue


def _expect(basis: tuple[BasisGrade, ...], missing: tuple[str, ...], checked: bool) -> AnnualExpectation:
    found = AnnualExpectation(basis, missing, checked=checked)
    counted = [b.value for b in basis if not b.value.exempt]
    if not basis:
        return found
    if not counted:  # exempt in every period
        return replace(found, expected=basis[0].value.code)
    if any(v.not_attested for v in counted):
        if all(v.not_attested for v in counted):
            return replace(found, expected=counted[0].code)
        return found
    numbers = [v.numeric for v in counted if v.numeric is not None]
    if len(numbers) == len(counted):
        average = sum(numbers, Decimal(0)) / len(numbers)
        rounded = average.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return replace(found, mean=average, expected=str(rounded), expected_numeric=rounded)
    if len({v.code for v in counted}) == 1:
        return replace(found, expected=counted[0].code)
    return found


def _year_periods(assignment: TeachingAssignment) -> dict[int, dict[str, Any]]:
    rows = StudyPeriod.objects.filter(school_id=assignment.school_id, year_id=assignment.year_id).values(
        "id", "name", "kind", "parent_id", "start"
    )
    return {r["id"]: dict(r) for r in rows}


def _year_grades(assignment: TeachingAssignment, student_ids: Collection[int] | None = None) -> list[dict[str, Any]]:
    """The journal's period, corrected and annual grades of the whole year (with their values): one query."""
    rows = PeriodGrade.objects.filter(
        assignment_id=assignment.pk, kind__in=[GradeKind.PERIOD, GradeKind.CORRECTED, GradeKind.ANNUAL], ordinal=0
    )
    if student_ids is not None:
        rows = rows.filter(student_id__in=student_ids)
    out = []
    for r in rows.order_by("period__start", "period_id").values(
        "student_id",
        "kind",
        "period_id",
        "ordinal",
        "value__code",
        "value__numeric",
        "value__period_only",
        "value__is_passing",
    ):
        value = GradeValue(r["value__code"], r["value__numeric"], r["value__period_only"], r["value__is_passing"])
        out.append({**r, "value": value})
    return out


def annual_expectation(
    assignment: TeachingAssignment, student_id: int, *, policy: JournalPolicy | None = None
) -> AnnualExpectation:
    """The school's rule for one student's annual grade (``annual_expectation_of``): two queries."""
    policy = policy or policy_or_default(assignment.school_id)
    return annual_expectation_of(_year_grades(assignment, [student_id]), _year_periods(assignment), policy)


# --- The notes the grid, the API and the services show -----------------------------------------------


@dataclass(frozen=True)
class GradeFeedback:
    """What the services tell the caller about a grade they saved: warnings and, for an annual grade, its basis."""

    warnings: tuple[GradeWarning, ...] = ()
    annual: AnnualExpectation | None = None
    accumulation: Accumulation | None = None

    def as_data(self) -> dict[str, Any]:
        return {
            "warnings": [w.as_data() for w in self.warnings],
            "basis": self.annual.as_data() if self.annual is not None else None,
        }


def feedback_data(grade: PeriodGrade) -> dict[str, Any]:
    """A saved grade's feedback as plain data for an answer: ``{"warnings": [...], "basis": {...} | None}``."""
    return (grade.feedback or GradeFeedback()).as_data()


def grade_feedback(
    assignment: TeachingAssignment,
    student_id: int,
    period: PeriodSpan,
    kind: str,
    value: GradeValue,
    policy: JournalPolicy,
) -> GradeFeedback:
    """The school's rules applied to one period or annual grade being set: one or two queries.

    A period grade: the accumulation rule (R2.6). An annual grade: the annual rule and its basis. Other
    kinds (thematic, exam) have no rule here.
    """
    if kind == GradeKind.PERIOD:
        if value.special or policy.accumulation_policy == AccumulationPolicy.OFF:
            return GradeFeedback()
        acc = accumulation(assignment, period, policy=policy, student_ids=[student_id])[student_id]
        warning = accumulation_warning(acc, value, policy)
        return GradeFeedback((warning,) if warning else (), accumulation=acc)
    if kind == GradeKind.ANNUAL:
        expectation = annual_expectation(assignment, student_id, policy=policy)
        return GradeFeedback(tuple(expectation.warnings(value)), expectation)
    return GradeFeedback()


@dataclass
class StudentNotes:
    """What the grid and the API say about one student's period grades in one period."""

    accumulation: Accumulation | None = None
    period_warning: GradeWarning | None = None  # on the period grade's cell (given or due)
    annual: AnnualExpectation | None = None
    annual_value: GradeValue | None = None

    @property
    def annual_warnings(self) -> list[GradeWarning]:
        return self.annual.warnings(self.annual_value) if self.annual is not None else []

    def annual_note(self) -> str:
        """The small text in the annual cell: what the rule gives ("≈ 10"), when it gives something."""
        if self.annual is None or not self.annual.checked or not self.annual.expected:
            return ""
        return f"≈{self.annual.expected}"


def period_grade_notes(
    assignment: TeachingAssignment, period: PeriodSpan, *, policy: JournalPolicy | None = None, annual: bool = True
) -> dict[int, StudentNotes]:
    """``{student id: StudentNotes}`` for one journal in one period: the accumulation flag of the period
    grade and (with ``annual``) the annual grade's basis, the rule's value and warnings.

    Four queries whatever the number of students (a fifth for the policy when not given, one more for a
    journal of a subgroup): marks counted per student, the class list, the year's period grades, the
    year's periods. Students appear when they are in the journal in the period.
    """
    policy = policy or policy_or_default(assignment.school_id)
    counts = accumulation(assignment, period, policy=policy)
    grades = _year_grades(assignment) if counts else []
    periods = _year_periods(assignment) if annual and counts else {}
    return period_grade_notes_of(counts, grades, periods, period.id, policy, annual=annual)


def period_grade_notes_of(
    counts: Mapping[int, Accumulation],
    grades: Iterable[Mapping[str, Any]],
    periods: Mapping[int, Mapping[str, Any]],
    period_id: int | None,
    policy: JournalPolicy,
    *,
    annual: bool = True,
) -> dict[int, StudentNotes]:
    """``period_grade_notes`` from what the caller has read: the students' ``Accumulation`` in the period,
    the journal's period, corrected and annual grades of the year (ordinal 0, in the order of their
    periods: rows with ``student_id``, ``kind``, ``period_id``, ``ordinal``, ``value`` a ``GradeValue``)
    and the year's periods (``annual_expectation_of``). No query: the grid passes what ``read_grid`` read.
    """
    period_value: dict[int, GradeValue] = {}
    annual_value: dict[int, GradeValue] = {}
    by_student: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for g in grades:
        by_student[g["student_id"]].append(g)
        if g["kind"] == GradeKind.PERIOD and g["period_id"] == period_id:
            period_value[g["student_id"]] = g["value"]
        elif g["kind"] == GradeKind.ANNUAL:
            annual_value[g["student_id"]] = g["value"]  # ordered by period: the latest wins
    notes = {}
    # The students without a grade of the year (most of them until the first period closes) share one expectation:
    # the same basis (none), worked out once (a frozen value).
    ungraded = annual_expectation_of((), periods, policy) if annual else None
    for sid, acc in counts.items():
        note = StudentNotes(accumulation=acc, period_warning=accumulation_warning(acc, period_value.get(sid), policy))
        if annual:
            own = by_student.get(sid)
            note.annual = annual_expectation_of(own, periods, policy) if own else ungraded
            note.annual_value = annual_value.get(sid)
        notes[sid] = note
    return notes


@dataclass(frozen=True)
class BelowRule:
    """A student of a journal below the accumulation rule in a period (the deputy's control page)."""

    student_id: int
    name: str
    count: int
    required: int
    grade: str  # the period grade given with too few marks, "" while not given


def journals_below_rule(
    assignments: Sequence[TeachingAssignment],
    period: PeriodSpan,
    *,
    policy: JournalPolicy | None = None,
    counts: Mapping[int, Mapping[int, Accumulation]] | None = None,
    names: bool = True,
) -> dict[int, list[BelowRule]]:
    """``{assignment id: [BelowRule]}`` for the journals with students below the accumulation rule (R2.6).

    The same count and the same decision as the grid (``journals_accumulation``, ``accumulation_warning``):
    four queries for any number of journals (counts, class lists, subgroup lists, period grades) and
    one for the names. Empty when the school does not check the rule. A caller that has read
    ``journals_accumulation`` already passes it as ``counts`` (one query: the period grades); without
    ``names`` the names are not read (``BelowRule.name`` is empty).
    """
    if not assignments:
        return {}
    policy = policy or policy_or_default(assignments[0].school_id)
    if policy.accumulation_policy == AccumulationPolicy.OFF:
        return {}
    if counts is None:
        counts = journals_accumulation(assignments, period, policy=policy)
    given: dict[tuple[int, int], GradeValue] = {}
    if period.id is not None:
        rows = PeriodGrade.objects.filter(
            assignment_id__in=[a.pk for a in assignments], period_id=period.id, kind=GradeKind.PERIOD, ordinal=0
        ).values_list(
            "assignment_id", "student_id", "value__code", "value__numeric", "value__period_only", "value__is_passing"
        )
        for assignment_id, student_id, code, numeric, special, passing in rows:
            given[(assignment_id, student_id)] = GradeValue(code, numeric, special, passing)
    flagged: dict[int, list[tuple[int, Accumulation, GradeValue | None]]] = defaultdict(list)
    for assignment_id, students in counts.items():
        for sid, acc in students.items():
            grade = given.get((assignment_id, sid))
            if accumulation_warning(acc, grade, policy) is not None:
                flagged[assignment_id].append((sid, acc, grade))
    ids = {sid for rows in flagged.values() for sid, _acc, _grade in rows} if names else set()
    named = (
        {
            pk: " ".join(p for p in (last, first, patronymic) if p)
            for pk, last, first, patronymic in Student.objects.filter(pk__in=ids).values_list(
                "pk", "user__last_name", "user__first_name", "user__patronymic"
            )
        }
        if ids
        else {}
    )
    return {
        assignment_id: sorted(
            (
                BelowRule(sid, named.get(sid, ""), acc.count, acc.required, grade.code if grade else "")
                for sid, acc, grade in rows
            ),
            key=lambda b: b.name,
        )
        for assignment_id, rows in flagged.items()
    }
