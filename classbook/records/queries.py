"""Read models of the record books: the book of orders, a student's personal file, the alphabetical book.

Every row comes through ``classbook.access`` scopes; a fixed number of queries per page, whatever the size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet

from classbook.access import records as rules
from classbook.access import scopes
from classbook.access.context import SchoolContext
from classbook.journal.models import GradeKind, PeriodGrade
from classbook.people.models import Student
from classbook.records.models import Order, OrderKind, OrderLine
from classbook.schools.models import AcademicYear, SchoolClass

# Kinds that move a student in or out of the school, cited by the alphabetical book.
ARRIVAL_KINDS = (OrderKind.ARRIVAL,)
LEAVING_KINDS = (OrderKind.DEPARTURE, OrderKind.GRADUATION)


def order_list(ctx: SchoolContext, *, year: AcademicYear | None, kind: str = "") -> list[Order]:
    """The book of orders of a year, newest first, with their lines (two queries)."""
    qs = rules.orders(ctx)
    if year is not None:
        qs = qs.filter(year=year)
    if kind in OrderKind.values:
        qs = qs.filter(kind=kind)
    lines = OrderLine.objects.select_related("student__user", "target_class")
    return list(qs.prefetch_related(Prefetch("lines", queryset=lines)).order_by("-date", "-number"))


def book_of_orders(ctx: SchoolContext, year: AcademicYear) -> list[Order]:
    """The signed orders of a year in the book's order (by number), for printing."""
    lines = OrderLine.objects.select_related("student__user", "target_class")
    qs = rules.orders(ctx).filter(year=year, signed_at__isnull=False).order_by("number")
    return list(qs.prefetch_related(Prefetch("lines", queryset=lines)))


def order_detail(ctx: SchoolContext, order_id: int) -> Order:
    lines = OrderLine.objects.select_related("student__user", "target_class__year")
    return scopes.get_or_404(rules.orders(ctx).prefetch_related(Prefetch("lines", queryset=lines)), pk=order_id)


def years(ctx: SchoolContext) -> QuerySet[AcademicYear]:
    return scopes.directory(ctx, AcademicYear).order_by("-start")


def default_year(ctx: SchoolContext) -> AcademicYear | None:
    qs = years(ctx)
    return qs.filter(is_current=True).first() or qs.first()


def classes_for_orders(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes an order may name (any year: a held-back student goes to next year's class)."""
    return scopes.roster_classes(ctx).order_by("-year__start", "year_level__number", "name")


def students_for_orders(ctx: SchoolContext) -> QuerySet[Student]:
    return scopes.roster_students(ctx).order_by("user__last_name", "user__first_name", "user__patronymic")


# --- the personal file (annex 5) -------------------------------------------------------------------------


@dataclass
class Movement:
    day: Any
    what: str
    school_class: str
    reference: str


@dataclass
class YearResults:
    year: str
    columns: list[str]
    rows: list[tuple[str, list[str]]]


@dataclass
class PersonalFile:
    student: Student
    show_contacts: bool
    enrolments: list[Any]
    movements: list[Movement]
    results: list[YearResults]
    consents: list[Any]
    guardians: list[Any]
    left: bool = False
    order_lines: list[OrderLine] = field(default_factory=list)


def personal_file(ctx: SchoolContext, student_id: int) -> PersonalFile:
    """The personal file of a student (R7.3, annex 5): data, movement with order references, yearly results,
    consents. Kept after the student left (read-only): the administration reads it as long as it exists."""
    student = scopes.get_or_404(scopes.roster_students(ctx), pk=student_id)
    enrolments = list(scopes.roster_enrolments(ctx).filter(student=student).order_by("start", "pk"))
    lines = list(
        rules.order_lines(ctx)
        .filter(student=student, order__signed_at__isnull=False)
        .order_by("order__effective_on", "order__number")
    )
    current = next((e for e in reversed(enrolments) if e.end is None), None)
    return PersonalFile(
        student=student,
        show_contacts=scopes.may_see_contacts(ctx, current.school_class_id if current else None),
        enrolments=enrolments,
        movements=_movements(enrolments, lines),
        results=_results(student),
        consents=list(scopes.roster_consents(ctx).filter(student=student).order_by("given_on", "pk")),
        guardians=list(scopes.roster_guardian_links(ctx).filter(student=student).order_by("guardian__last_name")),
        left=student.has_left,
        order_lines=lines,
    )


def _movements(enrolments: list[Any], lines: list[OrderLine]) -> list[Movement]:
    """Class history and orders in date order; an order naming a class is cited next to that enrolment."""
    rows = [
        Movement(
            day=line.order.effective_on,
            what=str(line.order.get_kind_display()) + (f": {line.reason}" if line.reason else ""),
            school_class=line.target_class.name if line.target_class else "",
            reference=line.order.reference,
        )
        for line in lines
    ]
    cited = {(r.day, r.school_class) for r in rows}
    for e in enrolments:
        if (e.start, e.school_class.name) not in cited:
            rows.append(Movement(day=e.start, what="", school_class=e.school_class.name, reference=""))
    return sorted(rows, key=lambda r: r.day)


def _results(student: Student) -> list[YearResults]:
    """Period, annual and exam grades by year and subject (the file's yearly results). One query."""
    grades = (
        PeriodGrade.objects.filter(
            school_id=student.school_id,
            student=student,
            kind__in=[GradeKind.PERIOD, GradeKind.ANNUAL, GradeKind.EXAM, GradeKind.CORRECTED],
        )
        .select_related("period__year", "assignment__subject", "value")
        .order_by("period__year__start", "assignment__subject__name", "period__start", "kind")
    )
    by_year: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    columns: dict[str, list[str]] = defaultdict(list)
    for g in grades:
        year = g.period.year.name
        label = g.period.name if g.kind == GradeKind.PERIOD else str(g.get_kind_display())
        if label not in columns[year]:
            columns[year].append(label)
        by_year[year][g.assignment.subject.name][label] = g.value.code
    return [
        YearResults(
            year=year,
            columns=columns[year],
            rows=[(subject, [cells.get(c, "") for c in columns[year]]) for subject, cells in subjects.items()],
        )
        for year, subjects in by_year.items()
    ]


# --- the alphabetical book (annex 6) ---------------------------------------------------------------------


@dataclass
class BookRow:
    student: Student
    first_class: str
    arrival: str
    departure: str
    departure_reason: str


def order_references(ctx: SchoolContext) -> dict[int, tuple[str, str, str]]:
    """Student id -> (arrival order, departure order, where the student went), as the books cite the orders
    ("No. 12 of 01.09.2026"): the first arrival and the last departure. One query."""
    refs: dict[int, tuple[str, str, str]] = {}
    lines = rules.order_lines(ctx).filter(
        order__signed_at__isnull=False, order__kind__in=[*ARRIVAL_KINDS, *LEAVING_KINDS], student__isnull=False
    )
    for line in lines.order_by("order__effective_on", "pk"):
        sid = line.student_id
        assert sid is not None
        arrival, departure, reason = refs.get(sid, ("", "", ""))
        if line.order.kind in ARRIVAL_KINDS:
            refs[sid] = (arrival or line.order.reference, departure, reason)
        else:
            refs[sid] = (arrival, line.order.reference, line.reason)
    return refs


def alphabetical_book(ctx: SchoolContext) -> list[BookRow]:
    """Every student of the school by surname (those who left too), with the class they came to and the
    arrival and departure orders. Three queries."""
    students = list(
        scopes.roster_students(ctx).order_by("user__last_name", "user__first_name", "user__patronymic", "pk")
    )
    first: dict[int, str] = {}
    for e in scopes.roster_enrolments(ctx).order_by("-start"):
        first[e.student_id] = e.school_class.name  # the earliest start wins
    refs = order_references(ctx)
    return [
        BookRow(
            student=s,
            first_class=first.get(s.pk, ""),
            arrival=refs.get(s.pk, ("", "", ""))[0],
            departure=refs.get(s.pk, ("", "", ""))[1],
            departure_reason=refs.get(s.pk, ("", "", ""))[2],
        )
        for s in students
    ]
