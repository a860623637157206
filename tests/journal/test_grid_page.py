"""The journal index and grid pages: who opens what, what the grid shows, how many queries (R1.4, R2.1-R2.8)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classbook.journal import grid as grid_model
from classbook.journal import queries, services
from classbook.journal.models import Lesson, PeriodGrade, Remark
from classbook.people.models import Enrolment
from classbook.schools.models import Subgroup
from tests import factories as f

NOW = dt.datetime(2026, 10, 5, 10, 0, tzinfo=dt.UTC)  # 13:00 in Kyiv, before the 16:00 deadline


@pytest.fixture(autouse=True)
def _frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def assignment(world):
    return world.teacher.teaching_assignments.get()


@pytest.fixture
def journal(world, assignment):
    return f.make_grid(assignment, students=3, lessons=5)


def grid_url(world, assignment, **params):
    url = reverse("journal:grid", args=[world.school.slug, assignment.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


INDEX_ACCESS = [
    ("teacher", 200),
    ("class_teacher", 200),
    ("other_teacher", 200),
    ("deputy", 200),
    ("director", 200),
    ("admin", 200),
    ("viewer", 200),
    ("secretary", 200),
    ("student", 403),
    ("parent", 403),
    ("foreign_teacher", 404),
]


@pytest.mark.parametrize(("persona", "status"), INDEX_ACCESS)
def test_journal_index_is_for_staff_and_control(world, as_user, persona, status):
    response = as_user(world.persona(persona)).get(reverse("journal:index", args=[world.school.slug]))
    assert response.status_code == status


def test_anonymous_goes_to_login(world, client, assignment):
    assert client.get(reverse("journal:index", args=[world.school.slug])).status_code == 302
    assert client.get(grid_url(world, assignment)).status_code == 302


def test_index_lists_own_journal_first_and_class_teacher_sees_every_subject(world, as_user, assignment):
    history = f.make_assignment(
        world.other_teacher, world.class_a, f.SubjectFactory(school=world.school, name="Біологія")
    )
    own = as_user(world.teacher).get(reverse("journal:index", args=[world.school.slug])).context["entries"]
    assert [e.id for e in own] == [assignment.pk]
    homeroom = as_user(world.class_teacher).get(reverse("journal:index", args=[world.school.slug])).context["entries"]
    assert {e.id for e in homeroom} == {assignment.pk, history.pk}
    assert {e.relation for e in homeroom} == {"homeroom"}
    other = as_user(world.other_teacher).get(reverse("journal:index", args=[world.school.slug])).context["entries"]
    assert other[0].relation == "own" and assignment.pk not in {e.id for e in other}


def test_deputy_filters_journals_by_teacher(world, as_user, assignment):
    client = as_user(world.deputy)
    all_entries = client.get(reverse("journal:index", args=[world.school.slug])).context["entries"]
    assert len(all_entries) == 2
    url = reverse("journal:index", args=[world.school.slug]) + f"?teacher={world.teacher.pk}"
    assert [e.id for e in client.get(url).context["entries"]] == [assignment.pk]


GRID_ACCESS = [
    ("teacher", 200),
    ("class_teacher", 200),
    ("deputy", 200),
    ("director", 200),
    ("admin", 200),
    ("viewer", 200),
    # A subject teacher reads only their own journals (and those where they substituted) (R1.4).
    ("other_teacher", 404),
    ("secretary", 404),
    ("student", 403),
    ("parent", 403),
    ("foreign_teacher", 404),
    ("foreign_admin", 404),
]


@pytest.mark.parametrize(("persona", "status"), GRID_ACCESS)
def test_grid_page_access(world, as_user, assignment, journal, persona, status):
    response = as_user(world.persona(persona)).get(grid_url(world, assignment))
    assert response.status_code == status
    if status == 200:
        editable = b'data-editable="1"' in response.content
        assert editable == (persona == "teacher")
        assert (b"lesson-form" in response.content) == (persona == "teacher")


def test_foreign_admin_cannot_open_a_journal_by_id_in_own_school(world, as_user, assignment, journal):
    url = reverse("journal:grid", args=[world.other_school.slug, assignment.pk])
    assert as_user(world.foreign_admin).get(url).status_code == 404


def test_grid_shows_students_alphabetically_with_left_students_greyed(world, as_user, assignment):
    def named(last, first):
        return f.make_student(world.class_a, user=f.UserFactory(last_name=last, first_name=first))

    named("Яковенко", "Петро")
    named("Іваненко", "Олег")
    left = named("Бойко", "Анна")
    named("Ємець", "Ірина")
    Enrolment.objects.filter(student=left).update(end=dt.date(2026, 9, 20))
    f.make_grid(assignment, students=0, lessons=3)
    response = as_user(world.teacher).get(grid_url(world, assignment))
    rows = response.context["grid"].rows
    surnames = [r.name.split()[0] for r in rows if r.id != world.student.pk]
    assert surnames == ["Бойко", "Ємець", "Іваненко", "Яковенко"]
    left_row = next(r for r in rows if r.id == left.pk)
    assert left_row.left_on == dt.date(2026, 9, 20)
    assert "left 20.09.2026" in response.content.decode() or "20.09.2026" in response.content.decode()


def test_subgroup_journal_shows_only_subgroup_students(world, as_user):
    subgroup = Subgroup.objects.create(school=world.school, school_class=world.class_a, name="Група 1")
    inside = f.make_student(world.class_a)
    f.make_student(world.class_a)
    subgroup.students.add(inside)
    sub_assignment = f.make_assignment(
        world.teacher, world.class_a, f.SubjectFactory(school=world.school), subgroup=subgroup
    )
    f.make_grid(sub_assignment, students=0, lessons=2)
    rows = as_user(world.teacher).get(grid_url(world, sub_assignment)).context["grid"].rows
    assert [r.id for r in rows] == [inside.pk]


def test_grid_shows_cells_period_grades_accumulation_and_remarks(world, as_user, assignment):
    f.make_grid(assignment, students=0, lessons=3, fill=0)
    lessons = list(assignment.lessons.order_by("date"))
    student = world.student
    for lesson, text in zip(lessons, ["10", "8", ""], strict=True):
        if text:
            services.record_mark(
                acting_user=world.teacher, lesson=lesson, student=student, text=text, expected_version=0
            )
    services.record_attendance(
        acting_user=world.teacher, lesson=lessons[2], student=student, text="н", expected_version=0
    )
    period = grid_model.study_periods(assignment)[0]
    scale = assignment.effective_scale()
    PeriodGrade.objects.create(
        school=world.school,
        assignment=assignment,
        student=student,
        period_id=period.id,
        kind="period",
        value=scale.values.get(code="9"),
        set_by=world.teacher,
    )
    Remark.objects.create(
        school=world.school, assignment=assignment, text="Не заповнено тему уроку", author=world.deputy
    )
    Remark.objects.create(
        school=world.school, assignment=assignment, text="Виправлено", author=world.deputy, fixed_at=NOW
    )
    response = as_user(world.teacher).get(grid_url(world, assignment))
    grid = response.context["grid"]
    row = grid.rows[0]
    assert [c.value for c in row.cells] == ["10", "8", "н"]
    assert row.cells[0].version == "1.0" and row.cells[2].version == "0.1"
    assert row.count == 2 and grid.required == 5 and row.average == "9.0"
    assert ("9", False, 1) in [(c.value, c.locked, c.version) for c in row.period_cells]
    html = response.content.decode()
    assert "Не заповнено тему уроку" in html and "Виправлено" not in html
    assert f'data-l="{lessons[0].pk}" data-s="{student.pk}" data-v="1.0"' in html


def test_one_lesson_a_week_needs_three_marks(world, as_user, assignment):
    assignment.hours_per_week = 1
    assignment.save()
    f.make_grid(assignment, students=0, lessons=1)
    assert as_user(world.teacher).get(grid_url(world, assignment)).context["grid"].required == 3


def test_late_entry_is_marked_in_the_grid(world, as_user, assignment):
    f.make_grid(assignment, students=0, lessons=2, fill=0)
    lesson = assignment.lessons.order_by("date").first()  # 1 September: long past, so late
    services.record_mark(acting_user=world.teacher, lesson=lesson, student=world.student, text="7", expected_version=0)
    html = as_user(world.teacher).get(grid_url(world, assignment)).content.decode()
    assert 'class="c late"' in html


def test_period_switcher_defaults_to_current_period_and_switches(world, as_user, assignment):
    f.make_grid(assignment, students=0, lessons=2)
    spring = services.create_lesson(acting_user=world.teacher, assignment=assignment, date=dt.date(2027, 2, 1))
    client = as_user(world.teacher)
    grid = client.get(grid_url(world, assignment)).context["grid"]
    assert grid.period.name == "I семестр" and spring.pk not in [lesson.id for lesson in grid.lessons]
    second = next(p for p in grid.periods if p.name == "II семестр")
    grid2 = client.get(grid_url(world, assignment, period=second.id)).context["grid"]
    assert [lesson.id for lesson in grid2.lessons] == [spring.pk]


def test_substitute_edits_only_the_lesson_they_conducted(world, as_user, assignment):
    f.make_grid(assignment, students=0, lessons=2, fill=0)
    first, second = assignment.lessons.order_by("date")
    first.conducted_by = world.other_teacher
    first.save()
    grid = as_user(world.other_teacher).get(grid_url(world, assignment)).context["grid"]
    assert [(lesson.id, lesson.editable) for lesson in grid.lessons] == [(first.pk, True), (second.pk, False)]
    assert not grid.can_add_lesson


@pytest.mark.parametrize(("students", "lessons"), [(10, 10), (40, 100)])
def test_grid_queries_do_not_grow_with_students_and_lessons(
    world, as_user, assignment, django_assert_max_num_queries, students, lessons
):
    from classbook.access.context import resolve_school

    f.make_grid(assignment, students=students - 1, lessons=lessons)
    ctx = resolve_school(world.teacher, world.school.slug)
    a = queries.readable_assignment(ctx, assignment.pk)
    # Periods, students, lessons, the lessons' own marks (the default work type, slot 0), one UNION ALL (the
    # other marks, attendance, period grades, the school's scale values, work types, attendance codes) and the
    # journal rules. The school's rules on period grades (rules.period_grade_notes_of) read what these read: no
    # query of their own. The page adds open remarks.
    with django_assert_max_num_queries(6):
        grid = grid_model.read_grid(ctx, a)
    assert len(grid.rows) == students


@pytest.mark.parametrize(("students", "lessons"), [(10, 10), (40, 100)])
def test_grid_page_renders_with_a_constant_number_of_queries(
    world, as_user, assignment, django_assert_max_num_queries, students, lessons
):
    f.make_grid(assignment, students=students - 1, lessons=lessons)
    client = as_user(world.teacher)
    dashboard = reverse("schools:dashboard", args=[world.school.slug])
    client.get(dashboard)  # session bookkeeping done once
    with CaptureQueriesContext(connection) as baseline:
        client.get(dashboard)
    # Session, user and the school context cost the same on every page; the grid adds at most 8:
    # the assignment, read_grid's 6 and the open remarks.
    with django_assert_max_num_queries(len(baseline) + 8):
        response = client.get(grid_url(world, assignment))
    assert response.status_code == 200
    assert response.content.count(b'class="c') >= students * lessons


@pytest.mark.parametrize("extra", [1, 15])
def test_index_queries_do_not_grow_with_journals(world, as_user, django_assert_max_num_queries, extra):
    for _ in range(extra):
        f.make_assignment(world.teacher, world.class_b, f.SubjectFactory(school=world.school))
    client = as_user(world.deputy)
    url = reverse("journal:index", args=[world.school.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as baseline:
        client.get(reverse("schools:dashboard", args=[world.school.slug]))
    with django_assert_max_num_queries(len(baseline) + 1):
        response = client.get(url)
    assert len(response.context["entries"]) == 2 + extra


@pytest.mark.parametrize("persona", ["deputy", "teacher", "class_teacher", "other_teacher"])
def test_index_is_one_query_whatever_the_journals_subgroups_and_substitutions(world, as_user, persona):
    """The index reads its journals in one query (compiled once per process, ``queries.journal_index``): none per
    journal, per subgroup or per lesson a substitute conducted; a journal substituted in twice is listed once."""
    client = as_user(getattr(world, persona))
    url = reverse("journal:index", args=[world.school.slug])
    client.get(url)

    def index():
        with CaptureQueriesContext(connection) as queries_run:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries_run), response.context["entries"]

    before, _ = index()
    for n in range(6):
        group = f.SubgroupFactory(school_class=world.class_a, name=f"Група {n}")
        own = f.make_assignment(world.teacher, world.class_a, f.SubjectFactory(school=world.school), subgroup=group)
        for day in range(2):
            Lesson.objects.create(
                school=world.school,
                assignment=own,
                date=world.class_a.year.start + dt.timedelta(days=day),
                created_by=world.teacher,
                conducted_by=world.other_teacher,
            )
    after, entries = index()
    assert after == before
    assert len({e.id for e in entries}) == len(entries)
    if persona != "deputy":
        assert {e.relation for e in entries if e.group.startswith("5-А / ")} == {
            "teacher": {"own"},
            "class_teacher": {"homeroom"},
            "other_teacher": {"substitute"},
        }[persona]
        assert len([e for e in entries if e.group.startswith("5-А / ")]) == 6


@pytest.mark.parametrize(
    "value",
    [
        {"strings": {"saving": "Збереження…", "html": "</script><b>&amp;</b>", "quote": 'it\'s "so"'}},
        {"periodId": None, "codes": ["н", "б"], "required": 3, "nested": {"focus": {"l": 1, "w": 2}}},
    ],
)
def test_grid_page_writes_its_configuration_as_json_script_does(value):
    """The grid page's tag writes ``{{ config|json_script:"journal-config" }}`` itself (issue 10): the same text."""
    from django.utils.html import json_script

    from classbook.journal.templatetags.journal_grid import _json_script

    assert _json_script(value, "journal-config") == json_script(value, "journal-config")


def test_grid_page_writes_translations_as_the_template_did(world, as_user, assignment, journal):
    """``{% translate %}`` of a literal is not escaped in a template; the page's tag writes them the same way
    (an apostrophe stays one), and the add-a-lesson form keeps its CSRF field."""
    world.teacher.language = "en"
    world.teacher.save(update_fields=["language"])
    html = as_user(world.teacher).get(grid_url(world, assignment)).content.decode()
    assert "T goes to the lesson's topic." in html
    assert 'class="toolbar add-lesson"><input type="hidden" name="csrfmiddlewaretoken" value="' in html
    assert html.count('<script id="journal-config" type="application/json">') == 1
