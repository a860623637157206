"""Who may act on a person's account as a whole: deactivate, reactivate, reset two-factor login (R1.2, R1.5).

The account is one for every school (``User.is_active``, the TOTP device), so acting on it is acting in
every school where the person has a role. Rule (issue 9): the actor must be an administrator
(``Perm.ISSUE_STAFF_CODES``) of **every** school where the target has a current membership, in any role.
An administrator of one school can therefore not lock out, or weaken the login of, a parent who is staff
elsewhere, nor an education-authority viewer or a platform operator (no school has authority over them).
A person nobody at a school may manage is left to the platform operator.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from classbook.access.codes import counted_memberships
from classbook.access.context import SchoolContext, current_memberships
from classbook.access.rules import ROLE_PERMS, Perm
from classbook.people.models import AuthorityViewer, Membership, User

# The roles whose holders administer a school's accounts (today: the administrator).
ACCOUNT_ADMIN_ROLES = sorted(role for role, perms in ROLE_PERMS.items() if Perm.ISSUE_STAFF_CODES in perms)


def may_manage_accounts(ctx: SchoolContext) -> bool:
    """May open the school's account administration (the people list, deactivation, two-factor reset)."""
    return ctx.has(Perm.ISSUE_STAFF_CODES) and not ctx.is_read_only


def people_for_credentials(ctx: SchoolContext) -> QuerySet[User]:
    """People whose account the current user may deactivate, reactivate or reset two-factor login for.

    Everyone with a membership (current or ended) in this school, minus anyone with a counted membership
    in a school the actor does not administer, minus education-authority viewers, platform operators
    (superusers) and the actor themself. Four subqueries, one statement.
    """
    if not may_manage_accounts(ctx):
        return User.objects.none()
    today = timezone.localdate()
    administered = current_memberships(today).filter(user_id=ctx.user.pk, role__in=ACCOUNT_ADMIN_ROLES)
    outside = counted_memberships(today).exclude(school_id__in=administered.values("school_id"))
    here = Membership.objects.filter(school_id=ctx.school.pk)
    return (
        User.objects.filter(pk__in=here.values("user_id"))
        .exclude(pk__in=outside.values("user_id"))
        .exclude(pk__in=AuthorityViewer.objects.values("user_id"))
        .exclude(is_superuser=True)
        .exclude(is_staff=True)
        .exclude(pk=ctx.user.pk)
    )


def may_manage_credentials(ctx: SchoolContext, person: User) -> bool:
    """Whether the current user's authority covers every membership of ``person`` (see the module)."""
    return people_for_credentials(ctx).filter(pk=person.pk).exists()
