"""Forecast pages (R6.5): a journal's forecast for its teacher, a class's for its class teacher, the school's
students at risk for the administration, a child's for a parent when the school shows it, and the switch."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from classbook.access import reports as access
from classbook.access.context import SchoolContext
from classbook.access.decorators import school_view
from classbook.access.scopes import get_or_404
from classbook.reports import forecast, forecast_services, queries


def _period(ctx: SchoolContext) -> tuple[Any, Any]:
    today = timezone.localdate()
    return forecast.current_period(ctx.school, today), today


@require_GET
@school_view(rule=access.may_read_reports)
def index(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The user's journals and classes with a forecast, the at-risk list and the parents' switch."""
    period, today = _period(ctx)
    return render(
        request,
        "reports/forecast_index.html",
        {
            "ctx": ctx,
            "period": period,
            "today": today,
            "journals": forecast.journal_assignments(access.forecast_journals(ctx)),
            "classes": list(access.forecast_classes(ctx).order_by("year_level__number", "name")),
            "may_read_risk": access.may_read_risk_list(ctx),
            "may_switch": access.may_switch_parent_forecast(ctx),
            "shown_to_parents": queries.report_settings(ctx.school).forecast_for_parents,
        },
    )


@require_GET
@school_view(rule=access.may_read_reports)
def journal(request: HttpRequest, ctx: SchoolContext, assignment: int) -> HttpResponse:
    """One journal: every student's likely grade, range, marks so far and the marks that drive it."""
    found = forecast.journal_assignments(access.forecast_journals(ctx).filter(pk=assignment))
    if not found or not access.may_read_forecast_journal(ctx, found[0]):
        raise Http404
    period, today = _period(ctx)
    rows = forecast.forecasts(found, period, today, school=ctx.school)[found[0].pk] if period else []
    return render(
        request,
        "reports/forecast_journal.html",
        {"ctx": ctx, "assignment": found[0], "period": period, "today": today, "rows": rows},
    )


@require_GET
@school_view(rule=access.may_read_reports)
def school_class(request: HttpRequest, ctx: SchoolContext, school_class: int) -> HttpResponse:
    """A class: students × subjects, the likely grade and its range; at-risk cells marked."""
    klass = get_or_404(access.forecast_classes(ctx), pk=school_class)
    period, today = _period(ctx)
    journals = forecast.journal_assignments(access.forecast_journals(ctx).filter(school_class=klass))
    found = forecast.forecasts(journals, period, today, school=ctx.school) if period else {}
    students: dict[int, dict[str, Any]] = {}
    for index, a in enumerate(journals):
        for f in found.get(a.pk, []):
            line = students.setdefault(f.student_id, {"name": f.student, "cells": [None] * len(journals)})
            line["cells"][index] = f
    lines = sorted(students.values(), key=lambda line: line["name"])
    return render(
        request,
        "reports/forecast_class.html",
        {"ctx": ctx, "school_class": klass, "period": period, "today": today, "journals": journals, "lines": lines},
    )


@require_GET
@school_view(rule=access.may_read_risk_list)
def risk(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """The school's students at risk: a likely grade of the lowest level or too few marks so far (R2.6)."""
    period, today = _period(ctx)
    journals = forecast.journal_assignments(access.forecast_journals(ctx))
    lines = forecast.at_risk(journals, period, today, school=ctx.school) if period else []
    return render(
        request,
        "reports/forecast_risk.html",
        {
            "ctx": ctx,
            "period": period,
            "today": today,
            "lines": lines,
            "may_switch": access.may_switch_parent_forecast(ctx),
            "shown_to_parents": queries.report_settings(ctx.school).forecast_for_parents,
        },
    )


@require_POST
@school_view(rule=access.may_switch_parent_forecast, writes=True)
def switch_parents(request: HttpRequest, ctx: SchoolContext) -> HttpResponse:
    """Show parents their child's forecast, or stop (director or deputy; audited)."""
    shown = request.POST.get("shown") == "1"
    forecast_services.set_parent_forecast(acting_user=ctx.user, school=ctx.school, shown=shown)
    messages.success(
        request, _("Parents now see their child's forecast.") if shown else _("Parents no longer see the forecast.")
    )
    return redirect("reports:forecast", school=ctx.school.slug)


@require_GET
@school_view(rule=access.may_open_child_forecasts)
def child(request: HttpRequest, ctx: SchoolContext, student: int) -> HttpResponse:
    """A parent's view of their child's forecast in every subject: only when the school shows it (else 404)."""
    settings = queries.report_settings(ctx.school)
    if not access.may_read_child_forecast(ctx, student, shown_to_parents=settings.forecast_for_parents):
        raise Http404
    period, today = _period(ctx)
    if period is None:
        rows: list[tuple[Any, Any]] = []
    else:
        journals = forecast.journal_assignments(forecast.student_journals(ctx.school, student, today))
        found = forecast.forecasts(journals, period, today, school=ctx.school)
        rows = [(a, f) for a in journals for f in found.get(a.pk, []) if f.student_id == student]
    return render(
        request,
        "reports/forecast_child.html",
        {"ctx": ctx, "period": period, "today": today, "rows": rows, "name": rows[0][1].student if rows else ""},
    )


@require_GET
@school_view(rule=access.may_open_child_forecasts)
def child_link(request: HttpRequest, ctx: SchoolContext, student: int) -> HttpResponse:
    """The diary head's link to the child's forecast (loaded by htmx): the link, or nothing while not shown."""
    settings = queries.report_settings(ctx.school)
    if not access.may_read_child_forecast(ctx, student, shown_to_parents=settings.forecast_for_parents):
        return HttpResponse("")
    return render(request, "reports/_forecast_child_link.html", {"ctx": ctx, "student": student})
