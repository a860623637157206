"""Who may issue an activation code to whom (R1.2; issue 9, "account takeover through activation codes").

A code replaces the person's password when it is used, so whoever holds the
slip can take the account over. A code may therefore be issued for a person only by someone whose
authority covers **every** membership the person has, in every school:

- a staff role (administrator, director, deputy, secretary, teacher) in school S: an administrator of S
  (``Perm.ISSUE_STAFF_CODES``);
- a student or parent role in S: an administrator of S (``Perm.ISSUE_FAMILY_CODES``), or the class teacher
  of the student's current class; for a parent, the class teacher of one of their children whose link is
  current and visible (``may_see``).

Which memberships count: every **staff** role, even revoked or ended (one click switches it on again, and
the account would then carry staff powers into the hands of whoever used the code); **family** roles
(student, parent) only while they have not ended (future-dated ones count) — a student who moved to
another school, or a parent whose child left, gets their codes from the new school.

Nobody in a school covers authority viewers, Django superusers or staff of the Django admin site: their
codes come only from the platform operator (``manage.py issue_activation_code``). Nor does anybody issue
a code for themselves (a logged-in person changes their password on the profile page).

The page, the slips and the revoke endpoints, and ``credentials.issue_activation_codes`` all ask here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from classbook.access.context import SchoolContext, current_memberships
from classbook.access.rules import ROLE_PERMS, Perm
from classbook.people.models import STAFF_ROLES, AuthorityViewer, Enrolment, GuardianLink, Membership, Role, User
from classbook.schools.models import School, SchoolClass

FAMILY_ROLES = frozenset({Role.STUDENT, Role.PARENT})


def _roles_with(perm: Perm) -> list[str]:
    return sorted(role for role, perms in ROLE_PERMS.items() if perm in perms)


def counted_memberships(today: dt.date) -> QuerySet[Membership]:
    """The memberships a code must be covered for: every staff role, and family roles not yet ended."""
    not_ended = Q(is_active=True) & (Q(until__isnull=True) | Q(until__gte=today))
    return Membership.objects.filter(Q(role__in=list(STAFF_ROLES)) | (Q(role__in=list(FAMILY_ROLES)) & not_ended))


def homeroom_classes(issuer_id: int, today: dt.date) -> QuerySet[SchoolClass]:
    """Classes whose class teacher the issuer is, in schools where they are a teacher today."""
    teaching = current_memberships(today).filter(user_id=issuer_id, role=Role.TEACHER).values("school_id")
    return SchoolClass.objects.filter(class_teacher_id=issuer_id, school_id__in=teaching)


def covered_by(issuer_id: int, today: dt.date) -> Q:
    """A condition on ``Membership`` rows: the issuer's authority covers this membership."""

    def schools_where(perm: Perm) -> QuerySet[Membership, Any]:
        return current_memberships(today).filter(user_id=issuer_id, role__in=_roles_with(perm)).values("school_id")

    homerooms = homeroom_classes(issuer_id, today)
    student_of_homeroom = Enrolment.objects.filter(
        student__user_id=OuterRef("user_id"),
        school_id=OuterRef("school_id"),
        end__isnull=True,
        school_class__in=homerooms,
    )
    parent_of_homeroom = (
        GuardianLink.objects.filter(guardian_id=OuterRef("user_id"), school_id=OuterRef("school_id"), may_see=True)
        .exclude(ended_on__lte=today)
        .filter(student__in=Enrolment.objects.filter(end__isnull=True, school_class__in=homerooms).values("student_id"))
    )
    return (
        Q(role__in=list(STAFF_ROLES), school_id__in=schools_where(Perm.ISSUE_STAFF_CODES))
        | Q(role__in=list(FAMILY_ROLES), school_id__in=schools_where(Perm.ISSUE_FAMILY_CODES))
        | Q(Exists(student_of_homeroom), role=Role.STUDENT)
        | Q(Exists(parent_of_homeroom), role=Role.PARENT)
    )


def issuable_people(issuer: User, school: School, today: dt.date | None = None) -> QuerySet[User]:
    """People of ``school`` for whom ``issuer`` may issue (or withdraw) activation codes.

    One SQL query with subqueries, whatever the size of the school: no id lists are built in Python.
    """
    if not issuer.is_active:
        return User.objects.none()
    today = today or timezone.localdate()
    counted = counted_memberships(today)
    uncovered = counted.filter(user_id=OuterRef("pk")).exclude(covered_by(issuer.pk, today))
    return (
        User.objects.filter(pk__in=counted.filter(school=school).values("user_id"))
        .filter(is_superuser=False, is_staff=False)
        .exclude(pk=issuer.pk)
        .exclude(Exists(uncovered))
        .exclude(Exists(AuthorityViewer.objects.filter(user_id=OuterRef("pk"))))
    )


def may_open_codes(ctx: SchoolContext) -> bool:
    """The activation-codes page, its slips and the navigation's link: administrators, and class teachers
    for their class (R1.2); never a read-only viewer."""
    if ctx.is_read_only:
        return False
    return ctx.has(Perm.ISSUE_STAFF_CODES) or ctx.has(Perm.ISSUE_FAMILY_CODES) or ctx.is_class_teacher


def issues_for_every_class(ctx: SchoolContext) -> bool:
    """Family codes for any class (administrators); a class teacher only for their own class."""
    return ctx.has(Perm.ISSUE_FAMILY_CODES)


def people_for_codes(ctx: SchoolContext) -> QuerySet[User]:
    """The codes page's people: none for those who may not open it (read-only viewers, plain teachers)."""
    if not may_open_codes(ctx):
        return User.objects.none()
    return issuable_people(ctx.user, ctx.school)


def may_issue_code(issuer: User, school: School, person: User) -> bool:
    """The rule for one person (the service's own check, whatever door the request came through)."""
    return issuable_people(issuer, school).filter(pk=person.pk).exists()
