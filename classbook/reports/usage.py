"""Read model of the usage report (R9.2): who logged in and who looked at the diary, per class and week.

For every class in scope and every week (Monday to Sunday) of the range, among the people who **have an
account** (an active account whose password is set: activated, not blocked):

- **staff**: the teachers of the class (a teaching assignment in it) and its class teacher; on the school's
  line, every active staff member of the school;
- **students**: those enrolled in the class on at least one day of the week;
- **parents**: the guardians of the class's students (with an account or not) whose link lets them see
  the child and had not ended before the week began;

and of them, how many **logged in** that week (an audit entry ``people.login``, ``core.models.AuditEntry``)
and — students and parents — how many **looked at the diary** (a ``diary.models.DiaryView`` row: the
student's own diary, a parent's child's diary of that class). Shares are of those with an account.

Seven queries whatever the number of people and weeks; the database returns distinct (person, week) pairs
and Python only intersects sets of ids. docs/reports.md ("Usage") gives the definitions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models import Case, DateField, Q, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.core.models import AuditEntry
from classbook.diary.models import DiaryView
from classbook.people.models import STAFF_ROLES, Enrolment, GuardianLink, Membership
from classbook.schools.models import SchoolClass, TeachingAssignment

LOGIN = "people.login"


def has_account(prefix: str = "") -> Q:
    """An account one can log in with: active, and its password set (an imported person who has not used
    their activation code yet has an unusable one)."""
    return Q(**{f"{prefix}is_active": True}) & ~Q(**{f"{prefix}password__startswith": UNUSABLE_PASSWORD_PREFIX})


def mondays(start: dt.date, end: dt.date) -> list[dt.date]:
    """The Mondays of the weeks from the week of ``start`` to the week of ``end``."""
    first = start - dt.timedelta(days=start.weekday())
    return [first + dt.timedelta(weeks=n) for n in range((end - first).days // 7 + 1)]


@dataclass(frozen=True)
class Figure:
    """``count`` people of ``of`` (those with an account); the share in per cent, one decimal."""

    count: int
    of: int

    @property
    def share(self) -> Decimal | None:
        if not self.of:
            return None
        return (Decimal(100 * self.count) / self.of).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclass
class UsageLine:
    week: dt.date
    class_id: int | None  # None: the total of the classes in scope (the whole school for the administration)
    label: str
    staff_logged_in: Figure
    students_logged_in: Figure
    students_viewed: Figure
    parents_logged_in: Figure
    parents_viewed: Figure


@dataclass
class UsageReport:
    start: dt.date  # the Monday of the first week
    end: dt.date  # the Sunday of the last week
    weeks: list[dt.date]
    lines: list[UsageLine] = field(default_factory=list)  # per week: the classes in order, then the total

    def totals(self) -> list[UsageLine]:
        """The total line of each week (the one class's line when the report has one class)."""
        return [line for line in self.lines if line.class_id is None] or self.lines


@dataclass
class _Class:
    pk: int
    label: str
    staff: set[int]
    students: dict[dt.date, dict[int, int]] = field(default_factory=dict)  # week -> student id -> user id
    children: dict[dt.date, set[int]] = field(default_factory=dict)  # week -> every student id, account or not
    parents: dict[dt.date, set[int]] = field(default_factory=dict)  # week -> guardian user ids


def _in_week(monday: dt.date, start: dt.date, end: dt.date | None) -> bool:
    return start <= monday + dt.timedelta(days=6) and (end is None or end >= monday)


def _classes(classes: QuerySet[SchoolClass], weeks: list[dt.date]) -> dict[int, _Class]:
    """The classes with their staff, and per week their students and parents with an account — 4 queries."""
    ct_account = Case(When(has_account("class_teacher__"), then=Value(True)), default=Value(False))
    found: dict[int, _Class] = {}
    for pk, name, ct_id, ct_ok in (
        classes.order_by("year_level__number", "name")
        .annotate(ct_ok=ct_account)
        .values_list("pk", "name", "class_teacher_id", "ct_ok")
    ):
        found[pk] = _Class(pk, name, {ct_id} if ct_id and ct_ok else set())
    ids = list(found)
    for teacher_id, class_id in (
        TeachingAssignment.objects.filter(school_class_id__in=ids)
        .filter(has_account("teacher__"))
        .order_by()
        .values_list("teacher_id", "school_class_id")
        .distinct()
    ):
        found[class_id].staff.add(teacher_id)
    first, last = weeks[0], weeks[-1] + dt.timedelta(days=6)
    enrolments = list(
        Enrolment.objects.filter(school_class_id__in=ids, start__lte=last)
        .filter(Q(end__isnull=True) | Q(end__gte=first))
        .annotate(account=Case(When(has_account("student__user__"), then=Value(True)), default=Value(False)))
        .values_list("student_id", "student__user_id", "school_class_id", "start", "end", "account")
    )
    spans: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for student_id, user_id, class_id, start, end, account in enrolments:
        spans[student_id].append((class_id, start, end))  # a student without an account may have parents with one
        for monday in weeks:
            if _in_week(monday, start, end):
                found[class_id].children.setdefault(monday, set()).add(student_id)
                if account:
                    found[class_id].students.setdefault(monday, {})[student_id] = user_id
    links = (
        GuardianLink.objects.filter(student_id__in=list(spans), may_see=True)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=first))
        .filter(has_account("guardian__"))
        .values_list("guardian_id", "student_id", "ended_on")
    )
    for guardian_id, student_id, ended_on in links:
        for class_id, start, end in spans[student_id]:
            for monday in weeks:
                if _in_week(monday, start, end) and (ended_on is None or ended_on > monday):
                    found[class_id].parents.setdefault(monday, set()).add(guardian_id)
    return found


def _logins(school_id: int, first: dt.date, last: dt.date, people: set[int] | None) -> dict[dt.date, set[int]]:
    """Per week, the members of the school (or of ``people``) who logged in — 1 query of distinct (person, week)."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    out: dict[dt.date, set[int]] = defaultdict(set)
    for subject_id, week in (
        AuditEntry.objects.filter(
            school=None,
            action=LOGIN,
            at__gte=since,
            at__lt=until,
            subject_id__in=Membership.objects.filter(school_id=school_id).values("user_id")
            if people is None
            else list(people),
        )
        .annotate(week=TruncWeek("at", output_field=DateField()))  # a date: no time zone work per row
        .order_by()
        .values_list("subject_id", "week")
        .distinct()
    ):
        out[week].add(subject_id)
    return out


Looks = tuple[set[int], dict[int, set[int]]]  # students who looked at their own diary; child -> parents who looked


def _views(school_id: int, first: dt.date, last: dt.date, children: set[int] | None) -> dict[dt.date, Looks]:
    """Per week, the students who looked at their own diary and, per child, the parents who looked — 1 query."""
    out: dict[dt.date, Looks] = defaultdict(lambda: (set(), defaultdict(set)))
    for viewer_id, student_id, as_parent, week in (
        DiaryView.objects.filter(school_id=school_id, day__range=(first, last))
        .filter(Q() if children is None else Q(student_id__in=list(children)))
        .annotate(week=TruncWeek("day"))
        .order_by()
        .values_list("viewer_id", "student_id", "as_parent", "week")
        .distinct()
    ):
        monday = week.date() if isinstance(week, dt.datetime) else week
        if as_parent:
            out[monday][1][student_id].add(viewer_id)
        else:
            out[monday][0].add(student_id)
    return out


def _staff(school_id: int) -> set[int]:
    """Every active staff member of the school with an account — 1 query."""
    return set(
        Membership.objects.filter(school_id=school_id, role__in=list(STAFF_ROLES), is_active=True)
        .filter(has_account("user__"))
        .values_list("user_id", flat=True)
        .distinct()
    )


def _line(
    monday: dt.date,
    class_id: int | None,
    label: str,
    staff: set[int],
    students: dict[int, int],
    children: set[int],
    parents: set[int],
    logged: set[int],
    viewed: Looks,
) -> UsageLine:
    own, family = viewed
    student_users = set(students.values())
    parents_viewed = set().union(*(family[s] for s in children if s in family)) & parents
    return UsageLine(
        monday,
        class_id,
        label,
        Figure(len(staff & logged), len(staff)),
        Figure(len(student_users & logged), len(students)),
        Figure(len(own & students.keys()), len(students)),
        Figure(len(parents & logged), len(parents)),
        Figure(len(parents_viewed), len(parents)),
    )


def usage_report(
    classes: QuerySet[SchoolClass], school_id: int, start: dt.date, end: dt.date, *, whole_school: bool
) -> UsageReport:
    """The usage of the classes in ``classes`` (already scoped by ``access.reports.usage_classes``), week by
    week from the week of ``start`` to the week of ``end``: seven queries (six without ``whole_school``).

    Each week has a line per class and a total line: the union of the classes' people — and, with
    ``whole_school`` (the administration reading every class), every staff member of the school.
    """
    weeks = mondays(start, end)
    report = UsageReport(weeks[0], weeks[-1] + dt.timedelta(days=6), weeks)
    found = _classes(classes, weeks)
    people: set[int] | None = None  # the whole school: every member (a subquery), else the classes' people
    children: set[int] | None = None
    if not whole_school:
        children = {s for c in found.values() for week in c.children.values() for s in week}
        people = {u for c in found.values() for week in c.students.values() for u in week.values()}
        people |= {g for c in found.values() for week in c.parents.values() for g in week}
        people |= {t for c in found.values() for t in c.staff}
    logins = _logins(school_id, report.start, report.end, people)
    views = _views(school_id, report.start, report.end, children)
    school_staff = _staff(school_id) if whole_school else set().union(*(c.staff for c in found.values()))
    for monday in weeks:
        logged, viewed = logins.get(monday, set()), views.get(monday, (set(), {}))
        all_students: dict[int, int] = {}
        all_children: set[int] = set()
        all_parents: set[int] = set()
        for c in found.values():
            students, parents = c.students.get(monday, {}), c.parents.get(monday, set())
            all_students.update(students)
            all_children |= c.children.get(monday, set())
            all_parents |= parents
            children = c.children.get(monday, set())
            report.lines.append(_line(monday, c.pk, c.label, c.staff, students, children, parents, logged, viewed))
        if len(found) > 1 or whole_school:
            label = _("Whole school") if whole_school else _("Total")
            report.lines.append(
                _line(monday, None, label, school_staff, all_students, all_children, all_parents, logged, viewed)
            )
    return report


__all__ = ["Figure", "UsageLine", "UsageReport", "has_account", "mondays", "usage_report"]
