"""Names in the Ukrainian/Russian alphabet's order everywhere (issue 13): the one helper
(``classbook.core.collation``) in Python and in the database (SQLite's ``classbook_names``, PostgreSQL's ICU
``uk-UA-x-icu``), checked
with the tricky letters (Ґ, Є, І, Ї, Й, the apostrophe, Ё, Ъ, Э) across the roster list, the alphabetical
book, the journal grid, a report (the summary sheet), its export, its print and a paginated API list."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from classbook.access.context import build_context
from classbook.access.reports import report_assignments
from classbook.api.routes.roster import STAFF_SORTS
from classbook.core.collation import alphabet_key, by_name, name_order
from classbook.journal import grid
from classbook.people.models import User
from classbook.printing.documents import PrintFooter, summary_sheet_html
from classbook.reports import exports, queries
from classbook.reports.models import ReportSettings
from classbook.roster import queries as roster
from tests import factories as f

# By hand: а б в г ґ д е (ё as е) є ж з и і ї й к л м н о п р с т у ф х ц ч ш щ ъ ы ь э ю я, then Latin;
# apostrophes (' and ʼ) ignored.
EXPECTED = [
    "Біла",  # і comes before о: Біла, then Бойко, Бондаренко
    "Бойко",
    "Бондаренко",
    "Гаврилюк",
    "Ґава",  # ґ after г
    "Ёлкин",  # ё counts as е: "елкин" < "ернст"
    "Ернст",
    "Єрмак",  # є after е
    "Иванов",
    "Іваненко",  # і after и
    "Їжак",
    "Йосипенко",  # й after ї
    "Марченко",
    "Марʼяненко",  # the apostrophe is ignored: "маряненко", я after ч
    "Обухов",
    "Объедков",  # ъ after у
    "Эдуардов",
    "Яковлев",
    "Adams",
]


def test_the_alphabet_key_orders_the_tricky_letters():
    shuffled = EXPECTED[:]
    random.Random(13).shuffle(shuffled)
    assert sorted(shuffled, key=alphabet_key) == EXPECTED
    assert sorted(["Бондаренко", "Бойко", "Біла"], key=alphabet_key) == ["Біла", "Бойко", "Бондаренко"]
    assert alphabet_key("Мар'яна") == alphabet_key("МАРʼЯНА")[:1] + alphabet_key("Мар'яна")[1:]
    assert sorted(["Ільченко", "Ігнатенко", "Ївга"], key=alphabet_key) == ["Ігнатенко", "Ільченко", "Ївга"]


@pytest.fixture
def tricky(world):
    """A class of students with the tricky names (added in reverse so the insert order is no help)."""
    school_class = f.SchoolClassFactory(school=world.school, year=world.class_a.year, name="7-Ґ")
    students = [
        f.make_student(school_class, user__last_name=name, user__first_name="Ян") for name in reversed(EXPECTED)
    ]
    return school_class, students


def test_lists_exports_and_prints_follow_the_alphabet(world, tricky):
    school_class, students = tricky
    ctx = build_context(world.director, world.school)
    assert ctx is not None

    # The roster's class list and the alphabetical book (database order through the collation).
    assert [r.student.user.last_name for r in roster.class_roster(ctx, school_class)] == EXPECTED
    book = [s.user.last_name for s in roster.alphabetical_book(ctx) if s.user.last_name in EXPECTED]
    assert book == EXPECTED

    # Any queryset of people, and a paginated API list sorted by name (both directions).
    ids = [s.user_id for s in students]
    assert [u.last_name for u in User.objects.filter(pk__in=ids).order_by(*name_order())] == EXPECTED
    api = User.objects.filter(pk__in=ids).order_by(*STAFF_SORTS.order_by("-name"))
    assert [u.last_name for u in api] == EXPECTED[::-1]
    assert [u.last_name for u in by_name(User.objects.filter(pk__in=ids).order_by("?"))] == EXPECTED

    # The journal grid.
    assignment = f.make_assignment(world.teacher, school_class)
    year = school_class.year
    period = grid.PeriodChoice(id=None, name="Рік", start=year.start, end=year.end)
    assert [name.split()[0] for _id, _start, _end, name in grid._students(assignment, period)] == EXPECTED

    # A report (the summary sheet), its export and its print.
    sheet = queries.summary_sheet(
        report_assignments(ctx),
        school_class,
        queries.Scope(year=year, period=None),
        ReportSettings(school=world.school),
        world.school,
    )
    assert [s.name.split()[0] for s in sheet.students] == EXPECTED
    _head, rows, _foot = exports.summary_table(sheet)
    assert [row[0].split()[0] for row in rows] == EXPECTED
    html = summary_sheet_html(
        school_class, [sheet], PrintFooter("ABCD-EFGH", dt.datetime(2026, 10, 1, 12, 0, tzinfo=dt.UTC))
    )
    positions = [html.index(f"{name} Ян") for name in EXPECTED]
    assert positions == sorted(positions)
