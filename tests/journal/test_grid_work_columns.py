"""Work columns in the grid: a lesson's mark of another work type (a control work …) typed from the page (R2.1)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from classbook.journal import services
from classbook.journal.models import JournalChange, Mark, WorkType
from tests import factories as f

NOW = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 5)


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def assignment(world):
    return world.teacher.teaching_assignments.get()


@pytest.fixture
def lesson(world, assignment):
    f.make_grid(assignment, students=0, lessons=0)
    return services.create_lesson(acting_user=world.teacher, assignment=assignment, date=TODAY)


@pytest.fixture
def control(world, lesson):
    return WorkType.objects.get(school=world.school, code="control")


def save_work(client, world, assignment, lesson, student, work_type_id, value, version="0"):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, assignment.pk]),
        {
            "kind": "work",
            "lesson": lesson.pk,
            "work_type": work_type_id,
            "student": student.pk,
            "value": value,
            "version": version,
        },
    )


def grid(client, world, assignment, **params):
    return client.get(reverse("journal:grid", args=[world.school.slug, assignment.pk]), params)


WORK_SAVE_ACCESS = [
    ("teacher", 200),
    ("class_teacher", 403),  # reads every journal of the class, writes none
    ("deputy", 403),
    ("director", 403),
    ("viewer", 403),
    ("other_teacher", 404),  # another teacher's assignment
    ("secretary", 404),
    ("student", 403),
    ("parent", 403),
    ("foreign_teacher", 404),  # another school
    ("foreign_admin", 404),
]


@pytest.mark.parametrize(("persona", "status"), WORK_SAVE_ACCESS)
def test_work_cell_save_access(world, as_user, assignment, lesson, control, persona, status):
    response = save_work(as_user(world.persona(persona)), world, assignment, lesson, world.student, control.pk, "10")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert Mark.objects.filter(work_type=control).exists() == (status == 200)


def test_anonymous_work_save_gets_401(world, client, assignment, lesson, control):
    response = save_work(client, world, assignment, lesson, world.student, control.pk, "10")
    assert response.status_code == 401
    assert not Mark.objects.exists()


def test_teacher_adds_a_control_work_column_and_types_into_it(world, as_user, assignment, lesson, control):
    client = as_user(world.teacher)
    page = grid(client, world, assignment)
    assert b'data-w="' not in page.content
    assert "Контрольна робота".encode() in page.content  # offered in "Add a mark column"
    page = grid(client, world, assignment, add_lesson=lesson.pk, add_wt=control.pk)
    html = page.content.decode()
    assert f'data-l="{lesson.pk}" data-w="{control.pk}"' in html  # the head
    assert f'data-w="{control.pk}" data-s="{world.student.pk}" data-v="0"' in html  # the empty cell
    assert page.context["config"]["focus"] == {"l": lesson.pk, "w": control.pk}

    response = save_work(client, world, assignment, lesson, world.student, control.pk, "10")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["value"], body["version"]) == ("10", 1)
    mark = Mark.objects.get(work_type=control)
    assert (mark.slot, mark.value.code, mark.student_id) == (0, "10", world.student.pk)
    assert JournalChange.objects.filter(kind="mark", object_id=mark.pk, new_value="10").count() == 1

    # The lesson's own cell (default work type) is separate: both marks count, the control one double.
    client.post(
        reverse("journal:save_cell", args=[world.school.slug, assignment.pk]),
        {"kind": "lesson", "lesson": lesson.pk, "student": world.student.pk, "value": "7", "version": "0.0"},
    )
    assert Mark.objects.filter(lesson=lesson).count() == 2
    response = save_work(client, world, assignment, lesson, world.student, control.pk, "4", version="1")
    assert response.json()["row"]["average"] in {"5,0", "5.0"}  # (7 + 2 × 4) / 3

    # Without the add parameter the column stays: it holds a mark now.
    html = grid(client, world, assignment).content.decode()
    assert f'data-w="{control.pk}" data-s="{world.student.pk}" data-v="2">4</td>' in html
    assert f'data-s="{world.student.pk}" data-v="1.0">7</td>' in html


def test_work_cell_conflict_bad_mark_and_clear(world, as_user, assignment, lesson, control):
    client = as_user(world.teacher)
    assert save_work(client, world, assignment, lesson, world.student, control.pk, "9").status_code == 200
    stale = save_work(client, world, assignment, lesson, world.student, control.pk, "8", version="0")
    assert stale.status_code == 409
    assert stale.json()["error"]["current"] == {"value": "9", "version": 1, "late": False}
    for bad in ("13", "н", "abc"):  # off the scale; an attendance code belongs in the lesson's own cell
        response = save_work(client, world, assignment, lesson, world.student, control.pk, bad, version="1")
        assert response.status_code == 422, bad
        assert response.json()["error"]["message"]
    assert Mark.objects.get(work_type=control).value.code == "9"
    cleared = save_work(client, world, assignment, lesson, world.student, control.pk, "", version="1")
    assert cleared.json() | {"row": None} == {"value": "", "version": 2, "late": False, "row": None}
    assert save_work(client, world, assignment, lesson, world.student, control.pk, "", version="0").status_code == 200


def test_inactive_foreign_and_unknown_work_types_are_refused(world, as_user, assignment, lesson, control):
    client = as_user(world.teacher)
    WorkType.objects.filter(pk=control.pk).update(is_active=False)
    foreign = WorkType.objects.create(school=world.foreign_class.school, code="x", name="Чужа", ordinal=9)
    for wt in (control.pk, foreign.pk, "junk", ""):
        response = save_work(client, world, assignment, lesson, world.student, wt, "10")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_work_type"
    assert not Mark.objects.exists()
    # Nor can such a column be added from the address.
    html = grid(client, world, assignment, add_lesson=lesson.pk, add_wt=control.pk).content.decode()
    assert "data-w=" not in html


def test_read_only_viewers_get_no_column_form_and_bad_parameters_are_ignored(
    world, as_user, assignment, lesson, control
):
    for persona in ("class_teacher", "deputy"):
        response = grid(as_user(world.persona(persona)), world, assignment, add_lesson=lesson.pk, add_wt=control.pk)
        assert response.status_code == 200
        assert b'id="add-column"' not in response.content
        assert b"data-w=" not in response.content  # a column is added only where the user writes
    client = as_user(world.teacher)
    for params in ({"add_lesson": "x", "add_wt": "y"}, {"add_lesson": "999999", "add_wt": control.pk}):
        response = grid(client, world, assignment, **params)
        assert response.status_code == 200
        assert b"data-w=" not in response.content
        assert response.context["config"]["focus"] is None


def test_work_column_of_a_cancelled_or_inactive_type_stays_readable(world, as_user, assignment, lesson, control):
    client = as_user(world.teacher)
    save_work(client, world, assignment, lesson, world.student, control.pk, "11")
    WorkType.objects.filter(pk=control.pk).update(is_active=False)
    html = grid(client, world, assignment).content.decode()
    assert (
        f'class="c wk ro" data-l="{lesson.pk}" data-w="{control.pk}" data-s="{world.student.pk}" data-v="1">11</td>'
        in html
    )


def test_grid_and_save_follow_the_schools_rules_for_weights_and_required_marks(
    world, as_user, assignment, lesson, control
):
    from classbook.journal.models import JournalPolicy

    JournalPolicy.objects.update_or_create(
        school=world.school, defaults={"weighted_averages": False, "min_marks_one_hour": 4, "min_marks_more_hours": 6}
    )
    client = as_user(world.teacher)
    client.post(
        reverse("journal:save_cell", args=[world.school.slug, assignment.pk]),
        {"kind": "lesson", "lesson": lesson.pk, "student": world.student.pk, "value": "7", "version": "0.0"},
    )
    row = save_work(client, world, assignment, lesson, world.student, control.pk, "4").json()["row"]
    assert row["average"] in {"5,5", "5.5"}  # (7 + 4) / 2: weights off
    required = 6 if assignment.hours_per_week >= 2 else 4
    assert row["required"] == required
    page = grid(client, world, assignment)
    assert page.context["grid"].required == required
    assert page.context["grid"].rows[0].average in {"5,5", "5.5"}
