"""Template filters that ask classbook.access, so the navigation shows only what opens for the user."""

from __future__ import annotations

from django import template

from classbook.access import accounts, scopes
from classbook.access.context import SchoolContext

register = template.Library()


@register.filter
def may_view_roster(ctx: SchoolContext | None) -> bool:
    return ctx is not None and scopes.may_view_roster(ctx)


@register.filter
def may_manage_accounts(ctx: SchoolContext | None) -> bool:
    """The school's account administration: deactivation, two-factor reset (issue 9)."""
    return ctx is not None and accounts.may_manage_accounts(ctx)


@register.filter
def may_view_audit_log(ctx: SchoolContext | None) -> bool:
    return ctx is not None and scopes.may_view_audit_log(ctx)
