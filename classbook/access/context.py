"""The per-request view of one user in one school, resolved once (as pretix resolves its organizer)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, F, IntegerField, Q, QuerySet, Subquery, Value
from django.http import Http404
from django.utils import timezone

from classbook.access.rules import AUTHORITY_PERMS, ROLE_PERMS, Perm
from classbook.core.prepared import Prepared, PreparedModel, PreparedWithRows
from classbook.people.models import STAFF_ROLES, AuthorityViewer, GuardianLink, Membership, Role, Student
from classbook.schools.models import School, SchoolClass, TeachingAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from classbook.people.models import User


@dataclass(frozen=True)
class SchoolContext:
    school: School
    user: User
    roles: frozenset[str]
    is_authority_viewer: bool = False
    homeroom_class_ids: frozenset[int] = field(default_factory=frozenset)
    taught_class_ids: frozenset[int] = field(default_factory=frozenset)
    child_student_ids: frozenset[int] = field(default_factory=frozenset)
    own_student_id: int | None = None

    @cached_property
    def perms(self) -> frozenset[Perm]:
        """The permissions of the user's roles, computed once per context (one request): a page's navigation
        asks ``has`` a hundred times. The context is frozen and built per request, so nothing goes stale."""
        perms: set[Perm] = set()
        for role in self.roles:
            perms |= ROLE_PERMS.get(role, frozenset())
        if self.is_authority_viewer:
            perms |= AUTHORITY_PERMS
        return frozenset(perms)

    def has(self, perm: Perm) -> bool:
        return perm in self.perms

    @property
    def is_staff_member(self) -> bool:
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_class_teacher(self) -> bool:
        return bool(self.homeroom_class_ids)

    @property
    def is_read_only(self) -> bool:
        """An authority viewer without a role of their own in the school only reads."""
        return self.is_authority_viewer and not self.roles

    def can_issue_codes_for_class(self, class_id: int) -> bool:
        """Administrators issue codes for everyone; class teachers for students and parents of their class (R1.2)."""
        return self.has(Perm.ISSUE_FAMILY_CODES) or class_id in self.homeroom_class_ids

    def can_see_student(self, student_id: int, class_ids: frozenset[int] | set[int] = frozenset()) -> bool:
        if self.has(Perm.VIEW_ALL_STUDENTS):
            return True
        if student_id == self.own_student_id or student_id in self.child_student_ids:
            return True
        return bool(class_ids & (self.homeroom_class_ids | self.taught_class_ids))


def current_memberships(today: dt.date | None = None) -> QuerySet[Membership]:
    """Memberships that give a role today: active and not ended (the last day still counts).

    Filter this queryset further rather than excluding through ``user__memberships``: an ``exclude()``
    across a multi-valued relation drops a user for *any* ended role, in any school.
    ``since`` is not checked: it records when the role began, and tests and imports date it freely.
    """
    today = today or timezone.localdate()
    return Membership.objects.filter(is_active=True).exclude(until__lt=today)


def _facts(qs: QuerySet[Any], kind: str, id_field: str | None, role_field: str | None = None) -> QuerySet[Any]:
    """One arm of the context query: rows ``(kind, id, role)``."""
    return (
        qs.annotate(
            _kind=Value(kind, output_field=CharField()),
            _id=F(id_field) if id_field else Value(0, output_field=IntegerField()),
            _role=F(role_field) if role_field else Value("", output_field=CharField()),
        )
        .order_by()
        .values_list("_kind", "_id", "_role")
    )  # no default ordering: not allowed in a UNION arm


def _context_query(user: int, school: Any, today: dt.date) -> QuerySet[Any]:
    arms = [
        _facts(current_memberships(today).filter(school_id=school, user_id=user), "role", None, "role"),
        _facts(AuthorityViewer.objects.filter(user_id=user, authority__schools=school), "viewer", None),
        _facts(SchoolClass.objects.filter(school_id=school, class_teacher_id=user), "homeroom", "id"),
        _facts(TeachingAssignment.objects.filter(school_id=school, teacher_id=user), "taught", "school_class_id"),
        _facts(
            GuardianLink.objects.filter(school_id=school, guardian_id=user, may_see=True).exclude(ended_on__lte=today),
            "child",
            "student_id",
        ),
        _facts(Student.objects.filter(school_id=school, user_id=user), "student", "id"),
    ]
    return arms[0].union(*arms[1:], all=True)


# Compiled to SQL once per process (``core/prepared.py``): the query has one shape, only the ids and the day change.
_CONTEXT = Prepared(_context_query)


def build_context(user: User | AnonymousUser, school: School) -> SchoolContext | None:
    """The user's context in ``school``, or None when they have no business there.

    One query (a ``UNION ALL``; issue 3: it runs on every page): the active roles, the authority
    overseeing the school, and the ids a role needs — homeroom and taught classes (used only for a
    teacher), children (only for a parent), the own student record (only for a student). Every arm
    is as cheap as an index lookup, so reading the arms a role does not use costs less than a round trip.
    Nothing is cached between requests: a revoked role or link stops working on the next request.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return _context_from_rows(user, school, _CONTEXT.rows(user=user.pk, school=school.pk, today=timezone.localdate()))


def _context_from_rows(user: User, school: School, rows: list[tuple[Any, ...]]) -> SchoolContext | None:
    found: dict[str, set[Any]] = {"role": set(), "viewer": set(), "homeroom": set(), "taught": set(), "child": set()}
    own_students: list[int] = []
    for kind, pk, role in rows:
        if kind == "role":
            found["role"].add(role)
        elif kind == "student":
            own_students.append(pk)
        else:
            found[kind].add(pk)
    roles = frozenset(found["role"])
    is_viewer = bool(found["viewer"])
    if not roles and not is_viewer:
        return None
    teacher = Role.TEACHER in roles
    return SchoolContext(
        school=school,
        user=user,
        roles=roles,
        is_authority_viewer=is_viewer,
        homeroom_class_ids=frozenset(found["homeroom"]) if teacher else frozenset(),
        taught_class_ids=frozenset(found["taught"]) if teacher else frozenset(),
        child_student_ids=frozenset(found["child"]) if Role.PARENT in roles else frozenset(),
        own_student_id=min(own_students) if own_students and Role.STUDENT in roles else None,
    )


def _context_by_slug(user: int, slug: str, today: dt.date) -> QuerySet[Any]:
    """``_context_query`` for the school of the URL, found by its slug in each arm (an index lookup)."""
    school = Subquery(School.objects.filter(slug=slug, is_active=True).order_by("pk").values("pk")[:1])
    return _context_query(user, school, today)


# The school of the URL and the user's context in it: one statement on every page (issue 10; was two).
_SCHOOL_AND_CONTEXT = PreparedWithRows(
    PreparedModel(
        School, lambda user, slug, today: School.objects.filter(slug=slug, is_active=True).order_by("pk")[:1]
    ),
    Prepared(_context_by_slug),
)


def resolve_school(user: User | AnonymousUser, slug: str) -> SchoolContext:
    """The context for the school in the URL; 404 for an unknown school and for one the user has no role in."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Http404
    school, rows = _SCHOOL_AND_CONTEXT.fetch(user=user.pk, slug=slug, today=timezone.localdate())
    if school is None:
        raise Http404
    ctx = _context_from_rows(user, school, rows)
    if ctx is None:
        raise Http404
    return ctx


def school_for(
    user: User | AnonymousUser, slug: str, rule: Callable[[SchoolContext], bool] | None = None
) -> SchoolContext:
    """``resolve_school``, then the door's access ``rule``: 404 outside the school, 403 when the rule says no.

    Every API route that guards a whole school-level operation calls this one helper, so the order of the two
    refusals (an outsider learns nothing; a member is told "forbidden") is the same at every door."""
    ctx = resolve_school(user, slug)
    if rule is not None and not rule(ctx):
        raise PermissionDenied
    return ctx


def start_url(schools: list[School]) -> str:
    """Where a user of ``schools`` (``user_schools``) starts: the school's start page when there is one school,
    else the list of schools (``/``). The login goes there directly, not through ``/`` (one redirect fewer:
    ~0.6 s on a phone's network)."""
    from django.urls import reverse

    if len(schools) == 1:
        return reverse("schools:dashboard", kwargs={"school": schools[0].slug})
    return reverse("home")


def user_schools(user: User | AnonymousUser) -> list[School]:
    """Schools where the user has an active role or which their authority oversees."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    member_ids = current_memberships().filter(user=user).values_list("school_id", flat=True)
    return list(
        School.objects.filter(is_active=True)
        .filter(Q(id__in=member_ids) | Q(authorities__viewers__user=user))
        .distinct()
        .order_by("name")
    )
