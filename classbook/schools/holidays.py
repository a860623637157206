"""The school calendar's country rules (R4.3, issue 13): movable feasts, fixed public holidays, the weekend
transfer rule, the first school day, and how a date of last year's calendar maps onto the next year.

Pure functions, no database: the year opening (``opening.py``) calls them and shows each date with the
reason it was computed (``why``). See docs/year-opening.md#the-calendar for the rules and their sources.

- **Orthodox Easter** is computed by the Julian computus (the Julian paschalion: 19-year lunar cycle, Sunday
  letters of the Julian calendar) and converted to the Gregorian calendar (13 days in 1900-2099);
  **Trinity** (Pentecost) is Easter + 49 days.
- **Fixed holidays** per country: Ukraine — Labour Code art. 73 as amended by Law № 3093-IX (2023);
  Russian-style schools — Labour Code of the Russian Federation art. 112. Other countries have none built in
  (last year's days are copied).
- **Weekend transfer** (the school's ``holiday_rule``; empty = the country's default):
  ``transfer`` — a holiday on a Saturday or Sunday also makes the next working day a day off (Ukraine in
  peacetime, Labour Code art. 67 part 3; Russia art. 112 part 2, except the January holidays, which the
  government moves by decree); ``no_transfer`` — holidays are days off on their own dates only: Ukraine under
  martial law (since 24.02.2022, Law № 2136-IX art. 6 suspends art. 67 part 3 and art. 73), the Ukrainian
  default while martial law lasts; ``working`` — public holidays are working days (none is created; only
  last year's vacations and the school's own days are carried).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from classbook.schools.models import Country, HolidayRule, School, SchoolKind

DAY = dt.timedelta(days=1)


def orthodox_easter(year: int) -> dt.date:
    """Orthodox Easter of ``year`` as a Gregorian date (Julian computus, then the Julian-to-Gregorian shift)."""
    if not 1583 <= year <= 4099:
        raise ValueError("year out of range")
    a, b, c = year % 4, year % 7, year % 19
    d = (19 * c + 15) % 30  # days from 21 March (Julian) to the paschal full moon
    e = (2 * a + 4 * b - d + 34) % 7  # days from the full moon to the next Sunday
    month, day = divmod(d + e + 114, 31)
    julian_gap = year // 100 - year // 400 - 2  # 13 days in 1900-2099
    return dt.date(year, month, day + 1) + dt.timedelta(days=julian_gap)


def orthodox_trinity(year: int) -> dt.date:
    """Trinity (Pentecost): the seventh Sunday after Easter, Easter + 49 days."""
    return orthodox_easter(year) + dt.timedelta(days=49)


@dataclass(frozen=True)
class Feast:
    """A public holiday of a country: a fixed ``(month, day)`` or a movable ``compute(year)``."""

    key: str
    name: str  # the official name in the country's language (last year's wording wins when it matched)
    month: int = 0
    day: int = 0
    compute: Callable[[int], dt.date] | None = None
    moves: bool = True  # a weekend day moves to the next working day under the "transfer" rule
    aliases: tuple[str, ...] = ()  # other names last year's row may carry (matched case-insensitively)

    def on(self, year: int) -> dt.date:
        return self.compute(year) if self.compute else dt.date(year, self.month, self.day)


_EASTER = ("великдень", "пасха", "паска", "великдень христовий", "easter")
_NEW_YEAR_RU = ("новогодние каникулы", "новый год")
_TRINITY = ("трійця", "троица", "трійця (зелені свята)", "trinity", "pentecost")

FEASTS: dict[str, tuple[Feast, ...]] = {
    Country.UKRAINE: (
        Feast("new_year", "Новий рік", 1, 1, aliases=("новий рік",)),
        Feast("women", "Міжнародний жіночий день", 3, 8, aliases=("міжнародний жіночий день",)),
        Feast("easter", "Великдень", compute=orthodox_easter, aliases=_EASTER),
        Feast("labour", "День праці", 5, 1, aliases=("день праці",)),
        Feast(
            "remembrance",
            "День пам'яті та перемоги над нацизмом у Другій світовій війні 1939-1945 років",
            5,
            8,
            aliases=("день пам'яті та перемоги над нацизмом",),
        ),
        Feast("trinity", "Трійця", compute=orthodox_trinity, aliases=_TRINITY),
        Feast("constitution", "День Конституції України", 6, 28, aliases=("день конституції україни",)),
        Feast("statehood", "День Української Державності", 7, 15),
        Feast("independence", "День Незалежності України", 8, 24),
        Feast(
            "defenders",
            "День захисників і захисниць України",
            10,
            1,
            aliases=("день захисників і захисниць україни",),
        ),
        Feast("christmas", "Різдво Христове", 12, 25, aliases=("різдво христове", "різдво")),
    ),
    Country.RUSSIAN_STYLE: (
        *(
            Feast(f"new_year_{d}", "Новогодние каникулы", 1, d, moves=False, aliases=_NEW_YEAR_RU)
            for d in (1, 2, 3, 4, 5, 6, 8)
        ),
        Feast("christmas", "Рождество Христово", 1, 7, moves=False, aliases=("рождество христово",)),
        Feast("defender", "День защитника Отечества", 2, 23, aliases=("день защитника отечества",)),
        Feast("women", "Международный женский день", 3, 8, aliases=("международный женский день",)),
        # Easter and Trinity are Sundays and not days off under art. 112: shown, never moved.
        Feast("easter", "Пасха", compute=orthodox_easter, moves=False, aliases=_EASTER),
        Feast("labour", "Праздник Весны и Труда", 5, 1, aliases=("праздник весны и труда",)),
        Feast("victory", "День Победы", 5, 9, aliases=("день победы",)),
        Feast("trinity", "Троица", compute=orthodox_trinity, moves=False, aliases=_TRINITY),
        Feast("russia", "День России", 6, 12, aliases=("день россии",)),
        Feast("unity", "День народного единства", 11, 4, aliases=("день народного единства",)),
    ),
}

# The country's default when the school leaves ``holiday_rule`` empty.
COUNTRY_RULE: dict[str, str] = {
    Country.UKRAINE: HolidayRule.NO_TRANSFER,  # martial law (Law № 2136-IX): no transfer
    Country.RUSSIAN_STYLE: HolidayRule.TRANSFER,
    Country.OTHER: HolidayRule.NO_TRANSFER,
}


def holiday_rule(school: School) -> str:
    return school.holiday_rule or COUNTRY_RULE.get(school.country, HolidayRule.NO_TRANSFER)


def has_country_feasts(school: School) -> bool:
    return school.country in FEASTS


@dataclass(frozen=True)
class PublicDay:
    """A public holiday in a span: ``start`` is the holiday, ``end`` the last day off (the transfer day)."""

    feast: Feast
    start: dt.date
    end: dt.date
    why: str


def public_days(school: School, start: dt.date, end: dt.date, rule: str | None = None) -> list[PublicDay]:
    """The country's public holidays between ``start`` and ``end`` with the reason of each date."""
    rule = rule or holiday_rule(school)
    feasts = FEASTS.get(school.country, ())
    dates: list[tuple[Feast, dt.date]] = []
    for year in range(start.year, end.year + 1):
        dates.extend((f, f.on(year)) for f in feasts)
    dates = sorted(((f, d) for f, d in dates if start <= d <= end), key=lambda fd: fd[1])
    taken = {d for _f, d in dates}
    days: list[PublicDay] = []
    for feast, day in dates:
        why = _("computed: Orthodox Easter") if feast.key == "easter" else ""
        if feast.key == "trinity":
            why = _("computed: Orthodox Trinity (Easter + 49 days)")
        why = why or _("country rule: fixed date")
        last = day
        if rule == HolidayRule.TRANSFER and feast.moves and day.weekday() >= 5:
            last = day + DAY
            while last.weekday() >= 5 or last in taken:
                last += DAY
            taken.add(last)
            why = "{}; {}".format(why, _("country rule: a weekend holiday moves to the next working day"))
        days.append(PublicDay(feast, day, last, why))
    return days


def match_feast(school: School, name: str, start: dt.date, end: dt.date) -> Feast | None:
    """The country's holiday that last year's special day stands for: by name, or by its date(s)."""
    lowered = " ".join(name.lower().replace("’", "'").replace("ʼ", "'").split())
    feasts = FEASTS.get(school.country, ())
    for feast in feasts:
        if lowered == str(feast.name).lower() or lowered in feast.aliases:
            return feast
    for day in public_days(school, start - 3 * DAY, end, HolidayRule.TRANSFER):
        if day.start <= end and start <= day.end:
            return day.feast
    return None


# --- the first school day and weekday-aligned dates -------------------------------------------------------


def first_school_day(school: School, year: int) -> tuple[dt.date, str]:
    """1 September, or the Monday after it when it falls on a weekend (Ukraine: Law "On complete general
    secondary education" art. 10; Russian-style schools the same). Colleges and other countries: 1 September."""
    day = dt.date(year, 9, 1)
    if school.country in FEASTS and school.kind != SchoolKind.COLLEGE and day.weekday() >= 5:
        return day + dt.timedelta(days=7 - day.weekday()), _(
            "country rule: 1 September falls on a weekend, the next Monday"
        )
    return day, _("country rule: 1 September")


def _last_of_month(day: dt.date) -> bool:
    return (day + DAY).month != day.month


def align(day: dt.date, years: int = 1) -> tuple[dt.date, str]:
    """Last year's ``day`` in the next year, keeping its place in the week pattern.

    The first or last day of a month stays the first or last day of that month (a calendar boundary);
    any other day becomes the same weekday of the same week of the month (the 4th Monday of October stays
    the 4th Monday of October; a 5th weekday becomes the month's last such weekday), so breaks and
    semester boundaries keep their weekdays without drifting from year to year."""
    year = day.year + years
    if day.day == 1:
        return dt.date(year, day.month, 1), "same"
    if _last_of_month(day):
        return dt.date(year, day.month, calendar.monthrange(year, day.month)[1]), "same"
    nth = (day.day - 1) // 7 + 1
    weekday = day.weekday()
    first = dt.date(year, day.month, 1)
    found = first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    if found.month != day.month:  # a 5th weekday that this month does not have: the last one
        found -= dt.timedelta(days=7)
    return found, "weekday"
