"""Appeals fixtures on the shared ``world`` and the journal's ``journal``: a week of lessons with absences."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
import time_machine

from classbook.journal import services
from classbook.journal.models import Attendance, Lesson
from tests.journal.conftest import Journal, journal  # noqa: F401 - the fixture is used by the tests here

# Wednesday after the journal's lesson day (Monday 5 October 2026), noon in Kyiv.
NOW = dt.datetime(2026, 10, 7, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 7)
MON, TUE, WED = dt.date(2026, 10, 5), dt.date(2026, 10, 6), dt.date(2026, 10, 7)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@dataclass
class Week:
    journal: Journal
    lessons: dict[dt.date, Lesson]
    absences: dict[dt.date, Attendance]  # world.student absent on Monday and Tuesday


def absent(world, lesson, student=None) -> Attendance:
    return services.record_attendance(
        acting_user=lesson.assignment.teacher,
        lesson=lesson,
        student=student or world.student,
        text="н",
        expected_version=0,
    )


@pytest.fixture
def week(world, journal) -> Week:  # noqa: F811 - the journal fixture imported above
    lessons = {MON: journal.lesson}
    for day in (TUE, WED):
        lessons[day] = services.create_lesson(acting_user=world.teacher, assignment=journal.assignment, date=day)
    absences = {day: absent(world, lessons[day]) for day in (MON, TUE)}
    return Week(journal=journal, lessons=lessons, absences=absences)


def api(world, path: str) -> str:
    return f"/api/v1/schools/{world.school.slug}/appeals{path}"


def page(world, path: str) -> str:
    return f"/s/{world.school.slug}/appeals{path}"


def send(client, method, path, body=None):
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")
