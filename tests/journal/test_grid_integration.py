"""The grid's integration: period grades typed in the grid, corrections, remarks, cancelled lessons, links.

R2.5, R2.7 (period grades locked, corrections by allowed roles within the window), R6.10 (remarks),
R4.2 (cancelled lessons take no entries).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classbook.journal import services
from classbook.journal.models import (
    Attendance,
    GradeCorrection,
    GradeKind,
    JournalChange,
    JournalPolicy,
    Mark,
    PeriodGrade,
    Remark,
)
from classbook.timetable.models import ChangeKind, LessonChange
from tests import factories as f
from tests.journal.conftest import GRADES_DAY, IN_TIME

pytestmark = pytest.mark.django_db


def save_period(client, world, journal, value, *, kind="period", version=0, student=None, period=None, ordinal=0):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {
            "kind": "period",
            "grade_kind": kind,
            "ordinal": ordinal,
            "period": (period or journal.semester).pk,
            "student": (student or world.student).pk,
            "value": value,
            "version": version,
        },
        HTTP_ACCEPT="application/json",
    )


def grid_url(world, journal, period=None):
    url = reverse("journal:grid", args=[world.school.slug, journal.assignment.pk])
    return f"{url}?period={(period or journal.semester).pk}"


# --- Period grades in the grid ----------------------------------------------------------


@time_machine.travel(GRADES_DAY)
def test_teacher_saves_a_period_grade_and_a_second_save_needs_a_correction(world, journal, as_user):
    client = as_user(world.teacher)
    response = save_period(client, world, journal, "9")
    assert response.status_code == 200
    # No marks yet: saved with the accumulation warning (the default policy warns; test_accumulation_policy.py).
    data = response.json()
    assert data | {"warnings": []} == {"value": "9", "version": 1, "late": False, "warnings": [], "basis": None}
    grade = PeriodGrade.objects.get()
    assert (grade.kind, grade.value.code, grade.locked_at is not None) == ("period", "9", True)
    assert JournalChange.objects.filter(kind="period_grade").count() == 1

    again = save_period(client, world, journal, "10", version=1)
    assert again.status_code == 422
    error = again.json()["error"]
    assert error["code"] == "grade_locked"
    assert "24.12.2026" in error["message"]
    grade.refresh_from_db()
    assert grade.value.code == "9" and grade.version == 1


@pytest.mark.parametrize(("text", "expected"), [("н/а", "н/а"), ("звільн.", "звільн.")])
@time_machine.travel(GRADES_DAY)
def test_not_attested_and_exempt_are_period_grades(world, journal, as_user, text, expected):
    response = save_period(as_user(world.teacher), world, journal, text)
    assert response.status_code == 200 and response.json()["value"] == expected


@time_machine.travel(GRADES_DAY)
def test_attendance_mark_is_refused_in_a_period_column(world, journal, as_user):
    response = save_period(as_user(world.teacher), world, journal, "н")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "attendance_in_period_column"
    assert "н/а" in response.json()["error"]["message"]
    assert not PeriodGrade.objects.exists()


@pytest.mark.parametrize("kind", [GradeKind.THEMATIC, GradeKind.ANNUAL, GradeKind.EXAM])
@time_machine.travel(GRADES_DAY)
def test_other_period_columns_are_saved_through_the_same_endpoint(world, journal, as_user, kind):
    response = save_period(
        as_user(world.teacher), world, journal, "8", kind=kind, ordinal=1 if kind == "thematic" else 0
    )
    assert response.status_code == 200
    assert PeriodGrade.objects.get().kind == kind


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"grade_kind": "corrected"}, 422),  # only as a recorded correction
        ({"grade_kind": "bogus"}, 422),
        ({"version": "x"}, 422),
        ({"ordinal": "x"}, 422),
        ({"period": "999999"}, 404),
        ({"student": "999999"}, 404),
        ({"value": ""}, 422),
    ],
)
@time_machine.travel(GRADES_DAY)
def test_bad_period_cell_input_is_refused_and_changes_nothing(world, journal, as_user, fields, status):
    data = {
        "kind": "period",
        "grade_kind": "period",
        "ordinal": 0,
        "period": journal.semester.pk,
        "student": world.student.pk,
        "value": "9",
        "version": 0,
        **fields,
    }
    response = as_user(world.teacher).post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]), data
    )
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert not PeriodGrade.objects.exists()


@time_machine.travel(GRADES_DAY)
def test_stale_period_cell_gets_409_with_the_stored_value(world, journal, as_user):
    client = as_user(world.teacher)
    assert save_period(client, world, journal, "9").status_code == 200
    response = save_period(client, world, journal, "10", version=0)
    assert response.status_code == 409
    assert response.json()["error"]["current"] == {"value": "9", "version": 1}


PERIOD_SAVE_ACCESS = [
    ("teacher", 200),
    ("class_teacher", 403),
    ("deputy", 403),
    ("director", 403),
    ("admin", 403),
    ("viewer", 403),
    ("other_teacher", 404),
    ("secretary", 404),
    ("student", 403),
    ("parent", 403),
    ("foreign_teacher", 404),
    ("foreign_admin", 404),
]


@pytest.mark.parametrize(("persona", "status"), PERIOD_SAVE_ACCESS)
@time_machine.travel(GRADES_DAY)
def test_only_the_assignments_teacher_saves_period_grades(world, journal, as_user, persona, status):
    response = save_period(as_user(world.persona(persona)), world, journal, "9")
    assert response.status_code == status
    assert PeriodGrade.objects.exists() == (status == 200)


@time_machine.travel(GRADES_DAY)
def test_grid_shows_editable_period_cells_to_the_teacher_only(world, journal, as_user):
    services.record_period_grade(
        acting_user=world.teacher,
        assignment=journal.assignment,
        student=world.student,
        period=journal.semester,
        kind="period",
        text="9",
        expected_version=0,
    )
    html = as_user(world.teacher).get(grid_url(world, journal)).content.decode()
    assert f'data-k="period" data-o="0" data-s="{world.student.pk}" data-v="1"' in html
    assert 'data-k="corrected"' not in html
    assert '"periodId": ' + str(journal.semester.pk) in html
    deputy_html = as_user(world.deputy).get(grid_url(world, journal)).content.decode()
    assert 'data-k="' not in deputy_html


# --- Corrections from the grid -------------------------------------------------------------


def _set_grade(world, journal):
    with time_machine.travel(GRADES_DAY):
        return services.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=world.student,
            period=journal.semester,
            kind="period",
            text="9",
            expected_version=0,
        )


def correct(client, world, journal, **fields):
    data = {
        "period": journal.semester.pk,
        "student": world.student.pk,
        "value": "11",
        "reason": "Заява, повторне оцінювання",
        "order_ref": "Наказ № 12",
        **fields,
    }
    return client.post(reverse("journal:correct_grade", args=[world.school.slug, journal.assignment.pk]), data)


CORRECTION_ACCESS = [
    ("deputy", 302, True),
    ("director", 302, True),
    ("admin", 403, False),  # not allowed by the default journal rules
    ("teacher", 403, False),
    ("class_teacher", 403, False),
    ("viewer", 403, False),
    ("other_teacher", 404, False),
    ("secretary", 404, False),
    ("student", 403, False),
    ("parent", 403, False),
    ("foreign_admin", 404, False),
]


@pytest.mark.parametrize(("persona", "status", "done"), CORRECTION_ACCESS)
def test_correction_from_the_grid_by_role(world, journal, as_user, persona, status, done):
    _set_grade(world, journal)
    with time_machine.travel(GRADES_DAY + dt.timedelta(days=2)):
        response = correct(as_user(world.persona(persona)), world, journal)
    assert response.status_code == status
    assert GradeCorrection.objects.exists() == done
    assert PeriodGrade.objects.filter(kind=GradeKind.CORRECTED).exists() == done


@pytest.mark.parametrize(("days", "done"), [(3, True), (4, False)])
def test_correction_from_the_grid_within_the_window_only(world, journal, as_user, days, done):
    _set_grade(world, journal)
    with time_machine.travel(GRADES_DAY + dt.timedelta(days=days)):
        client = as_user(world.deputy)
        response = correct(client, world, journal)
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
    assert GradeCorrection.objects.exists() == done
    if not done:
        assert "27.12.2026" in page


@pytest.mark.parametrize("fields", [{"reason": ""}, {"order_ref": " "}, {"value": "13"}, {"value": "н"}])
def test_correction_needs_reason_order_and_a_valid_grade(world, journal, as_user, fields):
    _set_grade(world, journal)
    with time_machine.travel(GRADES_DAY):
        response = correct(as_user(world.deputy), world, journal, **fields)
    assert response.status_code == 302
    assert not GradeCorrection.objects.exists()


def test_correction_form_is_offered_to_allowed_roles_only(world, journal, as_user):
    _set_grade(world, journal)
    with time_machine.travel(GRADES_DAY):
        assert "correction-form" in as_user(world.deputy).get(grid_url(world, journal)).content.decode()
        assert "correction-form" not in as_user(world.teacher).get(grid_url(world, journal)).content.decode()
        assert "correction-form" not in as_user(world.admin).get(grid_url(world, journal)).content.decode()
        JournalPolicy.objects.filter(school=world.school).update(admin_corrects=True)
        assert "correction-form" in as_user(world.admin).get(grid_url(world, journal)).content.decode()


def test_corrected_column_stays_read_only_in_the_grid(world, journal, as_user):
    _set_grade(world, journal)
    with time_machine.travel(GRADES_DAY):
        correct(as_user(world.deputy), world, journal)
        response = save_period(as_user(world.teacher), world, journal, "12", kind="corrected")
    assert response.status_code == 422 and response.json()["error"]["code"] == "use_correction"
    assert PeriodGrade.objects.get(kind=GradeKind.CORRECTED).value.code == "11"


# --- Remarks on the grid ------------------------------------------------------------------


def add_remark(client, world, journal, **fields):
    data = {"assignment": journal.assignment.pk, "text": "Не заповнено тему", "back": "grid", **fields}
    return client.post(reverse("control:add_remark", args=[world.school.slug]), data)


@pytest.mark.parametrize(
    ("persona", "status", "done"),
    [
        ("deputy", 302, True),
        ("director", 302, True),
        ("admin", 302, True),
        ("viewer", 403, False),
        ("teacher", 403, False),
        ("class_teacher", 403, False),
        ("student", 403, False),
        ("foreign_admin", 404, False),
    ],
)
@time_machine.travel(IN_TIME)
def test_remark_on_a_cell_from_the_grid(world, journal, as_user, persona, status, done):
    response = add_remark(
        as_user(world.persona(persona)), world, journal, lesson=journal.lesson.pk, student=world.student.pk
    )
    assert response.status_code == status
    assert Remark.objects.exists() == done
    if done:
        remark = Remark.objects.get()
        assert (remark.lesson, remark.student) == (journal.lesson, world.student)
        assert response["Location"] == reverse("journal:grid", args=[world.school.slug, journal.assignment.pk])


@time_machine.travel(IN_TIME)
def test_remark_on_a_lesson_of_another_journal_is_not_found(world, journal, as_user):
    other = f.make_grid(journal.other_assignment, students=0, lessons=1, fill=0)
    del other
    response = add_remark(as_user(world.deputy), world, journal, lesson=journal.other_assignment.lessons.get().pk)
    assert response.status_code == 404 and not Remark.objects.exists()


@time_machine.travel(IN_TIME)
def test_grid_offers_add_remark_to_control_and_mark_fixed_to_the_teacher(world, journal, as_user):
    assert "remark-form" in as_user(world.deputy).get(grid_url(world, journal)).content.decode()
    assert "remark-form" not in as_user(world.viewer).get(grid_url(world, journal)).content.decode()
    assert "remark-form" not in as_user(world.teacher).get(grid_url(world, journal)).content.decode()
    remark = services.add_remark(acting_user=world.deputy, assignment=journal.assignment, text="Тема?")
    fix_url = reverse("control:fix_remark", args=[world.school.slug, remark.pk])
    assert fix_url in as_user(world.teacher).get(grid_url(world, journal)).content.decode()
    assert fix_url not in as_user(world.deputy).get(grid_url(world, journal)).content.decode()
    response = as_user(world.teacher).post(fix_url, {"back": "grid"})
    assert response.status_code == 302
    assert response["Location"] == reverse("journal:grid", args=[world.school.slug, journal.assignment.pk])
    remark.refresh_from_db()
    assert remark.fixed_by == world.teacher


@pytest.mark.parametrize(
    ("persona", "remarks", "changes", "mine"),
    [
        ("deputy", True, True, False),
        ("director", True, True, False),
        ("teacher", False, False, True),
        ("viewer", True, True, False),
    ],
)
def test_navigation_links_to_control_pages(world, as_user, persona, remarks, changes, mine):
    html = as_user(world.persona(persona)).get(reverse("schools:dashboard", args=[world.school.slug])).content.decode()

    def linked(name):
        return f'href="{reverse(name, args=[world.school.slug])}"' in html

    assert (linked("control:remarks"), linked("control:changes"), linked("control:my_remarks")) == (
        remarks,
        changes,
        mine,
    )


# --- Cancelled lessons ----------------------------------------------------------------------


def _cancel(world, lesson, kind=ChangeKind.CANCELLED):
    return LessonChange.objects.create(
        school=world.school,
        lesson=lesson,
        kind=kind,
        date=lesson.date,
        teacher=world.teacher,
        recorded_by=world.deputy,
    )


def save_lesson_cell(client, world, journal, value):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {"kind": "lesson", "lesson": journal.lesson.pk, "student": world.student.pk, "value": value, "version": "0.0"},
    )


@pytest.mark.parametrize("value", ["10", "н"])
@time_machine.travel(IN_TIME)
def test_cancelled_lesson_refuses_marks_and_attendance(world, journal, as_user, value):
    _cancel(world, journal.lesson)
    response = save_lesson_cell(as_user(world.teacher), world, journal, value)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "lesson_cancelled"
    assert not Mark.objects.exists() and not Attendance.objects.exists()


@time_machine.travel(IN_TIME)
def test_substituted_lesson_still_takes_marks(world, journal, as_user):
    _cancel(world, journal.lesson, kind=ChangeKind.SUBSTITUTED)
    assert save_lesson_cell(as_user(world.teacher), world, journal, "10").status_code == 200


@time_machine.travel(IN_TIME)
def test_grid_shows_a_cancelled_lesson_greyed_and_read_only(world, journal, as_user):
    _cancel(world, journal.lesson)
    response = as_user(world.teacher).get(grid_url(world, journal))
    grid = response.context["grid"]
    assert [lesson.cancelled for lesson in grid.lessons] == [True]
    html = response.content.decode()
    assert 'class="ld today cancelled"' in html
    assert f'class="c cancelled ro" data-l="{journal.lesson.pk}"' in html


@time_machine.travel(IN_TIME)
def test_cancelled_lessons_add_no_grid_query(world, journal, as_user, django_assert_max_num_queries):
    from classbook.access.context import resolve_school
    from classbook.journal import queries
    from classbook.journal.grid import read_grid

    f.make_grid(journal.assignment, students=10, lessons=20)
    for lesson in journal.assignment.lessons.all()[:5]:
        _cancel(world, lesson)
    ctx = resolve_school(world.teacher, world.school.slug)
    a = queries.readable_assignment(ctx, journal.assignment.pk)
    with django_assert_max_num_queries(10):  # 5, and 5 for the school's rules on period grades
        grid = read_grid(ctx, a, period_id=journal.semester.pk)
    assert sum(lesson.cancelled for lesson in grid.lessons) == 5
    client = as_user(world.teacher)
    dashboard = reverse("schools:dashboard", args=[world.school.slug])
    client.get(dashboard)
    with CaptureQueriesContext(connection) as baseline:
        client.get(dashboard)
    with django_assert_max_num_queries(len(baseline) + 13):
        assert client.get(grid_url(world, journal)).status_code == 200
