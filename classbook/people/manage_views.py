"""The school's account administration (issue 9): the people of the school with their state; deactivate,
reactivate, reset two-factor login.

Thin: ``access.accounts`` decides who may act on whom (authority over every membership of the person),
``credentials`` does it. A person out of reach answers 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from classbook.access import accounts, scopes
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.core.errors import DomainError
from classbook.people import account_queries, credentials
from classbook.people.account_forms import AccountFilterForm, ReasonForm, TwoFactorResetForm
from classbook.people.models import User


def _admin(ctx: SchoolContext) -> None:
    if not accounts.may_manage_accounts(ctx):
        raise PermissionDenied


def _person(ctx: SchoolContext, user_id: int) -> User:
    return scopes.get_or_404(accounts.people_for_credentials(ctx), pk=user_id)


def _back(ctx: SchoolContext) -> HttpResponse:
    return redirect("school_people:accounts", school=ctx.school.slug)


@school_view(writes=True)
def accounts_list(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """People of the school whose accounts the administrator may manage, searchable, paginated."""
    _admin(ctx)
    filters = AccountFilterForm(request.GET)
    q, state = "", ""
    if filters.is_valid():
        q, state = filters.cleaned_data["q"], filters.cleaned_data["state"]
    people = account_queries.filter_accounts(accounts.people_for_credentials(ctx), q=q, state=state)
    page, rows = account_queries.account_page(people, school=ctx.school, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "people/manage/accounts.html",
        {"filters": filters, "rows": rows, "page": page, "query": query.urlencode()},
    )


def _reason_action(request: HttpRequest, ctx: SchoolContext, user_id: int, *, deactivate: bool) -> HttpResponse:
    _admin(ctx)
    person = _person(ctx, user_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = credentials.deactivate_user if deactivate else credentials.reactivate_user
        try:
            action(acting_user=request.user, school=ctx.school, user=person, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        except DomainError as exc:
            form.add_error("reason" if exc.field else None, exc.message)
        else:
            done = _("%(name)s is deactivated.") if deactivate else _("%(name)s is reactivated.")
            messages.success(request, done % {"name": person.full_name or person.username})
            return _back(ctx)
    context: dict[str, Any] = {"person": person, "form": form, "deactivate": deactivate}
    status = 400 if request.method == "POST" else 200
    return render(request, "people/manage/confirm.html", context, status=status)


@school_view(writes=True)
def deactivate(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    """Confirm form (GET) and deactivation (POST) of a person's account, with a reason."""
    return _reason_action(request, ctx, user_id, deactivate=True)


@school_view(writes=True)
def reactivate(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    return _reason_action(request, ctx, user_id, deactivate=False)


@school_view(writes=True)
def two_factor_reset(request: HttpRequest, ctx: SchoolContext, user_id: int) -> HttpResponse:
    """Reset a person's two-factor login (a lost phone): the administrator's password (and own code), a reason."""
    _admin(ctx)
    person = _person(ctx, user_id)
    actor_has_2fa = credentials.has_confirmed_totp(request.user)  # type: ignore[arg-type]
    form = TwoFactorResetForm(request.POST or None)
    if not actor_has_2fa:
        del form.fields["code"]  # nothing to ask for; the service checks it anyway
    if request.method == "POST" and form.is_valid():
        try:
            credentials.reset_two_factor(
                acting_user=request.user,  # type: ignore[arg-type]
                school=ctx.school,
                user=person,
                reason=form.cleaned_data["reason"],
                password=form.cleaned_data["password"],
                code=form.cleaned_data.get("code", ""),
                ip=request.META.get("REMOTE_ADDR") or None,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Two-factor login of %(name)s is reset.") % {"name": person.full_name or person.username}
            )
            return _back(ctx)
    context = {"person": person, "form": form, "actor_has_2fa": actor_has_2fa}
    return render(request, "people/manage/two_factor_reset.html", context, status=400 if form.errors else 200)
