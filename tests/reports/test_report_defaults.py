"""Which period the grade reports open on (``Calendar.default``, one rule) and what they say when the chosen
period has no grades yet (``Calendar.pending``, the message with the forecast and the last results offered)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from classbook.reports.queries import Calendar, calendar
from classbook.schools.models import AcademicYear, PeriodKind, StudyPeriod
from tests.conftest import client_for

URL = "/s/lyceum-1/reports/"


def _calendar(graded: set[str] = frozenset(), annual: set[str] = frozenset()) -> Calendar:
    """Last year (closed) and this year, each with the whole-year period and two semesters (no database).

    ``graded``: the semesters holding period grades ("last1", "now2" ...); ``annual``: the years holding annual
    grades ("last", "now").
    """
    years = [
        AcademicYear(pk=2, name="2026/2027", start=dt.date(2026, 9, 1), end=dt.date(2027, 6, 30), is_current=True),
        AcademicYear(pk=1, name="2025/2026", start=dt.date(2025, 9, 1), end=dt.date(2026, 6, 30)),
    ]
    periods = []
    for year, tag, base in ((years[1], "last", 10), (years[0], "now", 20)):
        first = year.start.year
        rows = [
            (base, PeriodKind.YEAR, "Навчальний рік", year.start, year.end),
            (base + 1, PeriodKind.SEMESTER, "I семестр", year.start, dt.date(first, 12, 26)),
            (base + 2, PeriodKind.SEMESTER, "II семестр", dt.date(first + 1, 1, 11), dt.date(first + 1, 5, 30)),
        ]
        for pk, kind, name, start, end in rows:
            period = StudyPeriod(pk=pk, year_id=year.pk, kind=kind, name=name, start=start, end=end)
            number = pk - base
            period.graded = f"{tag}{number}" in graded  # type: ignore[attr-defined]
            # Annual grades are stored in the year's last semester.
            period.annual = number == 2 and tag in annual  # type: ignore[attr-defined]
            periods.append(period)
    return Calendar(years, periods)


IN_FIRST = dt.date(2026, 12, 3)
IN_SECOND = dt.date(2027, 2, 10)
ALL_LAST = {"last1", "last2"}


@pytest.mark.parametrize(
    ("today", "graded", "annual", "expected"),
    [
        # Nothing graded anywhere: the running semester (as the attendance and filling reports open).
        (IN_FIRST, set(), set(), "p21"),
        # Last year closed with its grades, this semester running: last year's annual grades (its last day
        # is after its second semester's).
        (IN_FIRST, ALL_LAST, {"last"}, "y1"),
        # Last year's semesters only (no annual grades imported): its second semester.
        (IN_FIRST, ALL_LAST, set(), "p12"),
        # The running semester holds grades already: it stays.
        (IN_FIRST, {*ALL_LAST, "now1"}, {"last"}, "p21"),
        # In the second semester, the first one's grades are the latest.
        (IN_SECOND, {*ALL_LAST, "now1"}, {"last"}, "p21"),
        (IN_SECOND, {*ALL_LAST, "now1", "now2"}, {"last"}, "p22"),
        # Between the years' semesters (the summer): the whole-year period holds today; the year's grades.
        (dt.date(2027, 6, 15), {*ALL_LAST, "now1", "now2"}, {"last", "now"}, "y2"),
    ],
)
def test_the_grade_reports_open_on_the_latest_choice_with_grades(today, graded, annual, expected):
    cal = _calendar(graded, annual)
    assert cal.default(today, graded=True) == expected


def test_without_graded_the_default_is_the_running_period_grades_or_not():
    cal = _calendar(ALL_LAST, {"last"})
    assert (cal.default(IN_FIRST), cal.default(IN_SECOND), cal.default(dt.date(2027, 6, 15))) == ("p21", "p22", "p20")


def test_pending_says_why_a_choice_has_no_grades_and_offers_the_latest_results():
    cal = _calendar(ALL_LAST, {"last"})
    running = cal.pending("p21", IN_FIRST)
    assert running is not None
    assert (running.name, running.state, running.end, running.is_year) == (
        "I семестр",
        "running",
        dt.date(2026, 12, 26),
        False,
    )
    assert running.offer == "y1"
    with translation.override("en"):
        assert cal.pending("p21", IN_FIRST).offer_label == "2025/2026 · Year"
    year = cal.pending("y2", IN_FIRST)
    assert year is not None and (year.is_year, year.state, year.name) == (True, "running", "2026/2027")
    assert cal.pending("p22", IN_FIRST).state == "future"
    assert cal.pending("p21", IN_SECOND).state == "ended"
    # A choice with grades, or no choice at all: nothing to say.
    assert cal.pending("p11", IN_FIRST) is None and cal.pending("y1", IN_FIRST) is None
    assert cal.pending("p999", IN_FIRST) is None and cal.pending("", IN_FIRST) is None
    # Nothing graded anywhere: nothing to offer.
    assert _calendar().pending("p21", IN_FIRST).offer == ""


@pytest.mark.django_db
def test_the_calendar_knows_which_periods_hold_grades_in_the_same_two_queries(world, built, django_assert_num_queries):
    with django_assert_num_queries(2):
        cal = calendar(world.school, graded=True)
    assert cal.has_grades(f"p{built.semester.pk}") and not cal.has_grades(f"p{built.semester2.pk}")
    assert cal.has_grades(f"y{built.semester.year_id}")  # annual grades, stored in the second semester


@pytest.mark.django_db
def test_a_running_period_without_grades_says_so_and_offers_the_forecast_and_the_last_results(world, built):
    with translation.override("en"), time_machine.travel(dt.datetime(2027, 2, 10, 10, 0, tzinfo=dt.UTC), tick=False):
        client = client_for(world.deputy)
        body = client.get(f"{URL}progress/?period=p{built.semester2.pk}").content.decode()
        assert 'data-testid="grades-pending"' in body
        assert "Period grades of II семестр are set after it ends on 30.06" in body
        assert f"{URL}forecast/" in body
        assert f"{URL}progress/?period=y{built.semester.year_id}" in body  # the latest results: the year's
        # Opened without a choice, the page shows the latest results, with no such message.
        body = client.get(f"{URL}progress/").content.decode()
        assert f'value="y{built.semester.year_id}" selected' in body
        assert 'data-testid="grades-pending"' not in body and "<table" in body
        # The summary sheet and the yearly table the same way.
        sheet = client.get(f"{URL}summary/?school_class={built.class_a.pk}&period=p{built.semester2.pk}")
        assert 'data-testid="grades-pending"' in sheet.content.decode()
        table = client.get(f"{URL}curriculum/year-table/?period=p{built.semester2.pk}").content.decode()
        assert 'data-testid="grades-pending"' in table and f"{URL}curriculum/year-table/?period=y" in table
