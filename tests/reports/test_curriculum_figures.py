"""Curriculum statistics (R6.4): every figure against the independent computation, and some by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from classbook.reports import curriculum
from classbook.reports.models import RateBasis, ReportSettings
from classbook.reports.queries import Scope
from classbook.schools.models import TeachingAssignment
from tests.reports.curriculum_data import SEP, TODAY, curriculum_world  # noqa: F401 (the fixture)
from tests.reports.curriculum_reference import TYPES
from tests.reports.curriculum_reference import curriculum as reference

CONTROL_FIELDS = (
    "students",
    "by_level",
    "not_attested",
    "exempt",
    "passed_only",
    "grades",
    "average",
    "success_rate",
    "quality_rate",
    "rate_base",
    "sou",
)
COUNT_FIELDS = (
    "journals",
    "without_plan",
    "hours_per_week",
    "planned_year",
    "planned",
    "due",
    "conducted",
    "by_substitute",
    "behind",
    "ahead",
    "completion",
)


def _settings(world, basis=RateBasis.STUDENTS, fails=True, departed=False) -> ReportSettings:
    return ReportSettings(
        school=world.school, basis=basis, not_attested_fails=fails, include_departed=departed, show_sou=True
    )


def _compare(line, expected) -> None:
    for name in COUNT_FIELDS:
        assert getattr(line, name) == expected[name], (line.label, name)
    for t in TYPES:
        got = line.by_type[t]
        assert (got.planned, got.due, got.conducted) == tuple(expected["by_type"][t].values()), (line.label, t)
    if expected["control"] is None:
        assert line.control is None, line.label
        return
    assert line.control is not None, line.label
    for name in CONTROL_FIELDS:
        assert getattr(line.control, name) == expected["control"][name], (line.label, name)


SETTINGS = [("students", True, False), ("grades", False, True), ("students", False, True), ("grades", True, False)]
DAYS = [TODAY, SEP[8], dt.date(2027, 7, 1)]


@pytest.mark.parametrize("lines_by", ["class", "subject", "teacher", "journal", "school"])
def test_every_line_agrees_with_the_reference(world, cur, lines_by):
    """Every line and the total, for the two semesters and the year, on three days, under four settings."""
    b = cur.built
    year = b.class_a.year
    everything = TeachingAssignment.objects.filter(school=world.school)
    ids = set(everything.values_list("pk", flat=True))
    for period in (b.semester, b.semester2, None):
        for today in DAYS:
            for basis, fails, departed in SETTINGS:
                settings = _settings(world, basis, fails, departed)
                scope = Scope(year=year, period=period)
                report = curriculum.curriculum_report(everything, scope, lines_by, settings, world.school, today=today)
                start, end = (period.start, period.end) if period else (year.start, year.end)
                lines, total = reference(
                    world.school,
                    ids,
                    start,
                    end,
                    min(end, today),
                    lines_by,
                    basis=basis,
                    not_attested_fails=fails,
                    include_departed=departed,
                )
                assert {line.key for line in report.lines} == set(lines)
                for line in report.lines:
                    _compare(line, lines[line.key])
                assert report.total is not None
                _compare(report.total, total)


def test_mathematics_of_5a_by_hand(world, cur):
    """The journal of the module's docstring, the first semester on 3 December, the school's defaults."""
    b = cur.built
    report = curriculum.curriculum_report(
        TeachingAssignment.objects.filter(pk=b.math_a.pk),
        Scope(year=b.class_a.year, period=b.semester),
        "journal",
        _settings(world),
        world.school,
        today=TODAY,
    )
    (line,) = report.lines
    assert (line.planned_year, line.planned, line.due, line.conducted) == (8, 8, 7, 8)
    assert (line.by_substitute, line.behind, line.ahead, line.completion) == (1, 1, 1, Decimal("100.0"))
    control = line.by_type["control"]
    assert (control.planned, control.due, control.conducted) == (3, 3, 2)
    laboratory = line.by_type["laboratory"]
    assert (laboratory.planned, laboratory.due, laboratory.conducted) == (1, 1, 0)
    assert line.by_type["regular"].conducted == 4 and line.by_type["combined"].conducted == 1
    # Control-type marks: 12, 10, 7, 4 (corrected from 3), 11 and 9 (two variants), 9, 1, 8 (practical work);
    # not the cleared 5, the current marks, the leaver's, nor the mark at the cancelled lesson.
    r = line.control
    assert r is not None
    assert r.grades == 9 and r.average == Decimal("7.9")  # 71 / 9
    assert r.students == 4
    assert r.by_level == {"high": 0, "sufficient": 2, "average": 1, "low": 1}
    assert (r.success_rate, r.quality_rate) == (Decimal("75.0"), Decimal("50.0"))


def test_the_teachers_scope_is_their_journals(world, cur):
    """The teacher's report counts only their own journals (mathematics in 5-А and 5-Б)."""
    from classbook.access.context import build_context
    from classbook.access.reports import curriculum_assignments

    b = cur.built
    ctx = build_context(world.teacher, world.school)
    report = curriculum.curriculum_report(
        curriculum_assignments(ctx),
        Scope(year=b.class_a.year, period=b.semester),
        "journal",
        _settings(world),
        world.school,
        today=TODAY,
    )
    assert {line.key for line in report.lines} == {b.math_a.pk, b.math_b.pk}
