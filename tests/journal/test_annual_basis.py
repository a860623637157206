"""The annual grade's basis and the school's rule (issue 10, R2.5, R2.7): shown in the grid and the API,
a different annual grade saved with a warning; a corrected semester grade replaces the original."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from classbook.journal import rules, services
from classbook.journal.models import GradeKind, JournalPolicy, PeriodGrade
from classbook.schools.models import MarkingScale, ScaleKind
from tests import factories as f
from tests.journal.conftest import GRADES_DAY

pytestmark = pytest.mark.django_db

YEAR_END = dt.datetime(2027, 5, 30, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _no_accumulation_check(world, journal):
    # These tests are about the annual rule; the accumulation warning is tested on its own.
    JournalPolicy.objects.filter(school=world.school).update(accumulation_policy="off")


def grade(world, journal, text, *, period=None, kind=GradeKind.PERIOD, student=None):
    return services.record_period_grade(
        acting_user=world.teacher,
        assignment=journal.assignment,
        student=student or world.student,
        period=period or journal.semester,
        kind=kind,
        text=text,
        expected_version=0,
    )


def semesters(world, journal, first, second, student=None):
    with time_machine.travel(GRADES_DAY):
        one = grade(world, journal, first, student=student)
    with time_machine.travel(YEAR_END):
        two = grade(world, journal, second, period=journal.semester2, student=student)
    return one, two


def annual(world, journal, text, student=None):
    with time_machine.travel(YEAR_END):
        return grade(world, journal, text, period=journal.semester2, kind=GradeKind.ANNUAL, student=student)


def correct(world, period_grade, text):
    with time_machine.travel(GRADES_DAY + dt.timedelta(days=1)):
        return services.correct_period_grade(
            acting_user=world.deputy, grade=period_grade, text=text, reason="Апеляція", order_ref="Наказ №12"
        )


# --- The rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "mean", "expected"),
    [("9", "10", Decimal("9.5"), "10"), ("8", "10", Decimal("9"), "9"), ("7", "8", Decimal("7.5"), "8")],
)
def test_annual_rule_is_the_mean_of_the_semesters_rounded_half_up(world, journal, first, second, mean, expected):
    semesters(world, journal, first, second)
    expectation = rules.annual_expectation(journal.assignment, world.student.pk)
    assert [b.value.code for b in expectation.basis] == [first, second]
    assert (expectation.mean, expectation.expected) == (mean, expected)


def test_annual_grade_that_agrees_is_saved_without_warning(world, journal):
    semesters(world, journal, "9", "10")
    saved = annual(world, journal, "10")
    assert saved.feedback.warnings == ()
    assert [b.value.code for b in saved.feedback.annual.basis] == ["9", "10"]


def test_annual_grade_that_disagrees_is_saved_with_a_warning(world, journal):
    semesters(world, journal, "9", "10")
    saved = annual(world, journal, "12")
    assert PeriodGrade.objects.get(kind=GradeKind.ANNUAL).value.code == "12"
    [warning] = saved.feedback.warnings
    assert warning.code == "annual_disagrees"
    assert "12" in warning.message and "9,5" in warning.message.replace(".", ",") and "10" in warning.message


def test_a_corrected_semester_grade_replaces_the_original_in_the_basis(world, journal):
    one, _two = semesters(world, journal, "9", "10")
    correct(world, one, "11")
    expectation = rules.annual_expectation(journal.assignment, world.student.pk)
    [first, second] = expectation.basis
    assert (first.value.code, first.corrected, first.corrected_from) == ("11", True, "9")
    assert (second.value.code, second.corrected) == ("10", False)
    assert (expectation.mean, expectation.expected) == (Decimal("10.5"), "11")
    # Against the original (9 and 10 → 10) the annual 11 would differ; against the corrected basis it agrees.
    assert annual(world, journal, "11").feedback.warnings == ()


def test_a_missing_semester_grade_is_named(world, journal):
    with time_machine.travel(GRADES_DAY):
        grade(world, journal, "9")
    other = f.make_student(world.class_a)
    semesters(world, journal, "8", "8", student=other)  # somebody has a grade for the second semester
    saved = annual(world, journal, "9")
    assert [w.code for w in saved.feedback.warnings] == ["annual_basis_incomplete"]
    assert "II семестр" in saved.feedback.warnings[0].message


def test_no_period_grades_at_all_warns(world, journal):
    saved = annual(world, journal, "9")
    assert [w.code for w in saved.feedback.warnings] == ["annual_without_basis"]


@pytest.mark.parametrize(
    ("first", "second", "expected", "warnings_for_9"),
    [
        ("н/а", "н/а", "н/а", ["annual_disagrees"]),
        ("н/а", "10", "", ["annual_basis_not_attested"]),
        ("звільн.", "9", "9", []),
        ("звільн.", "звільн.", "звільн.", ["annual_disagrees"]),
    ],
)
def test_not_attested_and_exempt_in_the_basis(world, journal, first, second, expected, warnings_for_9):
    semesters(world, journal, first, second)
    expectation = rules.annual_expectation(journal.assignment, world.student.pk)
    assert expectation.expected == expected
    assert [w.code for w in annual(world, journal, "9").feedback.warnings] == warnings_for_9


def test_school_can_switch_the_annual_check_off(world, journal):
    JournalPolicy.objects.filter(school=world.school).update(annual_grade_rule="off")
    semesters(world, journal, "9", "10")
    saved = annual(world, journal, "3")
    assert saved.feedback.warnings == ()
    assert [b.value.code for b in saved.feedback.annual.basis] == ["9", "10"]  # the basis is still shown


def test_russian_style_quarters_on_the_five_point_scale(world, journal):
    journal.assignment.scale = MarkingScale.objects.get(school=world.school, kind=ScaleKind.FIVE)
    journal.assignment.save()
    year = journal.assignment.year
    PeriodGrade.objects.all().delete()
    journal.semester.delete()
    journal.semester2.delete()
    half = f.PeriodFactory(
        year=year, kind="half", name="1 полугодие", start=dt.date(2026, 9, 1), end=dt.date(2026, 12, 26)
    )
    quarters = [
        f.PeriodFactory(year=year, kind="quarter", name=f"{n} четверть", ordinal=n, start=start, end=end, parent=parent)
        for n, start, end, parent in [
            (1, dt.date(2026, 9, 1), dt.date(2026, 10, 25), half),
            (2, dt.date(2026, 11, 3), dt.date(2026, 12, 26), half),
            (3, dt.date(2027, 1, 12), dt.date(2027, 3, 20), None),
            (4, dt.date(2027, 3, 30), dt.date(2027, 5, 30), None),
        ]
    ]
    with time_machine.travel(YEAR_END):
        for quarter, text in zip(quarters, ["4", "4", "5", "5"], strict=True):
            grade(world, journal, text, period=quarter)
        expectation = rules.annual_expectation(journal.assignment, world.student.pk)
        assert [b.period for b in expectation.basis] == [q.name for q in quarters]
        assert (expectation.mean, expectation.expected) == (Decimal("4.5"), "5")
        # A half-year grade sums up its quarters: it replaces them in the basis.
        grade(world, journal, "3", period=half)
        expectation = rules.annual_expectation(journal.assignment, world.student.pk)
        assert [b.period for b in expectation.basis] == ["1 полугодие", "3 четверть", "4 четверть"]
        assert expectation.expected == "4"  # (3 + 5 + 5) / 3 = 4.33


# --- Visible in the grid and the API ----------------------------------------------------------------


def grid_html(client, world, journal):
    url = reverse("journal:grid", args=[world.school.slug, journal.assignment.pk])
    return client.get(f"{url}?period={journal.semester2.pk}")


def annual_cell(html):
    return next(c for c in html.split("<td") if 'data-k="annual"' in c or "annual-cell" in c)


@time_machine.travel(YEAR_END)
def test_grid_annual_cell_names_its_basis_and_marks_the_corrected_grade(world, journal, as_user):
    one, _two = semesters(world, journal, "9", "10")
    correct(world, one, "11")
    res = grid_html(as_user(world.teacher), world, journal)
    cell = annual_cell(res.content.decode())
    assert "I семестр: 11 (corrected, was 9)" in cell and "II семестр: 10" in cell
    assert 'data-note="≈11"' in cell  # empty cell: the rule's value as a small note
    assert " warn" not in cell.split(">")[0]


@time_machine.travel(YEAR_END)
def test_grid_flags_an_annual_grade_that_disagrees(world, journal, as_user):
    semesters(world, journal, "9", "10")
    annual(world, journal, "7")
    res = grid_html(as_user(world.deputy), world, journal)
    html = res.content.decode()
    cell = next(c for c in html.split("<td") if ">7</td>" in c and "pv" in c)
    assert "warn" in cell and 'data-note="≈10"' in cell and "differs from the school" in cell
    notes = res.context["grid"].notes[world.student.pk]
    assert [w.code for w in notes.annual_warnings] == ["annual_disagrees"]


@time_machine.travel(YEAR_END)
def test_grid_save_of_an_annual_grade_answers_with_basis_and_warnings(world, journal, as_user):
    one, _two = semesters(world, journal, "9", "10")
    correct(world, one, "11")
    res = as_user(world.teacher).post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {
            "kind": "period",
            "grade_kind": "annual",
            "ordinal": 0,
            "period": journal.semester2.pk,
            "student": world.student.pk,
            "value": "8",
            "version": 0,
        },
        HTTP_ACCEPT="application/json",
    )
    assert res.status_code == 200
    data = res.json()
    assert data["value"] == "8"
    assert [w["code"] for w in data["warnings"]] == ["annual_disagrees"]
    assert [(b["value"], b["corrected"], b["original"]) for b in data["basis"]["basis"]] == [
        ("11", True, "9"),
        ("10", False, None),
    ]
    assert data["basis"]["expected"] == "11"


@time_machine.travel(YEAR_END)
def test_api_write_and_grid_read_return_the_basis_and_warnings(world, journal, as_user):
    one, _two = semesters(world, journal, "9", "10")
    correct(world, one, "12")
    client = as_user(world.teacher)
    base = f"/api/v1/schools/{world.school.slug}/journal/assignments/{journal.assignment.pk}"
    body = {"student": world.student.pk, "period": journal.semester2.pk, "kind": "annual", "expected_version": 0}
    res = client.put(f"{base}/period-grades", data=json.dumps({**body, "text": "10"}), content_type="application/json")
    assert res.status_code == 200
    data = res.json()
    assert [w["code"] for w in data["warnings"]] == ["annual_disagrees"]
    assert data["basis"]["mean"] == "11" or Decimal(data["basis"]["mean"]) == Decimal("11")
    assert [b["value"] for b in data["basis"]["basis"]] == ["12", "10"]

    grid = client.get(f"{base}/grid?period={journal.semester2.pk}").json()
    [row] = [a for a in grid["annual"] if a["student"] == world.student.pk]
    assert row["value"] == "10" and row["expected"] == "11"
    assert [(b["period_name"], b["value"], b["corrected"]) for b in row["basis"]] == [
        ("I семестр", "12", True),
        ("II семестр", "10", False),
    ]
    assert [w["code"] for w in row["warnings"]] == ["annual_disagrees"]


@pytest.mark.parametrize("extra", [0, 30])
def test_annual_notes_cost_the_same_for_any_class_size(world, journal, django_assert_num_queries, extra):
    f.make_grid(journal.assignment, students=extra, lessons=5)
    semesters(world, journal, "9", "10")
    policy = rules.policy_for(world.school.pk)
    with django_assert_num_queries(4):
        notes = rules.period_grade_notes(journal.assignment, journal.semester2, policy=policy)
    assert notes[world.student.pk].annual.expected == "10"
    assert len(notes) == 1 + extra
