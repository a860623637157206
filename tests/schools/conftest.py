"""Helpers of the administration-area tests: the area's URLs and a calendar for the `world` school."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from classbook.schools.models import AcademicYear, Room, SpecialDay, StudyPeriod, Subgroup
from tests import factories as f

SECTIONS = (
    "years",
    "periods",
    "special-days",
    "year-levels",
    "classes",
    "subgroups",
    "subjects",
    "rooms",
    "assignments",
)


@pytest.fixture(autouse=True)
def english(settings):
    """Tests read messages in the English source language, whatever translations exist."""
    settings.LANGUAGE_CODE = "en"


def manage_url(school: str, path: str = "") -> str:
    return f"/s/{school}/manage/{path}"


@dataclass
class Calendar:
    year: AcademicYear
    semester: StudyPeriod
    holiday: SpecialDay
    room: Room
    subgroup: Subgroup


@pytest.fixture
def calendar(world) -> Calendar:
    year = world.class_a.year
    return Calendar(
        year=year,
        semester=f.PeriodFactory(year=year),
        holiday=SpecialDay.objects.create(
            school=world.school, year=year, name="Новий рік", start=dt.date(2027, 1, 1), end=dt.date(2027, 1, 7)
        ),
        room=f.RoomFactory(school=world.school, name="101"),
        subgroup=f.SubgroupFactory(school_class=world.class_a, name="Англійська 1"),
    )


from tests.schools.opening_scene import scene  # noqa: E402, F401  (the year-opening tests' fixture)
