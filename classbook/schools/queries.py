"""Read models of the administration area: counts, the workload (R4.4), scales with their values."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from classbook.access import scopes, structure
from classbook.access.context import SchoolContext
from classbook.schools.models import AcademicYear, MarkingScale, ScaleValue, StudyPeriod, TeachingAssignment


def current_year(ctx: SchoolContext) -> AcademicYear | None:
    years = scopes.directory(ctx, AcademicYear)
    return years.filter(is_current=True).first() or years.first()


def periods_with_depth(rows: QuerySet[StudyPeriod]) -> list[StudyPeriod]:
    """Periods in calendar order, each with ``depth`` (0 = not inside another) for indenting the list."""
    periods = list(rows)
    parent_of = {p.pk: p.parent_id for p in periods}
    for period in periods:
        depth, parent_id = 0, period.parent_id
        while parent_id is not None and depth < 10:
            depth += 1
            parent_id = parent_of.get(parent_id)
        period.depth = depth  # type: ignore[attr-defined]
    return periods


def scales_with_values(ctx: SchoolContext) -> list[MarkingScale]:
    """Scales with their values (two queries); ``has_one`` tells whether a 5-point scale allows "1"."""
    scales = list(
        scopes.directory(ctx, MarkingScale).prefetch_related(
            Prefetch("values", queryset=structure.scale_values(ctx).order_by("ordinal"))
        )
    )
    for scale in scales:
        scale.has_one = any(v.code == "1" for v in scale.values.all())  # type: ignore[attr-defined]
    return scales


@dataclass(frozen=True)
class WorkloadRow:
    id: int
    name: str
    hours: Decimal
    subgroup_hours: Decimal  # of ``hours``, those taught to a subgroup (R2.4, R4.4)
    assignments: int


def _rows(qs: QuerySet[TeachingAssignment], key: str, names: dict[int, str]) -> list[WorkloadRow]:
    totals = (
        qs.values(key)
        .annotate(
            hours=Sum("hours_per_week"),
            subgroup_hours=Sum("hours_per_week", filter=Q(subgroup__isnull=False)),
            n=Count("id"),
        )
        .order_by()
    )
    rows = [
        WorkloadRow(
            id=t[key],
            name=names.get(t[key], "?"),
            hours=t["hours"] or Decimal(0),
            subgroup_hours=t["subgroup_hours"] or Decimal(0),
            assignments=t["n"],
        )
        for t in totals
    ]
    return sorted(rows, key=lambda r: r.name)


def workload(ctx: SchoolContext, year: AcademicYear | None) -> dict[str, Any]:
    """Hours per week per teacher and per class in ``year`` (R4.4): three queries whatever the size."""
    qs = scopes.assignments(ctx)
    if year is not None:
        qs = qs.filter(year=year)
    teacher_names = {
        pk: " ".join(p for p in (last, first, patronymic) if p)
        for pk, last, first, patronymic in qs.values_list(
            "teacher_id", "teacher__last_name", "teacher__first_name", "teacher__patronymic"
        ).distinct()
    }
    class_names = dict(qs.values_list("school_class_id", "school_class__name").distinct())
    by_teacher = _rows(qs, "teacher_id", teacher_names)
    by_class = _rows(qs, "school_class_id", class_names)
    return {
        "by_teacher": by_teacher,
        "by_class": by_class,
        "total": sum((r.hours for r in by_teacher), Decimal(0)),
    }


def scale_values_of(ctx: SchoolContext, scale: MarkingScale) -> QuerySet[ScaleValue]:
    return structure.scale_values(ctx).filter(scale=scale).order_by("ordinal")
