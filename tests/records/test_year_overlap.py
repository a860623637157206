"""After the next year is opened a student has an open enrolment in last year's class and in the new one; only the
class of the school's current year is theirs now ("current" is year-aware), and closing the old year ends the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from classbook.access import scopes
from classbook.access.context import build_context
from classbook.people.models import Enrolment
from classbook.records import queries, services
from classbook.roster import queries as roster_queries
from classbook.schools.models import AcademicYear
from tests import factories as f
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def overlap(world):
    nxt = f.YearFactory(school=world.school, name="2027/2028", start="2027-09-01", end="2028-06-30", is_current=False)
    six = f.SchoolClassFactory(year=nxt, name="6-А", year_level=f.YearLevelFactory(school=world.school, number=6))
    six.class_teacher = world.other_teacher
    six.save()
    Enrolment.objects.create(school=world.school, student=world.student, school_class=six, start=dt.date(2027, 9, 1))
    return nxt, six


def _switch(world, year):
    AcademicYear.objects.filter(school=world.school).update(is_current=False)
    AcademicYear.objects.filter(pk=year.pk).update(is_current=True)


def _in(world, user, school_class) -> set[int]:
    ctx = build_context(user, world.school)
    return set(scopes.class_students(ctx, school_class).values_list("pk", flat=True))


def test_a_student_is_current_only_in_the_current_years_class(world, overlap):
    nxt, six = overlap
    assert Enrolment.objects.filter(student=world.student, end__isnull=True).count() == 2
    assert world.student.pk in _in(world, world.secretary, world.class_a)
    assert world.student.pk not in _in(world, world.secretary, six)
    card = roster_queries.student_card(build_context(world.secretary, world.school), world.student)
    assert roster_queries.current_of(card.enrolments).school_class_id == world.class_a.pk

    _switch(world, nxt)  # 1 September: the school makes the new year current
    assert world.student.pk not in _in(world, world.secretary, world.class_a)
    assert world.student.pk in _in(world, world.secretary, six)
    card = roster_queries.student_card(build_context(world.secretary, world.school), world.student)
    assert roster_queries.current_of(card.enrolments).school_class_id == six.pk
    # Last year's class teacher no longer sees the student; the new one does.
    assert not scopes.students(build_context(world.class_teacher, world.school)).filter(pk=world.student.pk).exists()
    assert scopes.students(build_context(world.other_teacher, world.school)).filter(pk=world.student.pk).exists()


def test_closing_the_old_year_ends_its_enrolments_and_keeps_the_new_ones(world, overlap):
    nxt, six = overlap
    client = client_for(world.secretary)
    response = client.post("/s/lyceum-1/records/orders/close-year/", {"year": world.class_a.year_id})
    assert response.status_code == 302
    today = timezone.localdate()
    assert Enrolment.objects.get(student=world.student, school_class=world.class_a).end == today
    assert list(
        Enrolment.objects.filter(student=world.student, end__isnull=True).values_list("school_class", flat=True)
    ) == [six.pk]
    # Bad input changes nothing: a day outside the year, a day ahead, another school's year.
    for data in ({"year": nxt.pk, "on": "2020-01-01"}, {"year": nxt.pk}, {"year": 10**9}):
        client.post("/s/lyceum-1/records/orders/close-year/", data)
    assert Enrolment.objects.get(student=world.student, school_class=six).end is None
    assert client_for(world.teacher).post("/s/lyceum-1/records/orders/close-year/", {"year": nxt.pk}).status_code == 403


def test_the_year_opening_holds_back_the_students_of_a_signed_order(world):
    from classbook.records.models import LineInput, OrderInput, OrderKind
    from classbook.schools.opening import OpeningInput, plan_opening

    today = timezone.localdate()
    order = services.create_order(
        acting_user=world.secretary,
        school=world.school,
        data=OrderInput(year_id=world.class_a.year_id, number=1, date=today, effective_on=today,
                        kind=OrderKind.HELD_BACK, text="Залишити", lines=[LineInput(student_id=world.student.pk)]),
    )  # fmt: skip
    services.sign_order(acting_user=world.director, order=order)
    data = OpeningInput(name="2027/2028", start=dt.date(2027, 9, 1), end=dt.date(2028, 6, 30), final_level=11)
    plan = plan_opening(acting_user=world.admin, school=world.school, data=data)
    held = [s.student_id for c in plan.classes for s in c.students if s.status == "held_back"]
    assert held == [world.student.pk]
    assert queries.default_year(build_context(world.secretary, world.school)).pk == world.class_a.year_id
