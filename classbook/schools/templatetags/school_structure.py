"""Template filters of the administration area."""

from __future__ import annotations

from django import template

from classbook.access import structure
from classbook.access.context import SchoolContext

register = template.Library()


@register.filter
def may_open_administration(ctx: SchoolContext | None) -> bool:
    return ctx is not None and structure.may_read_area(ctx)
