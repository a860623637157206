"""Every figure of the progress report (R6.1) against the independent computation from raw rows."""

from __future__ import annotations

from decimal import Decimal

from classbook.access.context import build_context
from classbook.access.reports import report_assignments
from classbook.reports import queries
from classbook.reports.models import ReportSettings
from tests.reports import reference

FIELDS = [
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
]


def _settings(world, **kw) -> ReportSettings:
    return ReportSettings(school=world.school, **kw)


def _report(world, built, group_by, settings, period="semester", **scope):
    ctx = build_context(world.director, world.school)
    assert ctx is not None
    period_obj = getattr(built, period) if period else None
    return queries.progress_report(
        report_assignments(ctx),
        queries.Scope(year=built.class_a.year, period=period_obj, **scope),
        group_by,
        settings,
        world.school,
    )


COMBINATIONS = [
    (group_by, basis, not_attested_fails, include_departed)
    for group_by in ("class", "year_level", "subject", "teacher", "school")
    for basis in ("students", "grades")
    for not_attested_fails in (True, False)
    for include_departed in (False, True)
]


def test_every_figure_of_every_line_matches_the_raw_rows(world, built):
    """Every grouping under every setting (40 reports over one hand-built school, built once)."""
    for group_by, basis, not_attested_fails, include_departed in COMBINATIONS:
        combination = f"{group_by}, {basis}, н/а fails={not_attested_fails}, departed={include_departed}"
        settings = _settings(
            world, basis=basis, not_attested_fails=not_attested_fails, include_departed=include_departed, show_sou=True
        )
        report = _report(world, built, group_by, settings)
        expected = reference.progress(
            world.school,
            built.class_a.year,
            built.semester,
            group_by,
            basis=basis,
            not_attested_fails=not_attested_fails,
            include_departed=include_departed,
        )
        got = {line.key: {f: getattr(line, f) for f in FIELDS} for line in report.lines}
        assert got == expected, combination
        whole = reference.progress(
            world.school,
            built.class_a.year,
            built.semester,
            "school",
            basis=basis,
            not_attested_fails=not_attested_fails,
            include_departed=include_departed,
        )[None]
        assert report.total is not None
        assert {f: getattr(report.total, f) for f in FIELDS} == whole, combination


def test_the_years_report_counts_the_annual_grades(world, built):
    settings = _settings(world, show_sou=True)
    for group_by in ("class", "subject", "teacher"):
        report = _report(world, built, group_by, settings, period=None)
        expected = reference.progress(
            world.school,
            built.class_a.year,
            None,
            group_by,
            basis="students",
            not_attested_fails=True,
            include_departed=False,
        )
        assert {line.key: {f: getattr(line, f) for f in FIELDS} for line in report.lines} == expected, group_by
    math_a = next(line for line in _report(world, built, "class", settings, period=None).lines if line.label == "5-А")
    # 12, 9, 6, н/а, 4, 8: high 1, sufficient 2, average 2, н/а 1; the semester grades are not counted.
    assert (math_a.by_level, math_a.not_attested) == ({"high": 1, "sufficient": 2, "average": 2, "low": 0}, 1)


def test_mathematics_in_5a_by_hand(world, built):
    """The figures worked out on paper, so the reference itself is checked once.

    5-А mathematics, semester I: 12, 10, 7, 3 corrected to 5, н/а, 2 (left 15.11: out), 9 (the mover).
    Six students: high 2 (12, 10), sufficient 2 (7, 9), average 1 (5), н/а 1. Average (12+10+7+5+9)/5 = 8.6.
    Success 5/6 = 83.3 %, quality 4/6 = 66.7 %, СОУ (100+100+64+36+7+64)/6 = 61.8 %.
    """
    report = _report(
        world, built, "class", _settings(world, show_sou=True), school_class=built.class_a, subject_id=world.subject.pk
    )
    (line,) = report.lines
    assert line.students == 6
    assert line.by_level == {"high": 2, "sufficient": 2, "average": 1, "low": 0}
    assert line.not_attested == 1
    assert line.average == Decimal("8.6")
    assert line.success_rate == Decimal("83.3")
    assert line.quality_rate == Decimal("66.7")
    assert line.sou == Decimal("61.8")


def test_without_the_not_attested_the_rates_are_of_those_attested(world, built):
    settings = _settings(world, not_attested_fails=False)
    report = _report(world, built, "class", settings, school_class=built.class_a, subject_id=world.subject.pk)
    (line,) = report.lines
    assert (line.rate_base, line.success_rate, line.quality_rate) == (5, Decimal("100.0"), Decimal("80.0"))


def test_the_corrected_grade_replaces_the_original_and_both_stay_stored(world, built):
    from classbook.journal.models import PeriodGrade

    gnatiuk = built.students["Гнатюк"]
    stored = set(
        PeriodGrade.objects.filter(assignment=built.math_a, student=gnatiuk, period=built.semester).values_list(
            "kind", "value__code"
        )
    )
    assert stored == {("period", "3"), ("corrected", "5")}
    report = _report(world, built, "class", _settings(world), school_class=built.class_a, subject_id=world.subject.pk)
    assert report.lines[0].by_level["average"] == 1  # the 5, not the 3 (which would be "low")
    assert report.lines[0].by_level["low"] == 0


def test_a_student_who_moved_counts_in_the_new_class_only(world, built):
    report = _report(world, built, "class", _settings(world))
    lines = {line.key: line for line in report.lines}
    # 5-Б: the world's other student only (the mover left 5-Б on 31.10).
    assert lines[built.class_b.pk].students == 1
    with_departed = _report(world, built, "class", _settings(world, include_departed=True))
    assert {line.key: line.students for line in with_departed.lines}[built.class_b.pk] == 2


def test_subgroups_give_one_line_per_subject_and_each_student_once(world, built):
    report = _report(world, built, "subject", _settings(world))
    english = next(line for line in report.lines if line.label == "Англійська мова")
    assert english.students == 6  # four in group 1, two in group 2 (the leaver is out)
    assert english.exempt == 1  # Бойко


def test_a_teachers_line_spans_their_classes(world, built):
    report = _report(world, built, "teacher", _settings(world))
    teacher = next(line for line in report.lines if line.key == world.teacher.pk)
    assert teacher.students == 7  # six in 5-А, the world's other student in 5-Б


def test_an_empty_period_has_no_lines_and_no_total(world, built):
    report = _report(world, built, "class", _settings(world), period="semester2")
    assert report.lines == [] and report.total is None


def test_the_report_costs_the_same_queries_for_one_class_or_the_school(world, built, django_assert_max_num_queries):
    ctx = build_context(world.director, world.school)
    assert ctx is not None
    settings = _settings(world)
    for scope in (
        queries.Scope(year=built.class_a.year, period=built.semester, school_class=built.class_a),
        queries.Scope(year=built.class_a.year, period=built.semester),
    ):
        for group_by in ("class", "subject", "teacher", "school"):
            with django_assert_max_num_queries(2):  # lines and total, the lines' names
                queries.progress_report(report_assignments(ctx), scope, group_by, settings, world.school)
