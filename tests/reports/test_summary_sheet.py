"""The class's summary sheet of grades (R6.2) against the raw rows."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from classbook.access.context import build_context
from classbook.access.reports import report_assignments
from classbook.reports import queries
from classbook.reports.models import ReportSettings
from tests.reports import reference


def _sheet(world, built, school_class, period, **settings):
    ctx = build_context(world.director, world.school)
    assert ctx is not None
    return queries.summary_sheet(
        report_assignments(ctx),
        school_class,
        queries.Scope(year=school_class.year, period=period),
        ReportSettings(school=world.school, **settings),
        world.school,
    )


def _expected_cells(world, built, school_class, period) -> dict[int, dict[int, str]]:
    cells: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    grades = reference.chosen_grades(world.school, school_class.year, period, include_departed=True)
    for g in sorted(grades, key=lambda g: g.assignment_id):
        if g.assignment.school_class_id == school_class.pk:
            cells[g.student_id][g.assignment.subject_id].append(g.value.code + ("*" if g.kind == "corrected" else ""))
    return {sid: {subj: " / ".join(codes) for subj, codes in row.items()} for sid, row in cells.items()}


def test_every_cell_is_the_grade_the_journal_holds(world, built):
    sheet = _sheet(world, built, built.class_a, built.semester)
    got = {
        st.student_id: {subj: code + ("*" if subj in st.corrected else "") for subj, code in st.cells.items()}
        for st in sheet.students
        if st.cells
    }
    assert got == _expected_cells(world, built, built.class_a, built.semester)
    assert [s.name for s in sheet.subjects] == sorted(s.name for s in sheet.subjects)
    assert len(sheet.subjects) == 4  # English once, though two subgroups teach it


def test_the_corrected_grade_is_shown_and_marked(world, built):
    sheet = _sheet(world, built, built.class_a, built.semester)
    row = next(st for st in sheet.students if st.student_id == built.students["Гнатюк"].pk)
    assert row.cells[world.subject.pk] == "5"
    assert world.subject.pk in row.corrected


def test_who_left_is_listed_and_marked_but_not_averaged(world, built):
    sheet = _sheet(world, built, built.class_a, built.semester)
    leaver = next(st for st in sheet.students if st.student_id == built.leaver.pk)
    assert leaver.left_on == dt.date(2026, 11, 15)
    assert leaver.cells[world.subject.pk] == "2"
    assert leaver.average is None  # left out of the figures by default
    mover = next(st for st in sheet.students if st.student_id == built.mover.pk)
    assert mover.left_on is None
    counted = _sheet(world, built, built.class_a, built.semester, include_departed=True)
    assert next(st for st in counted.students if st.student_id == built.leaver.pk).average == Decimal(
        "6.3"
    )  # (2+9+8)/3


def test_the_averages_and_not_attested_counts_match_the_raw_rows(world, built):
    sheet = _sheet(world, built, built.class_a, built.semester)
    grades = [
        g
        for g in reference.chosen_grades(world.school, built.class_a.year, built.semester, include_departed=False)
        if g.assignment.school_class_id == built.class_a.pk
    ]
    numbers_by_student: dict[int, list[Decimal]] = defaultdict(list)
    numbers_by_subject: dict[int, list[Decimal]] = defaultdict(list)
    na_by_student: dict[int, int] = defaultdict(int)
    for g in grades:
        if not g.value.period_only and g.value.numeric is not None:
            numbers_by_student[g.student_id].append(g.value.numeric)
            numbers_by_subject[g.assignment.subject_id].append(g.value.numeric)
        if reference.category(g.value) == "na":
            na_by_student[g.student_id] += 1

    def avg(values: list[Decimal]) -> Decimal | None:
        return reference.rounded(sum(values, Decimal(0)) / len(values)) if values else None

    for st in sheet.students:
        assert st.average == avg(numbers_by_student.get(st.student_id, [])), st.name
        assert st.not_attested == na_by_student.get(st.student_id, 0), st.name
    for subject in sheet.subjects:
        assert subject.average == avg(numbers_by_subject.get(subject.subject_id, [])), subject.name
    assert sheet.average == avg([n for values in numbers_by_student.values() for n in values])


def test_the_year_sheet_shows_the_annual_grades(world, built):
    sheet = _sheet(world, built, built.class_a, None)
    got = {st.student_id: st.cells for st in sheet.students if st.cells}
    assert got == _expected_cells(world, built, built.class_a, None)
    assert got[world.student.pk] == {world.subject.pk: "12"}


def test_the_sheet_costs_the_same_queries_for_any_class(world, built, django_assert_num_queries):
    ctx = build_context(world.director, world.school)
    assert ctx is not None
    settings = ReportSettings(school=world.school)
    for school_class in (built.class_a, built.class_b):
        scope = queries.Scope(year=school_class.year, period=built.semester)
        # subjects, students, cells, student averages, subject averages, the class average
        with django_assert_num_queries(6):
            queries.summary_sheet(report_assignments(ctx), school_class, scope, settings, world.school)
