"""The demo's parent of two children and its student reach their diaries from the start page."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from classbook.demo.generator import DemoOptions, generate
from classbook.demo.logins import find_demo_logins
from classbook.people.models import GuardianLink, User
from classbook.schools.models import School

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fixed_today():
    with time_machine.travel(dt.datetime(2026, 10, 15, 15, 0, tzinfo=dt.UTC), tick=False):
        yield


def test_demo_parent_switches_between_two_children_and_the_student_sees_their_own():
    generate(DemoOptions(seed=1, students=60))
    school = School.objects.get()
    logins = {login.key: login for login in find_demo_logins(school)}
    parent = User.objects.get(username=logins["parent"].username)
    children = list(GuardianLink.objects.filter(guardian=parent, may_see=True).values_list("student_id", flat=True))
    assert len(children) == 2

    client = Client()
    client.force_login(parent)
    dashboard = client.get(reverse("schools:dashboard", args=[school.slug])).content.decode()
    diary_index = reverse("diary:index", args=[school.slug])
    assert diary_index in dashboard
    index = client.get(diary_index)
    assert {p.id for p in index.context["people"]} == set(children)
    for child in children:
        week = client.get(reverse("diary:week", args=[school.slug, child, "2026-10-12"]))
        assert week.status_code == 200
        lessons = [lesson for day in week.context["week"].days for lesson in day.lessons]
        assert len(lessons) > 15 and any(lesson.marks for lesson in lessons) and any(lesson.topic for lesson in lessons)
        # The other child is one click away: the switcher links both.
        for other in children:
            assert reverse("diary:student", args=[school.slug, other]) in week.content.decode()
        marks = client.get(reverse("diary:marks", args=[school.slug, child]))
        assert marks.status_code == 200 and marks.context["report"].marks_count >= 5

    student = User.objects.get(username=logins["student"].username)
    client = Client()
    client.force_login(student)
    start = client.get(reverse("diary:index", args=[school.slug]))
    assert start.status_code == 302
    assert f"/diary/{student.student.pk}/week/" in start["Location"]
    assert client.get(start["Location"]).status_code == 200
