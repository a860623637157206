"""The diary's link to a child's forecast (R6.5): shown to a parent only when the school shows parents the forecast."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.reports.queries import report_settings

register = template.Library()


@register.simple_tag
def child_forecast_url(ctx: SchoolContext | None, student_id: Any) -> str:
    """The address of the child's forecast page, or "" (no query unless the user is the child's parent)."""
    if ctx is None or not isinstance(student_id, int) or not access.may_open_child_forecasts(ctx):
        return ""
    if student_id not in ctx.child_student_ids:
        return ""
    shown = report_settings(ctx.school).forecast_for_parents
    if not access.may_read_child_forecast(ctx, student_id, shown_to_parents=shown):
        return ""
    return reverse("reports:forecast_child", kwargs={"school": ctx.school.slug, "student": student_id})
