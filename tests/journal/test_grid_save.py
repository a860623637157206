"""Saving grid cells and lessons from the page, and the cell history (R1.4, R2.1-R2.3, R2.8, R2.9)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from classbook.journal import services
from classbook.journal.models import Attendance, JournalChange, Lesson, Mark
from tests import factories as f

NOW = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)  # 13:00 in Kyiv, before the 16:00 deadline
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


def save(client, world, assignment, lesson, student, value, version="0.0", **extra):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, assignment.pk]),
        {"kind": "lesson", "lesson": lesson.pk, "student": student.pk, "value": value, "version": version, **extra},
        HTTP_ACCEPT="application/json",
    )


def history(client, world, assignment, lesson, student):
    return client.get(
        reverse("journal:history", args=[world.school.slug, assignment.pk]),
        {"lesson": lesson.pk, "student": student.pk},
    )


SAVE_ACCESS = [
    ("teacher", 200, 200),
    ("class_teacher", 403, 200),
    ("deputy", 403, 200),
    ("director", 403, 200),
    ("admin", 403, 200),
    ("viewer", 403, 200),
    ("other_teacher", 404, 404),  # may not even read another teacher's journal (R1.4)
    ("secretary", 404, 404),
    ("student", 403, 403),
    ("parent", 403, 403),
    ("foreign_teacher", 404, 404),
    ("foreign_admin", 404, 404),
]


@pytest.mark.parametrize(("persona", "save_status", "history_status"), SAVE_ACCESS)
def test_cell_save_and_history_access(world, as_user, assignment, lesson, persona, save_status, history_status):
    client = as_user(world.persona(persona))
    response = save(client, world, assignment, lesson, world.student, "10")
    assert response.status_code == save_status
    assert response["Content-Type"] == "application/json"
    assert Mark.objects.exists() == (save_status == 200)
    if save_status != 200:
        assert response.json()["error"]["code"] in {"forbidden", "not_found"}
    assert history(client, world, assignment, lesson, world.student).status_code == history_status


@pytest.mark.parametrize(
    ("lesson_id", "student_id", "version"),
    [
        ("missing", None, "0.0"),  # no such lesson
        ("abc", None, "0.0"),
        ("99999999999999999999", None, "0.0"),  # beyond any id: 404, not an overflow
        (None, "x", "0.0"),
        (None, "99999999999999999999", "0.0"),
        ("missing", None, "x.y"),  # a bad version of a lesson one may not read: 404 first
    ],
)
def test_a_cell_save_with_a_wrong_lesson_or_student_is_404_and_changes_nothing(
    world, as_user, assignment, lesson, lesson_id, student_id, version
):
    """The lesson is read with the cell (issue 10): whatever the ids, the answers are the page's 404."""
    lesson_value = {"missing": lesson.pk + 1000, None: lesson.pk}.get(lesson_id, lesson_id)
    response = as_user(world.teacher).post(
        reverse("journal:save_cell", args=[world.school.slug, assignment.pk]),
        {
            "kind": "lesson",
            "lesson": lesson_value,
            "student": student_id or world.student.pk,
            "value": "10",
            "version": version,
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert not Mark.objects.exists() and not JournalChange.objects.filter(kind="mark").exists()


def test_a_lesson_of_another_journal_is_404_and_a_bad_version_422(world, as_user, assignment, lesson):
    other = world.other_teacher.teaching_assignments.get()
    client = as_user(world.teacher)
    response = client.post(
        reverse("journal:save_cell", args=[world.school.slug, other.pk]),
        {"kind": "lesson", "lesson": lesson.pk, "student": world.student.pk, "value": "10", "version": "0.0"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 404
    response = save(client, world, assignment, lesson, world.student, "10", version="x.y")
    assert response.status_code == 422 and response.json()["error"]["code"] == "bad_version"
    response = save(as_user(world.class_teacher), world, assignment, lesson, world.student, "10", version="x.y")
    assert response.status_code == 403  # may read, may not edit: refused before the version matters
    response = save(client, world, assignment, lesson, world.other_student, "10")
    assert response.status_code == 422 and response.json()["error"]["code"] == "not_in_class"
    assert not Mark.objects.exists()


def test_anonymous_save_gets_401_json_and_nothing_changes(world, client, assignment, lesson):
    response = save(client, world, assignment, lesson, world.student, "10")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert not Mark.objects.exists()


def test_get_is_not_allowed_on_save(world, as_user, assignment, lesson):
    url = reverse("journal:save_cell", args=[world.school.slug, assignment.pk])
    assert as_user(world.teacher).get(url).status_code == 405


def test_teacher_saves_a_mark_and_gets_the_new_version(world, as_user, assignment, lesson):
    response = save(as_user(world.teacher), world, assignment, lesson, world.student, " 10 ")
    assert response.status_code == 200
    body = response.json()
    assert body["value"] == "10" and body["version"] == "1.0" and body["late"] is False
    assert body["row"] == {"count": 1, "required": 5, "average": "10.0"}
    mark = Mark.objects.get()
    assert mark.value.code == "10" and mark.created_by == world.teacher
    assert JournalChange.objects.filter(kind="mark", new_value="10").count() == 1


def test_attendance_code_goes_to_attendance_and_replaces_the_mark(world, as_user, assignment, lesson):
    client = as_user(world.teacher)
    assert save(client, world, assignment, lesson, world.student, "10").json()["version"] == "1.0"
    # Never silently: the cell holds a mark, so the absence is refused until the teacher says it replaces.
    response = save(client, world, assignment, lesson, world.student, "Н", version="1.0")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "cell_occupied" and response.json()["error"]["holds"] == "10"
    assert not Attendance.objects.exists() and Mark.objects.get().value.code == "10"
    response = save(client, world, assignment, lesson, world.student, "Н", version="1.0", replace="1")
    assert response.status_code == 200
    assert response.json()["value"] == "н" and response.json()["version"] == "2.1"
    assert Attendance.objects.get().code.code == "н"
    assert Mark.objects.get().value is None
    # And a mark typed over the absence makes the student present again.
    response = save(client, world, assignment, lesson, world.student, "9", version="2.1")
    assert response.json()["error"]["code"] == "cell_occupied" and response.json()["error"]["holds"] == "н"
    response = save(client, world, assignment, lesson, world.student, "9", version="2.1", replace="1")
    assert response.json()["value"] == "9" and response.json()["version"] == "3.2"
    assert Attendance.objects.get().code is None


def test_delete_clears_the_cell(world, as_user, assignment, lesson):
    client = as_user(world.teacher)
    save(client, world, assignment, lesson, world.student, "7")
    response = save(client, world, assignment, lesson, world.student, "", version="1.0")
    assert response.status_code == 200 and response.json()["value"] == ""
    assert Mark.objects.get().value is None


def test_stale_version_gets_conflict_with_current_value(world, as_user, assignment, lesson):
    services.record_mark(acting_user=world.teacher, lesson=lesson, student=world.student, text="9", expected_version=0)
    response = save(as_user(world.teacher), world, assignment, lesson, world.student, "7", version="0.0")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict" and "9" in error["message"]
    assert error["current"]["value"] == "9" and error["current"]["version"] == "1.0"
    assert Mark.objects.get().value.code == "9"


def test_conflict_on_the_second_write_rolls_back_the_first(world, as_user, assignment, lesson):
    services.record_attendance(
        acting_user=world.teacher, lesson=lesson, student=world.student, text="н", expected_version=0
    )
    # The page still shows the absence at version 0 (stale): typing a mark must change nothing.
    response = save(as_user(world.teacher), world, assignment, lesson, world.student, "8", version="0.0")
    assert response.status_code == 409
    assert response.json()["error"]["current"] == {"value": "н", "version": "0.1", "late": False}
    assert not Mark.objects.exists()
    assert Attendance.objects.get().code.code == "н"


@pytest.mark.parametrize("value", ["13", "11+", "10,5", "н/а", "abc", "0"])
def test_bad_input_is_refused_with_a_translated_message_and_nothing_stored(world, as_user, assignment, lesson, value):
    client = as_user(world.teacher)
    client.cookies["django_language"] = "uk"
    response = save(client, world, assignment, lesson, world.student, value, HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["message"] and error["fields"]["value"]
    if value == "н/а":
        assert error["code"] == "period_only"
    assert not Mark.objects.exists() and not Attendance.objects.exists()
    assert not JournalChange.objects.filter(kind__in=["mark", "attendance"]).exists()
    lesson.refresh_from_db()
    assert lesson.register_taken_at is None


def test_message_is_in_the_users_language(world, as_user, assignment, lesson):
    world.teacher.language = "en"
    world.teacher.save()
    response = save(as_user(world.teacher), world, assignment, lesson, world.student, "13")
    assert "is not a mark on the scale" in response.json()["error"]["message"]


def test_future_lesson_refuses_marks(world, as_user, assignment, lesson):
    future = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=TODAY + dt.timedelta(days=3))
    response = save(as_user(world.teacher), world, assignment, future, world.student, "10")
    assert response.status_code == 422 and not Mark.objects.exists()


def test_student_of_another_class_or_school_is_refused(world, as_user, assignment, lesson):
    # The service's rule, the same answer as through the API and the bulk write (issue 10).
    client = as_user(world.teacher)
    for student in (world.other_student, world.foreign_student):
        response = save(client, world, assignment, lesson, student, "10")
        assert response.status_code == 422 and response.json()["error"]["code"] == "not_in_class"
    url = reverse("journal:save_cell", args=[world.school.slug, assignment.pk])
    response = client.post(url, {"lesson": lesson.pk, "student": "x", "value": "10"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert not Mark.objects.exists()


def test_lesson_of_another_assignment_is_not_found(world, as_user, assignment, lesson):
    other = world.other_teacher.teaching_assignments.get()
    f.make_grid(other, students=0, lessons=1, fill=0)
    other_lesson = other.lessons.get()
    response = save(as_user(world.teacher), world, assignment, other_lesson, world.student, "10")
    assert response.status_code == 404 and not Mark.objects.exists()


def test_unknown_cell_kind_is_refused(world, as_user, assignment, lesson):
    response = save(as_user(world.teacher), world, assignment, lesson, world.student, "10", kind="corrected")
    assert response.status_code == 422 and not Mark.objects.exists()


def test_substitute_saves_in_the_lesson_they_conducted_only(world, as_user, assignment, lesson):
    other_day = services.create_lesson(
        acting_user=world.teacher, assignment=assignment, date=TODAY - dt.timedelta(days=1)
    )
    Lesson.objects.filter(pk=lesson.pk).update(conducted_by=world.other_teacher)
    client = as_user(world.other_teacher)
    assert save(client, world, assignment, lesson, world.student, "10").status_code == 200
    assert save(client, world, assignment, other_day, world.student, "10").status_code == 403
    assert Mark.objects.count() == 1


def test_history_lists_who_changed_what(world, as_user, assignment, lesson):
    client = as_user(world.teacher)
    save(client, world, assignment, lesson, world.student, "10")
    save(client, world, assignment, lesson, world.student, "11", version="1.0")
    response = history(as_user(world.deputy), world, assignment, lesson, world.student)
    html = response.content.decode()
    assert response.status_code == 200
    assert "10 → 11" in html and "— → 10" in html and world.teacher.last_name in html


def lesson_url(world, assignment, lesson):
    return reverse("journal:save_lesson", args=[world.school.slug, assignment.pk, lesson.pk])


def test_teacher_saves_topic_and_homework(world, as_user, assignment, lesson):
    response = as_user(world.teacher).post(
        lesson_url(world, assignment, lesson),
        {"version": 1, "topic": "Дроби", "homework": "№ 12, 13", "homework_due": "2026-10-07", "lesson_type": "new"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2 and response.json()["homework_due"] == "2026-10-07"
    lesson.refresh_from_db()
    assert (lesson.topic, lesson.homework, lesson.homework_due, lesson.lesson_type) == (
        "Дроби",
        "№ 12, 13",
        dt.date(2026, 10, 7),
        "new",
    )
    assert set(JournalChange.objects.filter(lesson=lesson).values_list("kind", flat=True)) >= {"topic", "homework"}


def test_stale_lesson_save_gets_conflict_with_current_fields(world, as_user, assignment, lesson):
    services.update_lesson(acting_user=world.teacher, lesson_id=lesson.pk, expected_version=1, topic="Перша")
    response = as_user(world.teacher).post(
        lesson_url(world, assignment, lesson), {"version": 1, "topic": "Друга"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["current"]["topic"] == "Перша"
    lesson.refresh_from_db()
    assert lesson.topic == "Перша"


@pytest.mark.parametrize(
    "data",
    [{"version": 1, "homework_due": "2026-10-01"}, {"version": 1, "homework_due": "2026-02-30"}, {"version": "x"}],
)
def test_bad_lesson_input_is_refused(world, as_user, assignment, lesson, data):
    response = as_user(world.teacher).post(lesson_url(world, assignment, lesson), data, HTTP_ACCEPT="application/json")
    assert response.status_code == 422 and response.json()["error"]["message"]
    lesson.refresh_from_db()
    assert lesson.version == 1 and lesson.homework_due is None


@pytest.mark.parametrize("persona", ["class_teacher", "deputy", "viewer", "student"])
def test_readers_cannot_change_a_lesson(world, as_user, assignment, lesson, persona):
    response = as_user(world.persona(persona)).post(
        lesson_url(world, assignment, lesson), {"version": 1, "topic": "Хак"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 403
    lesson.refresh_from_db()
    assert lesson.topic == ""


def test_lesson_form_without_script_redirects_back_to_the_grid(world, as_user, assignment, lesson):
    response = as_user(world.teacher).post(lesson_url(world, assignment, lesson), {"version": 1, "topic": "Дроби"})
    assert response.status_code == 302 and f"#lesson-{lesson.pk}" in response["Location"]


def test_teacher_adds_a_lesson(world, as_user, assignment, lesson):
    url = reverse("journal:add_lesson", args=[world.school.slug, assignment.pk])
    response = as_user(world.teacher).post(url, {"date": "2026-10-06", "number": "3", "topic": "Повторення"})
    assert response.status_code == 302
    added = Lesson.objects.get(date=dt.date(2026, 10, 6))
    assert (added.number, added.topic, added.created_by) == (3, "Повторення", world.teacher)


@pytest.mark.parametrize("data", [{"date": ""}, {"date": "2030-01-01"}, {"date": "nonsense"}])
def test_bad_new_lesson_is_refused(world, as_user, assignment, lesson, data):
    url = reverse("journal:add_lesson", args=[world.school.slug, assignment.pk])
    response = as_user(world.teacher).post(url, data, follow=True)
    assert response.status_code == 200 and list(response.context["messages"])
    assert Lesson.objects.count() == 1


@pytest.mark.parametrize(("persona", "status"), [("class_teacher", 403), ("deputy", 403), ("other_teacher", 404)])
def test_only_the_assignments_teacher_adds_lessons(world, as_user, assignment, lesson, persona, status):
    url = reverse("journal:add_lesson", args=[world.school.slug, assignment.pk])
    assert as_user(world.persona(persona)).post(url, {"date": "2026-10-06"}).status_code == status
    assert Lesson.objects.count() == 1


def register_url(world, assignment, lesson):
    return reverse("journal:take_register", args=[world.school.slug, assignment.pk, lesson.pk])


def test_teacher_takes_the_register_when_nobody_is_absent(world, as_user, assignment, lesson):
    response = as_user(world.teacher).post(register_url(world, assignment, lesson), HTTP_ACCEPT="application/json")
    assert response.status_code == 200 and response.json()["register_taken"] is True
    lesson.refresh_from_db()
    assert lesson.register_taken_at is not None and lesson.register_taken_by == world.teacher
    assert JournalChange.objects.filter(lesson=lesson, kind="register").count() == 1


@pytest.mark.parametrize(("persona", "status"), [("class_teacher", 403), ("viewer", 403), ("other_teacher", 404)])
def test_only_the_lessons_teacher_takes_the_register(world, as_user, assignment, lesson, persona, status):
    response = as_user(world.persona(persona)).post(
        register_url(world, assignment, lesson), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == status
    lesson.refresh_from_db()
    assert lesson.register_taken_at is None


def test_register_of_a_future_lesson_is_refused(world, as_user, assignment, lesson):
    future = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=TODAY + dt.timedelta(days=2))
    response = as_user(world.teacher).post(register_url(world, assignment, future), HTTP_ACCEPT="application/json")
    assert response.status_code == 422
    future.refresh_from_db()
    assert future.register_taken_at is None
