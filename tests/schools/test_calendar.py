"""The school calendar of a new year (issue 13): Orthodox Easter and Trinity computed, country holidays and
the weekend rule, periods and vacations in this year's weekday pattern, the preview saying why, the
school's own changes, and a year opened from the demo school."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.core.errors import DomainError
from classbook.schools import holidays as rules
from classbook.schools.models import (
    AcademicYear,
    Country,
    DayKind,
    HolidayRule,
    School,
    SchoolKind,
    SpecialDay,
    StudyPeriod,
)
from classbook.schools.opening import DayChange, OpeningInput, day_changes_from_text, open_year, plan_opening
from tests.schools.opening_scene import NEW

D = dt.date

# Orthodox Easter 2027-2035 as the Ukrainian and Russian church calendars publish them (the paschalion
# tables); checked against the Gauss formula for the Julian calendar as well. Trinity is 49 days later.
EASTER = {
    2027: D(2027, 5, 2),
    2028: D(2028, 4, 16),
    2029: D(2029, 4, 8),
    2030: D(2030, 4, 28),
    2031: D(2031, 4, 13),
    2032: D(2032, 5, 2),
    2033: D(2033, 4, 24),
    2034: D(2034, 4, 9),
    2035: D(2035, 4, 29),
}
TRINITY = {
    2027: D(2027, 6, 20),
    2028: D(2028, 6, 4),
    2029: D(2029, 5, 27),
    2030: D(2030, 6, 16),
    2031: D(2031, 6, 1),
    2032: D(2032, 6, 20),
    2033: D(2033, 6, 12),
    2034: D(2034, 5, 28),
    2035: D(2035, 6, 17),
}


def _gauss_julian_easter(year: int) -> dt.date:
    """An independent formula (Gauss, Julian calendar) to check the computus against."""
    a, b, c = year % 19, year % 4, year % 7
    d = (19 * a + 15) % 30
    e = (2 * b + 4 * c + 6 * d + 6) % 7
    julian = D(year, 3, 22 + d + e) if d + e < 10 else D(year, 4, d + e - 9)
    return julian + dt.timedelta(days=13)


def test_orthodox_easter_and_trinity_2027_to_2035():
    assert {y: rules.orthodox_easter(y) for y in EASTER} == EASTER
    assert {y: rules.orthodox_trinity(y) for y in TRINITY} == TRINITY
    assert all(d.weekday() == 6 for d in [*EASTER.values(), *TRINITY.values()])  # always Sundays
    for year in range(1950, 2100):
        assert rules.orthodox_easter(year) == _gauss_julian_easter(year)
    assert rules.orthodox_easter(2024) == D(2024, 5, 5) and rules.orthodox_easter(2025) == D(2025, 4, 20)


def _school(country=Country.UKRAINE, rule=HolidayRule.COUNTRY, kind=SchoolKind.SCHOOL):
    return School(slug="x-school", name="X", country=country, holiday_rule=rule, kind=kind)


def test_country_holidays_and_the_weekend_rule():
    span = (D(2027, 9, 1), D(2028, 6, 30))
    ua = {d.feast.key: (d.start, d.end) for d in rules.public_days(_school(), *span)}
    # Ukraine's default (martial law): on their own dates, never moved.
    assert ua["easter"] == (D(2028, 4, 16), D(2028, 4, 16)) and ua["trinity"] == (D(2028, 6, 4), D(2028, 6, 4))
    assert ua["christmas"] == (D(2027, 12, 25), D(2027, 12, 25))  # a Saturday, not moved
    assert set(ua) == {"defenders", "christmas", "new_year", "women", "easter", "labour", "remembrance"} | {
        "trinity",
        "constitution",
    }
    peace = {d.feast.key: d for d in rules.public_days(_school(rule=HolidayRule.TRANSFER), *span)}
    assert (peace["easter"].start, peace["easter"].end) == (D(2028, 4, 16), D(2028, 4, 17))
    assert (peace["christmas"].start, peace["christmas"].end) == (D(2027, 12, 25), D(2027, 12, 27))
    assert (peace["new_year"].start, peace["new_year"].end) == (D(2028, 1, 1), D(2028, 1, 3))
    assert "next working day" in peace["easter"].why and "Orthodox Easter" in peace["easter"].why
    # Russian-style schools: weekend holidays move, the January holidays and the Sunday feasts do not.
    ru = {d.feast.key: d for d in rules.public_days(_school(Country.RUSSIAN_STYLE), D(2028, 9, 1), D(2029, 6, 30))}
    assert (ru["unity"].start, ru["unity"].end) == (D(2028, 11, 4), D(2028, 11, 6))  # Saturday -> Monday
    assert ru["new_year_6"].end == D(2029, 1, 6) and ru["easter"].end == D(2029, 4, 8)
    assert ru["trinity"].start == D(2029, 5, 27)
    assert rules.public_days(_school(Country.OTHER), *span) == []


def test_first_school_day_and_the_weekday_pattern():
    assert rules.first_school_day(_school(), 2027)[0] == D(2027, 9, 1)  # a Wednesday
    assert rules.first_school_day(_school(), 2029)[0] == D(2029, 9, 3)  # Saturday -> Monday
    assert rules.first_school_day(_school(Country.RUSSIAN_STYLE), 2030)[0] == D(2030, 9, 2)  # a Sunday
    assert rules.first_school_day(_school(kind=SchoolKind.COLLEGE), 2029)[0] == D(2029, 9, 1)
    assert rules.align(D(2026, 10, 26)) == (D(2027, 10, 25), "weekday")  # the 4th Monday of October
    assert rules.align(D(2027, 1, 11)) == (D(2028, 1, 10), "weekday")  # the 2nd Monday of January
    assert rules.align(D(2027, 5, 30)) == (D(2028, 5, 28), "weekday")  # a 5th Sunday: the last one
    assert rules.align(D(2026, 12, 31)) == (D(2027, 12, 31), "same") and rules.align(D(2027, 2, 28))[0] == D(
        2028, 2, 29
    )
    day = D(2026, 12, 26)  # no drift over years: the 4th Saturday of December stays within 22-28
    for _ in range(12):
        day = rules.align(day)[0]
        assert day.weekday() == 5 and 22 <= day.day <= 28


def test_day_changes_from_text():
    assert day_changes_from_text("17.04.2028 Великдень\n2027-11-02 - 2027-11-03 День міста\n\n") == (
        DayChange("Великдень", D(2028, 4, 17), D(2028, 4, 17)),
        DayChange("День міста", D(2027, 11, 2), D(2027, 11, 3)),
    )
    with pytest.raises(DomainError) as exc:
        day_changes_from_text("Великдень 17.04\n31.02.2028 Х")
    assert "Великдень 17.04" in str(exc.value.message) and "31.02.2028 Х" in str(exc.value.message)


@pytest.mark.django_db
def test_preview_shows_every_date_and_why_and_the_school_moves_days(scene, as_user):
    w = scene.world
    response = as_user(w.deputy).post(
        "/s/lyceum-1/manage/open-year/",
        {
            **{k: str(v) for k, v in NEW.items()},
            "final_level": "11",
            "first_classes": "1-А",
            "day_changes": "17.04.2028 Великдень\n02.11.2027 День міста",
            "action": "preview",
        },
    )
    assert response.status_code == 200
    plan = response.context["plan"]
    days = {d.name: d for d in plan.holidays}
    assert (days["Великдень"].start, days["Великдень"].end) == (D(2027 + 1, 4, 17), D(2028, 4, 17))
    assert "moved by the school" in days["Великдень"].why
    assert days["Трійця"].start == D(2028, 6, 4) and "Orthodox Trinity" in days["Трійця"].why
    assert days["Різдво Христове"].why == "country rule: fixed date"
    assert days["День міста"].why == "added by the school"
    winter = days["Зимові канікули"]  # last year Monday 28.12.2026 - 10.01.2027: the 4th Monday of December
    assert (winter.start, winter.end) == (D(2027, 12, 27), D(2028, 1, 9)) and "2026/2027" in winter.why
    assert all(p.why for p in plan.periods) and "Субота (an extra working day" in plan.holidays_not_copied[0]
    html = response.content.decode()
    assert "computed: Orthodox Easter" not in html  # moved by the school, says so instead
    assert "computed: Orthodox Trinity" in html and "added by the school" in html
    assert not AcademicYear.objects.filter(name="2027/2028").exists()

    bad = as_user(w.deputy).post(
        "/s/lyceum-1/manage/open-year/",
        {**{k: str(v) for k, v in NEW.items()}, "final_level": "11", "day_changes": "01.08.2028 Літо"},
    )
    assert "the days must lie inside the new year" in bad.content.decode()


@pytest.mark.django_db
def test_a_year_opened_from_the_demo_school_has_the_right_calendar():
    from classbook.demo.generator import DemoOptions, generate
    from classbook.demo.steps import step_calendar, step_school, step_staff, step_structure
    from classbook.people.models import Membership, Role

    generate(DemoOptions(seed=1, students=30), steps=[step_school, step_calendar, step_structure, step_staff])
    school = School.objects.get()
    deputy = Membership.objects.filter(school=school, role=Role.DEPUTY, is_active=True).first().user
    data = OpeningInput(name="2027/2028", start=D(2027, 9, 1), end=D(2028, 6, 30))
    plan = plan_opening(acting_user=deputy, school=school, data=data)
    days = {d.name: (d.start, d.end) for d in plan.holidays}
    # Ukraine under martial law by default: no Monday after the Sunday feasts.
    assert days["Великдень"] == (D(2028, 4, 16), D(2028, 4, 16))
    assert days["Трійця"] == (D(2028, 6, 4), D(2028, 6, 4))
    assert days["День пам'яті та перемоги над нацизмом"] == (D(2028, 5, 8), D(2028, 5, 8))  # last year's wording
    assert days["Осінні канікули"] == (D(2027, 10, 25), D(2027, 10, 31))  # Monday - Sunday as in 2026
    assert days["Зимові канікули"] == (D(2027, 12, 26), D(2028, 1, 9))
    assert days["Весняні канікули"] == (D(2028, 3, 27), D(2028, 4, 2))
    periods = [(p.name, p.start, p.end) for p in plan.periods]
    assert periods == [
        ("Навчальний рік", D(2027, 9, 1), D(2028, 6, 30)),
        ("I семестр", D(2027, 9, 1), D(2027, 12, 25)),  # the last Saturday before the winter vacation
        ("II семестр", D(2028, 1, 10), D(2028, 5, 28)),  # the Monday after it; the last Sunday of May
    ]
    assert {p.start.weekday() for p in plan.periods[2:]} == {0}

    school.holiday_rule = HolidayRule.TRANSFER
    school.save(update_fields=["holiday_rule"])
    year = open_year(acting_user=deputy, school=school, data=data).year
    saved = {d.name: (d.kind, d.start, d.end) for d in SpecialDay.objects.filter(year=year)}
    assert saved["Великдень"] == (DayKind.HOLIDAY, D(2028, 4, 16), D(2028, 4, 17))
    assert saved["Трійця"] == (DayKind.HOLIDAY, D(2028, 6, 4), D(2028, 6, 5))
    assert len(saved) == len(days)
    assert StudyPeriod.objects.filter(year=year, name="II семестр", start=D(2028, 1, 10)).exists()

    school.holiday_rule = HolidayRule.WORKING
    school.save(update_fields=["holiday_rule"])
    later = plan_opening(
        acting_user=deputy, school=school, data=OpeningInput(name="2028/2029", start=D(2028, 9, 1), end=D(2029, 6, 30))
    )
    assert {d.kind for d in later.holidays} == {DayKind.VACATION}
    assert any("Великдень" in line and "working days" in line for line in later.holidays_not_copied)
