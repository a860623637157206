"""An independent computation of the reports' figures from the raw rows, in plain Python.

It reads every period grade, value and enrolment of the school as stored and applies the definitions
of docs/reports.md step by step (corrections, departed students, levels, rates) without the database
aggregation the reports use, so a mistake in either shows as a difference.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from classbook.journal.models import PeriodGrade
from classbook.people.models import Enrolment

RANK = {"na": 0, "low": 1, "average": 2, "sufficient": 3, "high": 4, "passed": 5}
SOU = {"high": 100, "sufficient": 64, "average": 36, "low": 16, "na": 7}


def category(value: Any) -> str:
    if value.period_only:
        return "exempt" if value.is_passing else "na"
    return {
        "initial": "low",
        "fail": "low",
        "average": "average",
        "sufficient": "sufficient",
        "high": "high",
        "pass": "passed",
    }[value.level]


def rounded(value: Decimal | None, decimals: int = 1) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def chosen_grades(school: Any, year: Any, period: Any, *, include_departed: bool) -> list[PeriodGrade]:
    rows = list(
        PeriodGrade.objects.filter(school=school).select_related(
            "value", "assignment__school_class__year_level", "assignment__subject", "assignment__teacher"
        )
    )
    if period is None:
        picked = [g for g in rows if g.kind == "annual" and g.assignment.year_id == year.pk and g.ordinal == 0]
        as_of = year.end
    else:
        candidates = [
            g for g in rows if g.period_id == period.pk and g.ordinal == 0 and g.kind in ("period", "corrected")
        ]
        corrected = {(g.assignment_id, g.student_id) for g in candidates if g.kind == "corrected"}
        picked = [g for g in candidates if g.kind == "corrected" or (g.assignment_id, g.student_id) not in corrected]
        as_of = period.end
    if include_departed:
        return picked
    enrolments = list(Enrolment.objects.filter(school=school))

    def enrolled(g: PeriodGrade, day: dt.date) -> bool:
        return any(
            e.student_id == g.student_id
            and e.school_class_id == g.assignment.school_class_id
            and e.start <= day
            and (e.end is None or e.end >= day)
            for e in enrolments
        )

    return [g for g in picked if enrolled(g, as_of)]


def key_of(group_by: str, g: PeriodGrade) -> Any:
    a = g.assignment
    return {
        "class": a.school_class_id,
        "year_level": a.school_class.year_level_id,
        "subject": a.subject_id,
        "teacher": a.teacher_id,
        "school": None,
    }[group_by]


def line_figures(
    grades: list[PeriodGrade], *, basis: str, not_attested_fails: bool, decimals: int = 1
) -> dict[str, Any]:
    per_student: dict[int, list[str]] = defaultdict(list)
    for g in grades:
        per_student[g.student_id].append(category(g.value))
    lowest: dict[int, str | None] = {}
    for sid, cats in per_student.items():
        assessed = [c for c in cats if c != "exempt"]
        lowest[sid] = min(assessed, key=RANK.__getitem__) if assessed else None
    by_level = {lvl: sum(1 for v in lowest.values() if v == lvl) for lvl in ("high", "sufficient", "average", "low")}
    not_attested = sum(1 for v in lowest.values() if v == "na")
    if basis == "students":
        pool = [v for v in lowest.values() if v is not None and (not_attested_fails or v != "na")]
    else:
        pool = [c for g in grades if (c := category(g.value)) != "exempt" and (not_attested_fails or c != "na")]
    success = sum(1 for v in pool if RANK[v] >= RANK["average"])
    quality = sum(1 for v in pool if RANK[v] >= RANK["sufficient"])
    numbers = [g.value.numeric for g in grades if not g.value.period_only and g.value.numeric is not None]
    sou_points = [
        SOU[c]
        for g in grades
        if (c := category(g.value)) in SOU
        and (c != "na" or not_attested_fails)
        and (c == "na" or g.value.numeric is not None)
    ]

    def percent(part: int, whole: int) -> Decimal | None:
        return rounded(Decimal(part * 100) / whole, decimals) if whole else None

    return {
        "students": len(per_student),
        "by_level": by_level,
        "not_attested": not_attested,
        "exempt": sum(1 for v in lowest.values() if v is None),
        "passed_only": sum(1 for v in lowest.values() if v == "passed"),
        "grades": len(grades),
        "average": rounded(sum(numbers, Decimal(0)) / len(numbers), decimals) if numbers else None,
        "success_rate": percent(success, len(pool)),
        "quality_rate": percent(quality, len(pool)),
        "rate_base": len(pool),
        "sou": rounded(Decimal(sum(sou_points)) / len(sou_points), decimals) if sou_points else None,
    }


def progress(
    school: Any, year: Any, period: Any, group_by: str, *, basis: str, not_attested_fails: bool, include_departed: bool
) -> dict[Any, dict[str, Any]]:
    grades = chosen_grades(school, year, period, include_departed=include_departed)
    groups: dict[Any, list[PeriodGrade]] = defaultdict(list)
    for g in grades:
        groups[key_of(group_by, g)].append(g)
    return {key: line_figures(rows, basis=basis, not_attested_fails=not_attested_fails) for key, rows in groups.items()}
