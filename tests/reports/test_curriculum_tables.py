"""The yearly summary table of success (R6.4, 002) and a college group's results (R6.2) against the reference."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from classbook.reports import curriculum
from classbook.reports.models import ReportSettings
from classbook.reports.queries import Scope
from classbook.schools.models import ClassKind, SchoolKind, TeachingAssignment
from tests.reports.reference import chosen_grades, line_figures

FIELDS = (
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
SETTINGS = [("students", True, False), ("grades", False, True), ("students", False, True), ("grades", True, False)]


def _same(line, expected) -> None:
    for name in FIELDS:
        assert getattr(line, name) == expected[name], (line.label, name)


def _settings(world, basis, fails, departed) -> ReportSettings:
    return ReportSettings(
        school=world.school, basis=basis, not_attested_fails=fails, include_departed=departed, show_sou=True
    )


def test_the_year_table_agrees_with_the_reference(world, built):
    """Class × subject, year level × subject, the sections' totals and the school's, for every period."""
    year = built.class_a.year
    everything = TeachingAssignment.objects.filter(school=world.school)
    for period in (built.semester, None):
        for basis, fails, departed in SETTINGS:
            table = curriculum.year_table(
                everything, Scope(year=year, period=period), _settings(world, basis, fails, departed), world.school
            )
            grades = chosen_grades(world.school, year, period, include_departed=departed)
            options = {"basis": basis, "not_attested_fails": fails}
            by_pair, by_class, by_level = defaultdict(list), defaultdict(list), defaultdict(list)
            for g in grades:
                a = g.assignment
                by_pair[(a.school_class_id, a.subject_id)].append(g)
                by_pair[("level", a.school_class.year_level_id, a.subject_id)].append(g)
                by_class[a.school_class_id].append(g)
                by_level[a.school_class.year_level_id].append(g)
            seen = 0
            for section in table.classes:
                _same(section.total, line_figures(by_class[section.key], **options))
                for line in section.lines:
                    _same(line, line_figures(by_pair[(section.key, line.key)], **options))
                    seen += 1
            for section in table.year_levels:
                _same(section.total, line_figures(by_level[section.key], **options))
                for line in section.lines:
                    _same(
                        line,
                        line_figures(by_pair[("level", section.key, line.key)], **options),
                    )
                    seen += 1
            assert seen == len(by_pair)  # every class × subject and year level × subject with a grade, once
            _same(table.total, line_figures(grades, **options))


def test_the_year_table_by_hand(world, built):
    """Mathematics in 5-А, annual grades 12, 9, 6, н/а, 4, 8 (the leaver has none): by level and the rates."""
    table = curriculum.year_table(
        TeachingAssignment.objects.filter(school=world.school),
        Scope(year=built.class_a.year),
        ReportSettings.defaults_for(world.school.pk, world.school.country),
        world.school,
    )
    section = next(s for s in table.classes if s.key == built.class_a.pk)
    (math,) = [line for line in section.lines if line.label == "Математика"]
    assert math.students == 6 and math.not_attested == 1
    assert math.by_level == {"high": 1, "sufficient": 2, "average": 2, "low": 0}
    assert math.average == Decimal("7.8")  # (12 + 9 + 6 + 4 + 8) / 5
    assert (math.success_rate, math.quality_rate) == (Decimal("83.3"), Decimal("50.0"))
    # 5-Б's annual grade is in the same year level's line: 7 more.
    level = table.year_levels[0]
    (level_math,) = [line for line in level.lines if line.label == "Математика"]
    assert level_math.students == 7 and level_math.grades == 7


@pytest.fixture
def college(world, built):
    world.school.kind = SchoolKind.COLLEGE
    world.school.save()
    for group in (built.class_a, built.class_b):
        group.kind = ClassKind.GROUP
        group.save()
    return built


def test_group_results_agree_with_the_reference(world, college):
    year = college.class_a.year
    everything = TeachingAssignment.objects.filter(school=world.school)
    for group in (college.class_a, college.class_b):
        for period in (college.semester, None):
            for basis, fails, departed in SETTINGS:
                results = curriculum.group_results(
                    everything,
                    group,
                    Scope(year=year, period=period),
                    _settings(world, basis, fails, departed),
                    world.school,
                )
                grades = [
                    g
                    for g in chosen_grades(world.school, year, period, include_departed=departed)
                    if g.assignment.school_class_id == group.pk
                ]
                by_subject = defaultdict(list)
                for g in grades:
                    by_subject[g.assignment.subject_id].append(g)
                options = {"basis": basis, "not_attested_fails": fails}
                assert {line.key for line in results.report.lines} == set(by_subject)
                for line in results.report.lines:
                    _same(line, line_figures(by_subject[line.key], **options))
                if grades:
                    _same(results.report.total, line_figures(grades, **options))


def test_group_results_name_each_disciplines_teachers(world, college):
    results = curriculum.group_results(
        TeachingAssignment.objects.filter(school=world.school),
        college.class_a,
        Scope(year=college.class_a.year, period=college.semester),
        ReportSettings.defaults_for(world.school.pk, world.school.country),
        world.school,
    )
    english = college.eng1.subject_id
    assert set(results.teachers[english].split(", ")) == {
        college.eng1.teacher.short_name,
        college.eng2.teacher.short_name,
    }
    assert results.teachers[college.math_a.subject_id] == world.teacher.short_name
