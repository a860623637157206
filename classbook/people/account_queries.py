"""Read model of the school's account administration (issue 9): people, their roles here, their state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from classbook.core.collation import name_order
from classbook.people.models import Membership, TOTPDevice, User
from classbook.schools.models import School

PAGE_SIZE = 50
STATES = ("active", "deactivated")


@dataclass(frozen=True)
class AccountRow:
    user: User
    roles: list[str]
    has_2fa: bool


def filter_accounts(people: QuerySet[User], *, q: str = "", state: str = "") -> QuerySet[User]:
    """Narrow the people (already scoped by ``access.accounts``) by a name or login fragment and a state."""
    q = (q or "").strip()[:100]
    if q:
        for word in q.split()[:4]:
            people = people.filter(
                Q(username__icontains=word) | Q(last_name__icontains=word) | Q(first_name__icontains=word)
            )
    if state == "active":
        people = people.filter(is_active=True)
    elif state == "deactivated":
        people = people.filter(is_active=False)
    return people


def account_page(
    people: QuerySet[User], *, school: School, page: int | str | None = 1
) -> tuple[Page[Any], list[AccountRow]]:
    """One page of people with their roles in ``school`` and whether they use two-factor login.

    Three statements whatever the page size: the count, the page (with the two-factor flag), the roles.
    """
    qs = with_account_facts(people, school=school).order_by(*name_order())
    paginated: Page[Any] = Paginator(qs, PAGE_SIZE).get_page(page)
    return paginated, [account_row(user) for user in paginated.object_list]


def with_account_facts(people: QuerySet[User], *, school: School) -> QuerySet[User]:
    """The people with their roles in ``school`` (prefetched) and the two-factor flag (annotated)."""
    roles_here = Prefetch(
        "memberships", queryset=Membership.objects.filter(school=school).order_by("role"), to_attr="roles_here"
    )
    return people.annotate(
        has_2fa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed_at__isnull=False))
    ).prefetch_related(roles_here)


def account_row(user: User) -> AccountRow:
    return AccountRow(
        user=user,
        roles=sorted({str(m.get_role_display()) for m in user.roles_here if m.is_active}),  # type: ignore[attr-defined]
        has_2fa=bool(user.has_2fa),  # type: ignore[attr-defined]
    )
