"""ETag / If-None-Match on the journal grid of the API (issue 18): a revalidation of an unchanged grid is
a 304 read in a few queries; every kind of change the grid shows gives a new tag."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.journal import services
from classbook.journal.models import WorkType
from classbook.roster import services as roster
from classbook.schools.models import Subject
from tests.journal.conftest import GRADES_DAY, IN_TIME

pytestmark = pytest.mark.django_db


def grid_url(world, journal):
    path = f"/api/v1/schools/{world.school.slug}/journal/assignments/{journal.assignment.pk}/grid"
    return f"{path}?period={journal.semester.pk}"


def tag_of(client, world, journal) -> str:
    response = client.get(grid_url(world, journal))
    assert response.status_code == 200
    return response["ETag"]


@time_machine.travel(IN_TIME)
def test_unchanged_grid_answers_304_without_a_body(world, journal, as_user):
    client = as_user(world.teacher)
    first = client.get(grid_url(world, journal))
    tag = first["ETag"]
    assert first.status_code == 200 and tag.startswith('W/"') and first["Cache-Control"] == "private, no-cache"
    again = client.get(grid_url(world, journal), HTTP_IF_NONE_MATCH=tag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == tag
    # a list of tags, and the strong form of the same tag, match too (weak comparison)
    assert client.get(grid_url(world, journal), HTTP_IF_NONE_MATCH=f'"x", {tag[2:]}').status_code == 304
    assert client.get(grid_url(world, journal), HTTP_IF_NONE_MATCH='W/"other"').status_code == 200


@time_machine.travel(IN_TIME)
def test_304_costs_a_few_queries_and_fewer_than_the_grid(world, journal, as_user):
    client = as_user(world.teacher)
    tag = tag_of(client, world, journal)  # also warms the session
    with CaptureQueriesContext(connection) as full:
        client.get(grid_url(world, journal))
    with CaptureQueriesContext(connection) as revalidated:
        assert client.get(grid_url(world, journal), HTTP_IF_NONE_MATCH=tag).status_code == 304
    # Session, user, school and context, the assignment, the period, the state: nothing of the grid itself.
    assert len(revalidated) <= 8 < len(full)
    state = [q["sql"] for q in revalidated.captured_queries if "journal_journalchange" in q["sql"]]
    assert len(state) == 1  # the state is one statement


@time_machine.travel(IN_TIME)
def test_every_kind_of_change_gives_a_new_tag(world, journal, as_user):
    client = as_user(world.teacher)
    seen = [tag_of(client, world, journal)]

    def changed(what: str) -> None:
        tag = tag_of(client, world, journal)
        assert tag not in seen, what
        seen.append(tag)

    lesson, student = journal.lesson, world.student
    mark = services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=student, text="10", expected_version=0
    )
    changed("a new mark")
    services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=student, text="11", expected_version=mark.version
    )
    changed("a changed mark")
    newcomer = roster.add_student(
        acting_user=world.admin,
        school_class=world.class_a,
        data={"last_name": "Нова", "first_name": "Учениця"},
        start=dt.date(2026, 9, 1),
    )
    changed("an enrolment")
    services.record_attendance(acting_user=world.teacher, lesson=lesson, student=newcomer, text="н", expected_version=0)
    changed("an absence")
    second = services.create_lesson(acting_user=world.teacher, assignment=journal.assignment, date=dt.date(2026, 10, 6))
    changed("a new lesson")
    services.update_lesson(
        acting_user=world.teacher, lesson_id=second.pk, expected_version=second.version, topic="Дроби"
    )
    changed("a lesson's topic")
    services.save_work_type(
        acting_user=world.admin,
        school=world.school,
        work_type=WorkType.objects.filter(school=world.school).first(),
        fields={"name": "Поточна оцінка"},
    )
    changed("a work type renamed (audited)")


def test_a_period_grade_gives_a_new_tag(world, journal, as_user):
    with time_machine.travel(GRADES_DAY):
        client = as_user(world.teacher)  # logged in on that day (a session ends after two weeks)
        before = tag_of(client, world, journal)
        services.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=world.student,
            period=journal.semester,
            kind="period",
            text="9",
            expected_version=0,
        )
        assert tag_of(client, world, journal) != before


@time_machine.travel(IN_TIME)
def test_the_tag_is_the_viewers_and_the_days(world, journal, as_user):
    teacher = tag_of(as_user(world.teacher), world, journal)
    deputy = tag_of(as_user(world.deputy), world, journal)
    assert teacher != deputy  # another viewer, other permissions (the deputy may not edit)
    # the deputy's permissions change: a new role
    roster.grant_role(acting_user=world.admin, school=world.school, user=world.deputy, role="teacher")
    assert tag_of(as_user(world.deputy), world, journal) != deputy
    with time_machine.travel(IN_TIME + dt.timedelta(days=1)):
        assert tag_of(as_user(world.teacher), world, journal) != teacher  # the day: lessons turn late or closed


@time_machine.travel(IN_TIME)
def test_changes_elsewhere_keep_the_tag(world, journal, as_user):
    client = as_user(world.teacher)
    tag = tag_of(client, world, journal)
    other = journal.other_assignment
    lesson = services.create_lesson(acting_user=world.other_teacher, assignment=other, date=dt.date(2026, 10, 5))
    assert lesson.assignment_id != journal.assignment.pk
    Subject.objects.filter(school=world.other_school).update(name="Інша")  # another school, unaudited
    assert tag_of(client, world, journal) == tag
