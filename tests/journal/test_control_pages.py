"""Control pages (R6.10, R2.2): the deputy's remarks log and changes log, the teacher's open remarks."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from classbook.journal import services
from classbook.journal.models import Remark
from tests import factories as f
from tests.journal.conftest import AFTER_DEADLINE, IN_TIME

pytestmark = pytest.mark.django_db


def page(world, name, **kwargs):
    return reverse(f"control:{name}", kwargs={"school": world.school.slug, **kwargs})


@pytest.fixture
def remark(world, journal):
    return services.add_remark(acting_user=world.deputy, assignment=journal.assignment, text="Не записано тему")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("deputy", 200),
        ("director", 200),
        ("admin", 200),
        ("viewer", 200),
        ("teacher", 403),
        ("class_teacher", 403),
        ("secretary", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),
        ("anonymous", 302),
    ],
)
@pytest.mark.parametrize("name", ["remarks", "changes"])
def test_control_logs_are_for_the_administration_and_viewers(world, journal, remark, as_user, persona, status, name):
    res = as_user(world.persona(persona)).get(page(world, name))
    assert res.status_code == status
    if status == 200 and name == "remarks":
        assert "Не записано тему" in res.content.decode()


def test_remarks_log_filters_by_status_and_teacher(world, journal, remark, as_user):
    other = services.add_remark(acting_user=world.director, assignment=journal.other_assignment, text="Немає оцінок")
    services.fix_remark(acting_user=world.other_teacher, remark=other, note="Виставлено")
    client = as_user(world.deputy)
    assert list(client.get(page(world, "remarks")).context["page"]) == [remark]
    assert list(client.get(page(world, "remarks") + "?status=fixed").context["page"]) == [other]
    res = client.get(page(world, "remarks") + f"?status=all&teacher={world.other_teacher.pk}")
    assert list(res.context["page"]) == [other]


def test_remarks_log_query_count_does_not_grow(world, journal, as_user, django_assert_max_num_queries):
    client = as_user(world.deputy)
    for n in range(3):
        services.add_remark(acting_user=world.deputy, assignment=journal.assignment, text=f"Зауваження {n}")
    client.get(page(world, "remarks"))
    with django_assert_max_num_queries(20) as few:
        client.get(page(world, "remarks"))
    for n in range(20):
        services.add_remark(acting_user=world.deputy, assignment=journal.other_assignment, text=f"Ще {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        res = client.get(page(world, "remarks"))
    assert len(res.context["page"]) == 23


@pytest.mark.parametrize(("persona", "created"), [("deputy", True), ("director", True), ("admin", True)])
def test_administration_adds_a_remark_from_the_log(world, journal, as_user, persona, created):
    res = as_user(world.persona(persona)).post(
        page(world, "add_remark"), {"assignment": journal.assignment.pk, "text": "Перевірте домашні завдання"}
    )
    assert res.status_code == 302
    assert Remark.objects.filter(text="Перевірте домашні завдання").exists() == created


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("teacher", 403), ("foreign_admin", 404)])
def test_viewers_and_teachers_cannot_add_remarks(world, journal, as_user, persona, status):
    res = as_user(world.persona(persona)).post(
        page(world, "add_remark"), {"assignment": journal.assignment.pk, "text": "Зауваження"}
    )
    assert res.status_code == status
    assert not Remark.objects.exists()


def test_empty_remark_is_refused_with_a_message(world, journal, as_user):
    res = as_user(world.deputy).post(
        page(world, "add_remark"), {"assignment": journal.assignment.pk, "text": "  "}, follow=True
    )
    assert "Write the remark." in res.content.decode()
    assert not Remark.objects.exists()


def test_teacher_sees_open_remarks_and_marks_them_fixed(world, journal, remark, as_user):
    client = as_user(world.teacher)
    res = client.get(page(world, "my_remarks"))
    assert list(res.context["remarks"]) == [remark]
    res = client.post(page(world, "fix_remark", remark_id=remark.pk), {"note": "Записано"}, follow=True)
    assert res.status_code == 200
    remark.refresh_from_db()
    assert remark.fixed_by == world.teacher and remark.fixed_note == "Записано"
    assert list(client.get(page(world, "my_remarks")).context["remarks"]) == []


@pytest.mark.parametrize(
    ("persona", "status"),
    [("other_teacher", 404), ("class_teacher", 403), ("deputy", 403), ("viewer", 403), ("student", 403)],
)
def test_only_the_journals_teacher_marks_a_remark_fixed(world, journal, remark, as_user, persona, status):
    res = as_user(world.persona(persona)).post(page(world, "fix_remark", remark_id=remark.pk), {"note": "x"})
    assert res.status_code == status
    remark.refresh_from_db()
    assert remark.fixed_at is None


def test_other_teacher_sees_no_remarks_on_journals_not_theirs(world, journal, remark, as_user):
    assert list(as_user(world.other_teacher).get(page(world, "my_remarks")).context["remarks"]) == []


def test_changes_log_shows_late_entries_and_filters(world, journal, as_user, django_assert_max_num_queries):
    with time_machine.travel(IN_TIME):
        services.record_mark(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="9", expected_version=0
        )
    absent = f.make_student(world.class_a)  # one cell holds one entry: the absence is another student's
    with time_machine.travel(AFTER_DEADLINE):
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=absent, text="н", expected_version=0
        )
        other_lesson = services.create_lesson(
            acting_user=world.other_teacher, assignment=journal.other_assignment, date=dt.date(2026, 10, 5)
        )
        services.record_mark(
            acting_user=world.other_teacher,
            lesson=other_lesson,
            student=world.other_student,
            text="10",
            expected_version=0,
        )
    client = as_user(world.deputy)
    res = client.get(page(world, "changes") + "?late=1")
    assert {(c.kind, c.actor) for c in res.context["page"]} == {
        ("attendance", world.teacher),
        ("mark", world.other_teacher),
    }
    assert "late" in res.content.decode()
    res = client.get(page(world, "changes") + f"?teacher={world.teacher.pk}&late=1")
    assert [c.kind for c in res.context["page"]] == ["attendance"]
    res = client.get(page(world, "changes") + f"?class={world.class_b.pk}&date=2026-10-05")
    assert {c.kind for c in res.context["page"]} == {"lesson", "mark"}
    assert client.get(page(world, "changes") + "?date=not-a-date&teacher=x").status_code == 200
    # The page costs the same with many more rows.
    with django_assert_max_num_queries(20) as few:
        client.get(page(world, "changes"))
    students = [f.make_student(world.class_a) for _ in range(15)]
    with time_machine.travel(IN_TIME):
        services.record_lesson_bulk(
            acting_user=world.teacher,
            lesson=journal.lesson,
            marks=[{"student": s.pk, "text": "8", "expected_version": 0} for s in students],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(page(world, "changes"))


def test_changes_log_shows_stored_values_as_words_in_the_readers_language(world, journal, as_user):
    from django.utils import translation
    from django.utils.formats import date_format

    from classbook.journal.models import AttendanceCode, LessonType

    with time_machine.travel(IN_TIME):
        services.take_register(acting_user=world.teacher, lesson=journal.lesson)
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
        )
        lesson = services.update_lesson(
            acting_user=world.teacher,
            lesson_id=journal.lesson.pk,
            expected_version=journal.lesson.version,
            lesson_type="control",
            homework="§ 5",
            homework_due=dt.date(2026, 10, 7),
        )
    absent = AttendanceCode.objects.get(school=world.school, code="н").name
    client = as_user(world.deputy)
    for language, taken in [("en", "taken"), ("uk", "відмічено")]:
        client.cookies["django_language"] = language
        res = client.get(page(world, "changes"))
        shown = {(row.change.kind, row.old, row.new) for row in res.context["rows"]}
        with translation.override(language):
            regular, control = str(LessonType.REGULAR.label), str(LessonType.CONTROL.label)
            due = date_format(dt.date(2026, 10, 7), "SHORT_DATE_FORMAT")
        assert ("register", "", taken) in shown, language
        assert ("attendance", "", f"н — {absent}") in shown
        assert ("lesson", regular, control) in shown
        assert ("homework", "", due) in shown
        html = res.content.decode()
        assert ">control<" not in html and "2026-10-07" not in html
        assert language == "en" or ">taken<" not in html
    # The API keeps the stored value for programs and gives the words beside it.
    api = client.get(f"/api/v1/schools/{world.school.slug}/journal/lessons/{lesson.pk}/history").json()["items"]
    register = next(c for c in api if c["kind"] == "register")
    assert (register["new_value"], register["new_label"]) == ("taken", "відмічено")
