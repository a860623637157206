"""The diary's link to a child's forecast (R6.5): shown to a parent only when the school shows parents the forecast.

The diary's pages keep their query counts: the head asks here, without a query, whether the reader is a parent
of the child; only then it loads the link (htmx, ``reports:forecast_child_link``), whose own request reads the
school's switch and answers the link or nothing.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from classbook.access import reports as access
from classbook.access.context import SchoolContext

register = template.Library()


@register.simple_tag
def child_forecast_link_url(ctx: SchoolContext | None, student_id: Any) -> str:
    """Where the diary's head loads the forecast link from, or "" (not a parent of this child; no query)."""
    if ctx is None or not isinstance(student_id, int) or not access.may_open_child_forecasts(ctx):
        return ""
    if student_id not in ctx.child_student_ids:
        return ""
    return reverse("reports:forecast_child_link", kwargs={"school": ctx.school.slug, "student": student_id})
