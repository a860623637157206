"""Queries compiled once and run with new values (classbook/core/prepared.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.core.prepared import Prepared
from classbook.schools.models import SpecialDay

DAYS = Prepared(
    lambda school, start, end: (
        SpecialDay.objects.filter(school_id=school, start__lte=end, end__gte=start)
        .order_by("start")
        .values_list("name", "start", "end")
    )
)


def test_binds_new_values_and_converts_columns(world):
    year = world.class_a.year
    for name, day in [("a", dt.date(2026, 10, 1)), ("b", dt.date(2026, 12, 31))]:
        SpecialDay.objects.create(school=world.school, year=year, name=name, start=day, end=day)
    SpecialDay.objects.create(
        school=world.other_school,
        year=world.foreign_class.year,
        name="x",
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 1),
    )
    october = DAYS.rows(school=world.school.pk, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31))
    assert october == [("a", dt.date(2026, 10, 1), dt.date(2026, 10, 1))]
    with CaptureQueriesContext(connection) as captured:
        autumn = DAYS.rows(school=world.school.pk, start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 31))
    assert [row[0] for row in autumn] == ["a", "b"]
    assert len(captured) == 1
    assert DAYS.rows(school=world.other_school.pk, start=dt.date(2026, 9, 1), end=dt.date(2027, 1, 31))[0][0] == "x"


def test_only_ints_strings_and_dates_are_bound(world):
    probe = Prepared(lambda school: SpecialDay.objects.filter(school_id=school).values_list("name"))
    with pytest.raises(TypeError):
        probe.rows(school=1.0)


def test_binds_strings_and_returns_model_instances(world):
    from classbook.core.prepared import PreparedModel
    from classbook.schools.models import School

    by_slug = PreparedModel(School, lambda slug: School.objects.filter(slug=slug, is_active=True).order_by("pk")[:1])
    assert by_slug.first(slug=world.school.slug) == world.school
    found = by_slug.first(slug=world.other_school.slug)
    assert found == world.other_school and found.name == world.other_school.name
    assert by_slug.first(slug="no-such' OR '1'='1") is None
    School.objects.filter(pk=world.school.pk).update(is_active=False)
    assert by_slug.first(slug=world.school.slug) is None


def test_booleans_are_not_bound(world):
    with pytest.raises(TypeError):
        Prepared(lambda flag: SpecialDay.objects.filter(pk=flag)).rows(flag=True)


def test_a_transformed_string_is_refused_not_frozen(world):
    from classbook.schools.models import School

    upper = Prepared(lambda slug: School.objects.filter(slug=slug.upper()).values_list("pk"))
    with pytest.raises(ValueError, match="derives a constant"):
        upper.rows(slug="lyceum-1")
