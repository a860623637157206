"""One rounding rule for averages (R2.6): ``classbook.schools.averages`` rounds half-up to the school's
decimals, and every door shows the same figure for one student's marks: the grid page, the grid's cell
answer, the journal API, the diary page and API, the information letter page and PDF."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from classbook.diary.models import DiaryPolicy
from classbook.journal import services as journal
from classbook.journal.models import JournalPolicy, WorkType
from classbook.schools.averages import format_average, mean, round_average
from classbook.schools.models import School
from tests.diary.test_letter import pdf_pages


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (Decimal("9.76"), 1, Decimal("9.8")),  # the grid used to cut it to 9.7
        (Decimal("8.625"), 2, Decimal("8.63")),  # the diary used to round half-to-even to 8.62
        (Decimal("2.45"), 1, Decimal("2.5")),
        (2.45, 1, Decimal("2.5")),  # a float just below 2.45 in binary is still 2.45
        (Decimal("8.25"), 1, Decimal("8.3")),
        (Decimal("8.25"), 0, Decimal("8")),
        (Decimal("8.5"), 0, Decimal("9")),
        (Decimal("12"), 2, Decimal("12.00")),
        (Decimal("1"), 1, Decimal("1.0")),
    ],
)
def test_round_average_is_half_up_to_the_schools_decimals(value, decimals, expected):
    rounded = round_average(value, decimals)
    assert rounded == expected and rounded.as_tuple().exponent == -decimals


def test_no_marks_no_average():
    assert round_average(None, 1) is None
    assert mean(Decimal(0), Decimal(0), 2) is None
    assert mean(0.0, 0.0, 1) is None
    assert format_average(None, 1) == ""


def test_mean_divides_exactly_before_the_one_rounding():
    assert mean(Decimal(69), Decimal(8), 2) == Decimal("8.63")
    assert mean(33.0, 4.0, 1) == Decimal("8.3")
    assert mean(7 * 0.3 + 2.4, 1.0, 1) == Decimal("4.5")  # 4.499999999999999 in floats
    assert mean(Decimal(10), Decimal(3), 2) == Decimal("3.33")


def test_the_figure_follows_the_languages_decimal_separator():
    with translation.override("uk"):
        assert format_average(Decimal("9.76"), 1) == "9,8"
    with translation.override("en"):
        assert format_average(Decimal("9.76"), 1) == "9.8"
        assert format_average(Decimal("8.625"), 2) == "8.63"


def test_the_school_setting_is_bounded_in_the_database(world):
    from django.db import IntegrityError, transaction

    assert world.school.average_decimals == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        School.objects.filter(pk=world.school.pk).update(average_decimals=3)


# Work types of the defaults; weights are turned off so the arithmetic is plain (the weighting is the
# school's other rule, tested with the grid and the diary).
WORK_TYPES = ["independent", "control", "laboratory", "practical", "test", "notebook", "oral"]


@pytest.mark.parametrize(
    ("decimals", "marks", "shown"),
    [
        # 10 (the fixture's mark) + 8 + 8 + 7 = 33 / 4 = 8.25: half-up 8.3 (cut or half-even: 8.2).
        (1, ["8", "8", "7"], "8.3"),
        # 10 + 9 + 9 + 9 + 8 + 8 + 8 + 8 = 69 / 8 = 8.625: half-up 8.63 (half-even: 8.62).
        (2, ["9", "9", "9", "8", "8", "8", "8"], "8.63"),
    ],
)
def test_every_door_shows_the_same_average(world, diary, as_user, decimals, marks, shown):
    School.objects.filter(pk=world.school.pk).update(average_decimals=decimals)
    JournalPolicy.objects.filter(school=world.school).update(weighted_averages=False)
    DiaryPolicy.objects.create(school=world.school, show_average=True)
    types = {w.code: w for w in WorkType.objects.filter(school=world.school)}
    for code, text in zip(WORK_TYPES, marks[:-1], strict=False):
        journal.record_mark(
            acting_user=world.teacher,
            lesson=diary.mon_math,
            student=world.student,
            text=text,
            expected_version=0,
            work_type=types[code],
        )
    teacher = as_user(world.teacher)
    slug, student, period = world.school.slug, world.student, diary.period

    def plain(text: str) -> str:
        return text.replace(",", ".")

    # The grid's cell answer after the last mark is typed through the page.
    saved = teacher.post(
        reverse("journal:save_cell", args=[slug, diary.math.pk]),
        {
            "kind": "work",
            "lesson": diary.mon_math.pk,
            "work_type": types[WORK_TYPES[len(marks) - 1]].pk,
            "student": student.pk,
            "value": marks[-1],
            "version": "0",
        },
    )
    assert saved.status_code == 200, saved.content
    figures = {"grid cell answer": plain(saved.json()["row"]["average"])}
    # The grid page.
    page = teacher.get(reverse("journal:grid", args=[slug, diary.math.pk]), {"period": period.pk})
    row = next(r for r in page.context["grid"].rows if r.id == student.pk)
    figures["grid page"] = plain(row.average)
    assert f'<td class="c ro avg">{row.average}</td>' in page.content.decode()
    # The journal API.
    api_grid = teacher.get(f"/api/v1/schools/{slug}/journal/assignments/{diary.math.pk}/grid?period={period.pk}")
    figures["journal API"] = next(a["average"] for a in api_grid.json()["accumulation"] if a["student"] == student.pk)
    # The diary page and its API, as the parent.
    parent = as_user(world.parent)
    report = parent.get(reverse("diary:marks", args=[slug, student.pk]), {"period": period.pk}).context["report"]
    figures["diary page"] = str(next(r.average for r in report.subjects if r.subject == "Математика"))
    api_diary = parent.get(f"/api/v1/schools/{slug}/diary/{student.pk}/marks?period={period.pk}").json()
    figures["diary API"] = next(s["average"] for s in api_diary["subjects"] if s["subject"] == "Математика")
    # The information letter, page and PDF.
    letter = parent.get(reverse("diary:letter", args=[slug, student.pk]), {"period": period.pk})
    subjects = letter.context["reports"][0].subjects
    figures["letter page"] = str(next(s.average for s in subjects if s.subject == "Математика"))
    (text,) = pdf_pages(parent.get(reverse("diary:letter_pdf", args=[slug, student.pk]), {"period": period.pk}))
    math_line = next(line for line in text.splitlines() if "Математика" in line)
    figures["letter PDF"] = shown if (shown in plain(math_line)) else math_line

    assert figures == dict.fromkeys(figures, shown)
