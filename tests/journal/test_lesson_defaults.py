"""Homework's default due date (issue 14): the next lesson of the subject, in the one service every door calls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from classbook.journal import services
from classbook.journal.services.lessons import next_lesson_date
from tests import factories as f
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
MON, WED, FRI = dt.date(2026, 10, 5), dt.date(2026, 10, 7), dt.date(2026, 10, 9)


def _lessons(world):
    assignment = world.teacher.teaching_assignments.get()
    f.PeriodFactory(year=assignment.year)
    return [services.create_lesson(acting_user=world.teacher, assignment=assignment, date=d) for d in (MON, WED, FRI)]


def test_homework_is_due_at_the_next_lesson_unless_the_teacher_says_otherwise(world):
    mon, wed, fri = _lessons(world)
    assert next_lesson_date(mon) == WED and next_lesson_date(fri) is None
    lesson = services.update_lesson(acting_user=world.teacher, lesson_id=mon.pk, expected_version=1, homework="№ 5")
    assert lesson.homework_due == WED
    later = FRI + dt.timedelta(3)
    lesson = services.update_lesson(
        acting_user=world.teacher, lesson_id=wed.pk, expected_version=1, homework="№ 6", homework_due=later
    )
    assert lesson.homework_due == later
    # The last lesson planned: no next lesson, no due date made up.
    lesson = services.update_lesson(acting_user=world.teacher, lesson_id=fri.pk, expected_version=1, homework="№ 7")
    assert lesson.homework_due is None


def test_the_api_gets_the_same_default(world):
    mon, _wed, _fri = _lessons(world)
    url = f"/api/v1/schools/{world.school.slug}/journal/lessons/{mon.pk}"
    client = client_for(world.teacher)
    response = client.patch(url, {"expected_version": 1, "homework": "№ 12"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["homework_due"] == WED.isoformat()


def test_the_pages_default_due_date_is_not_stored_without_homework(world):
    mon, _wed, _fri = _lessons(world)
    url = reverse("journal:save_lesson", args=[world.school.slug, mon.assignment_id, mon.pk])
    client_for(world.teacher).post(url, {"version": 1, "topic": "Дроби", "homework": "", "homework_due": WED})
    mon.refresh_from_db()
    assert (mon.topic, mon.homework_due) == ("Дроби", None)
