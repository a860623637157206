"""A new thematic column from the grid page, filled like other period cells (R2.5, R2.7)."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from classbook.journal.models import GradeKind, JournalChange, PeriodGrade
from tests.journal.conftest import GRADES_DAY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_grades_day")]


@pytest.fixture
def _grades_day():
    with time_machine.travel(GRADES_DAY, tick=False):
        yield


def grid(client, world, journal, **params):
    return client.get(
        reverse("journal:grid", args=[world.school.slug, journal.assignment.pk]),
        {"period": journal.semester.pk, **params},
    )


def save_theme(client, world, journal, value, *, ordinal=1, title="Дроби", version=0, student=None):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {
            "kind": "period",
            "grade_kind": "thematic",
            "ordinal": ordinal,
            "title": title,
            "period": journal.semester.pk,
            "student": (student or world.student).pk,
            "value": value,
            "version": version,
        },
    )


def test_teacher_adds_a_thematic_column_and_fills_it(world, journal, as_user):
    client = as_user(world.teacher)
    page = grid(client, world, journal)
    assert b'id="add-theme"' in page.content
    assert b'data-k="thematic"' not in page.content
    page = grid(client, world, journal, theme="  Дроби  ")
    html = page.content.decode()
    assert '<th scope="col" class="pc">Дроби</th>' in html
    assert f'data-k="thematic" data-o="1" data-t="Дроби" data-s="{world.student.pk}" data-v="0"' in html
    assert page.context["config"]["focus"] == {"k": "thematic", "o": 1}

    response = save_theme(client, world, journal, "10")
    assert response.status_code == 200, response.content
    grade = PeriodGrade.objects.get(kind=GradeKind.THEMATIC)
    assert (grade.ordinal, grade.title, grade.value.code, grade.locked_at is not None) == (1, "Дроби", "10", True)
    assert JournalChange.objects.filter(student=world.student, new_value="10").exists()

    # The column stays without the parameter (it is stored with its grade); the next theme is number 2.
    html = grid(client, world, journal).content.decode()
    assert '<th scope="col" class="pc">Дроби</th>' in html
    html = grid(client, world, journal, theme="Відсотки").content.decode()
    assert html.index(">Дроби</th>") < html.index(">Відсотки</th>")
    assert 'data-k="thematic" data-o="2" data-t="Відсотки"' in html

    # Locked once set: another value is refused, the grade stays.
    again = save_theme(client, world, journal, "11", version=grade.version)
    assert again.status_code in {409, 422}
    assert PeriodGrade.objects.get(pk=grade.pk).value.code == "10"


def test_bad_theme_input_is_refused_or_trimmed(world, journal, as_user):
    client = as_user(world.teacher)
    response = save_theme(client, world, journal, "10", title="x" * 121)
    assert response.status_code == 422
    assert not PeriodGrade.objects.exists()
    response = save_theme(client, world, journal, "10", ordinal=99)
    assert response.status_code == 422
    page = grid(client, world, journal, theme="т" * 500)
    assert page.status_code == 200
    assert ("т" * 120 + "</th>").encode() in page.content
    assert grid(client, world, journal, theme="   ").context["config"]["focus"] is None


@pytest.mark.parametrize(
    ("persona", "page_status", "save_status"),
    [
        ("class_teacher", 200, 403),
        ("deputy", 200, 403),
        ("viewer", 200, 403),
        ("other_teacher", 404, 404),
        ("student", 403, 403),
        ("parent", 403, 403),
        ("foreign_teacher", 404, 404),
        ("foreign_admin", 404, 404),
    ],
)
def test_only_the_journals_teacher_adds_and_fills_a_thematic_column(
    world, journal, as_user, persona, page_status, save_status
):
    client = as_user(world.persona(persona))
    page = grid(client, world, journal, theme="Дроби")
    assert page.status_code == page_status
    if page_status == 200:
        assert b'id="add-theme"' not in page.content
        assert "Дроби".encode() not in page.content
    assert save_theme(client, world, journal, "10").status_code == save_status
    assert not PeriodGrade.objects.exists()


def test_anonymous_cannot_fill_a_thematic_column(world, journal, client):
    assert save_theme(client, world, journal, "10").status_code == 401
    assert grid(client, world, journal, theme="Дроби").status_code == 302
    assert not PeriodGrade.objects.exists()
