"""Account administration of a school (issue 9), the API twin of ``/s/<school>/people/accounts/``.

- ``GET  /schools/{school}/accounts?q=&state=&limit=&offset=&sort=`` — people whose account the caller may
  manage (an administrator of every school where they have a role), in the API's one page shape.
- ``POST /schools/{school}/accounts/{id}/deactivate`` ``{"reason"}`` — the account ends everywhere at once.
- ``POST /schools/{school}/accounts/{id}/reactivate`` ``{"reason"}``.
- ``POST /schools/{school}/accounts/{id}/two-factor-reset`` ``{"reason", "password", "code"}`` — the
  caller re-authenticates with their own password (and two-factor code when they use it).

A person out of the caller's reach is 404, a member who is not an administrator 403; nothing is written.
Rules live in ``classbook.access.accounts`` and ``classbook.people.credentials``, shared with the pages.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from classbook.access import accounts, scopes
from classbook.access.context import SchoolContext, school_for
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.people import account_queries, credentials
from classbook.people.models import User

router = Router(tags=["accounts"])

Reason = Field(..., min_length=1, max_length=credentials.REASON_MAX)


ACCOUNT_SORTS = Sorts("name", name=("last_name", "first_name", "patronymic"), username="username", id="id")


class AccountFilter(ListQuery):
    q: str = Field("", max_length=100, description="A part of the login, surname or first name")
    state: Literal["", "active", "deactivated"] = ""
    sort: str = ACCOUNT_SORTS.field()


class AccountOut(Schema):
    id: int
    username: str
    full_name: str
    roles: list[str]
    is_active: bool
    has_two_factor: bool


AccountPage = Page[AccountOut]


class ReasonIn(Schema):
    reason: str = Reason


class TwoFactorResetIn(Schema):
    reason: str = Reason
    password: str = Field(..., min_length=1, max_length=128)
    code: str = Field("", max_length=32)


def _admin_ctx(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, accounts.may_manage_accounts)


def _person(ctx: SchoolContext, user_id: int) -> User:
    return scopes.get_or_404(accounts.people_for_credentials(ctx), pk=user_id)


def _out(user: User, roles: list[str] | None = None, has_2fa: bool | None = None) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "full_name": user.full_name,
        "roles": roles or [],
        "is_active": user.is_active,
        "has_two_factor": bool(has_2fa),
    }


@router.get("/{slug:school}/accounts", response=AccountPage, summary="People whose accounts the caller manages")
def list_accounts(request: HttpRequest, school: str, filters: Query[AccountFilter]) -> dict[str, Any]:
    ctx = _admin_ctx(request, school)
    people = account_queries.filter_accounts(accounts.people_for_credentials(ctx), q=filters.q, state=filters.state)
    return paginate(
        request,
        account_queries.with_account_facts(people, school=ctx.school),
        filters,
        ACCOUNT_SORTS,
        lambda user: _out(*_facts(user)),
    )


def _facts(user: User) -> tuple[User, list[str], bool]:
    row = account_queries.account_row(user)
    return row.user, row.roles, row.has_2fa


@router.post("/{slug:school}/accounts/{int:user_id}/deactivate", response=AccountOut, summary="Deactivate an account")
def deactivate(request: HttpRequest, school: str, user_id: int, payload: ReasonIn) -> dict[str, Any]:
    ctx = _admin_ctx(request, school)
    person = _person(ctx, user_id)
    user = credentials.deactivate_user(acting_user=request.user, school=ctx.school, user=person, reason=payload.reason)  # type: ignore[arg-type]
    return _out(user, has_2fa=credentials.has_confirmed_totp(user))


@router.post("/{slug:school}/accounts/{int:user_id}/reactivate", response=AccountOut, summary="Reactivate an account")
def reactivate(request: HttpRequest, school: str, user_id: int, payload: ReasonIn) -> dict[str, Any]:
    ctx = _admin_ctx(request, school)
    person = _person(ctx, user_id)
    user = credentials.reactivate_user(acting_user=request.user, school=ctx.school, user=person, reason=payload.reason)  # type: ignore[arg-type]
    return _out(user, has_2fa=credentials.has_confirmed_totp(user))


@router.post(
    "/{slug:school}/accounts/{int:user_id}/two-factor-reset",
    response=AccountOut,
    summary="Reset a person's two-factor login (re-authentication and a reason required)",
)
def two_factor_reset(request: HttpRequest, school: str, user_id: int, payload: TwoFactorResetIn) -> dict[str, Any]:
    ctx = _admin_ctx(request, school)
    person = _person(ctx, user_id)
    credentials.reset_two_factor(
        acting_user=request.user,  # type: ignore[arg-type]
        school=ctx.school,
        user=person,
        reason=payload.reason,
        password=payload.password,
        code=payload.code,
        ip=request.META.get("REMOTE_ADDR") or None,
    )
    return _out(person, has_2fa=False)
