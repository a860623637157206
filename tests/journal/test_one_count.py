"""One definition of a student's mark count and average in a period (R2.6, issue 10: ``journal.stats``).

Hand-made marks with the edge cases (several marks at one lesson, weighted work types, a corrected mark,
a cleared one, a mark without a number, a mark of the next period, a student who left mid-period, a
subgroup's journal) and every door that shows a count or an average — the grid page, the grid's cell
answer, the JSON API, the period-grade notes and warning, the deputy's control list, the diary page
and its API — compared with a computation from the raw rows written here, not through ``journal.stats``.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from classbook.diary.models import DiaryPolicy
from classbook.journal import rules
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import GradeKind, JournalPolicy, Lesson, Mark, WorkType
from classbook.journal.queries import student_period_stats
from classbook.journal.stats import journal_tallies, tally_marks
from classbook.people.models import Enrolment
from classbook.schools.averages import average_formatter, format_average
from classbook.schools.models import ScaleLevel, ScaleValue, School, StudyPeriod, TeachingAssignment
from tests import factories as f

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def independent(assignment: TeachingAssignment, student_id: int, period: StudyPeriod, *, weighted: bool, decimals: int):
    """(count, average) from the raw mark rows, in Decimal: every mark with a value counts; the average over
    the marks with a number, weighted by work type when asked, rounded half-up to ``decimals``."""
    rows = Mark.objects.filter(
        lesson__assignment=assignment,
        student_id=student_id,
        lesson__date__gte=period.start,
        lesson__date__lte=period.end,
    ).values_list("value__code", "value__numeric", "work_type__weight")
    counted = [r for r in rows if r[0] is not None]
    numbers = [(n, w if weighted else Decimal(1)) for _code, n, w in counted if n is not None]
    if not numbers:
        return len(counted), None
    total = sum((n * w for n, w in numbers), Decimal(0))
    weight = sum((w for _n, w in numbers), Decimal(0))
    return len(counted), (total / weight).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


@pytest.fixture
def marks(world):
    """world.student and a student who left on 15 October in class_a's maths (2 h a week: 5 marks required)
    and in group 1's English (1 h: 3), with one student without marks."""
    school = world.school
    create_journal_defaults(school)
    School.objects.filter(pk=school.pk).update(average_decimals=2)
    school.refresh_from_db()
    year = world.class_a.year
    semester = f.PeriodFactory(year=year)
    f.PeriodFactory(year=year, name="II семестр", ordinal=2, start=dt.date(2027, 1, 12), end=dt.date(2027, 5, 30))
    math = TeachingAssignment.objects.get(teacher=world.teacher)
    left = f.make_student(world.class_a)
    Enrolment.objects.filter(student=left).update(end=dt.date(2026, 10, 15))
    quiet = f.make_student(world.class_a)
    group = f.SubgroupFactory(school_class=world.class_a, name="Група 1")
    group.students.add(world.student, left)
    english = f.make_assignment(
        world.other_teacher,
        world.class_a,
        f.SubjectFactory(school=school, name="Англійська мова"),
        subgroup=group,
        hours_per_week=Decimal("1"),
    )
    scale = math.effective_scale()
    values = {v.code: v for v in scale.values.all()}
    # A value without a number (counted, not averaged).
    values["зар"] = ScaleValue.objects.create(
        school=school, scale=scale, code="зар", numeric=None, level=ScaleLevel.PASS, ordinal=99
    )
    wt = {w.code: w for w in WorkType.objects.filter(school=school)}

    def lesson(assignment: TeachingAssignment, day: dt.date) -> Lesson:
        return Lesson.objects.create(school=school, assignment=assignment, date=day, number=1, created_by=world.teacher)

    def put(lesson: Lesson, student, code: str | None, work_type: str = "current", slot: int = 0) -> Mark:
        return Mark.objects.create(
            school=school,
            lesson=lesson,
            student=student,
            work_type=wt[work_type],
            slot=slot,
            value=values[code] if code else None,
            created_by=world.teacher,
            updated_by=world.teacher,
        )

    m1, m2, m3, m4 = (lesson(math, dt.date(2026, 10, d)) for d in (1, 5, 20, 27))
    next_period = lesson(math, dt.date(2027, 1, 20))
    e1, e2 = lesson(english, dt.date(2026, 10, 2)), lesson(english, dt.date(2026, 10, 6))
    student = world.student
    # Several marks at one lesson: the default work type twice (slots 0 and 1) and a control work (weight 2).
    put(m1, student, "10")
    put(m1, student, "9", slot=1)
    put(m1, student, "7", "control")
    # A corrected mark: stored once, with its new value.
    corrected = put(m2, student, "4", "notebook")  # weight 0.5
    Mark.objects.filter(pk=corrected.pk).update(value=values["8"], version=2)
    # A cleared (cancelled) mark keeps its row without a value: not counted.
    put(m3, student, None)
    put(m4, student, "зар", "oral")
    put(next_period, student, "12")  # the next period's
    # The student who left: the marks of the days enrolled.
    put(m1, left, "11")
    put(m2, left, "6", "laboratory")  # weight 1.5
    # The subgroup's journal.
    put(e1, student, "12")
    put(e2, student, "9", "control")
    put(e1, left, "3")
    DiaryPolicy.objects.create(school=school, show_average=True)
    return {
        "math": math,
        "english": english,
        "semester": semester,
        "students": [student.pk, left.pk, quiet.pk],
        "left": left,
        "lesson": m2,
    }


def expected_of(marks, world, assignment, *, weighted: bool = True):
    return {
        sid: independent(assignment, sid, marks["semester"], weighted=weighted, decimals=2)
        for sid in marks["students"]
        if assignment is marks["math"] or sid != marks["students"][2]
    }


@time_machine.travel(NOW)
@pytest.mark.parametrize("weighted", [True, False])
def test_every_door_shows_the_one_count_and_average(world, marks, as_user, weighted):
    # The one weighting rule of the school (issue 10): the journal rules' switch, read by every door.
    JournalPolicy.objects.update_or_create(school=world.school, defaults={"weighted_averages": weighted})
    semester, slug = marks["semester"], world.school.slug
    student = world.student.pk
    # The definition itself, by hand for world.student's maths: 10, 9, 7 (control, ×2), 8 (notebook, ×0.5)
    # and "зар" count (5; the cleared mark and the next period's do not); the average is over the numbers.
    math_expected = expected_of(marks, world, marks["math"], weighted=weighted)
    by_hand = (Decimal(10 + 9 + 14 + 4) / Decimal("4.5")) if weighted else Decimal(10 + 9 + 7 + 8) / 4
    assert math_expected[student] == (5, by_hand.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    assert math_expected[marks["left"].pk][0] == 2 and math_expected[marks["students"][2]] == (0, None)

    teacher = as_user(world.teacher)
    for assignment, user in ((marks["math"], teacher), (marks["english"], as_user(world.other_teacher))):
        expected = expected_of(marks, world, assignment, weighted=weighted)
        required = rules.required_marks(assignment.hours_per_week, rules.policy_or_default(world.school.pk))
        found: dict[str, dict[int, tuple[int, Decimal | None]]] = {}
        # The grid page: the row's figures, the notes' accumulation, and what the HTML shows.
        page = user.get(reverse("journal:grid", args=[slug, assignment.pk]), {"period": semester.pk})
        assert page.status_code == 200
        grid = page.context["grid"]
        html = page.content.decode()
        found["grid page"] = {r.id: (r.count, r.mean) for r in grid.rows}
        found["grid notes"] = {sid: (n.accumulation.count, found["grid page"][sid][1]) for sid, n in grid.notes.items()}
        for row in grid.rows:
            assert f'acc{" low" if row.count < required else ""}">{row.count}/{required}</td>' in html
            assert f'<td class="c ro avg">{row.average}</td>' in html
        # The JSON API.
        api = user.get(f"/api/v1/schools/{slug}/journal/assignments/{assignment.pk}/grid?period={semester.pk}")
        found["API"] = {
            a["student"]: (a["count"], None if a["average"] is None else Decimal(str(a["average"])))
            for a in api.json()["accumulation"]
        }
        # The accumulation rule (services, the deputy's page) and the grid's cell answer.
        counts = rules.accumulation(assignment, semester)
        found["accumulation"] = {sid: (acc.count, expected[sid][1]) for sid, acc in counts.items()}
        found["cell answer"] = {}
        for sid in expected:
            stats = student_period_stats(assignment, sid, dt.date(2026, 10, 5), world.school)
            average = Decimal(stats["average"].replace(",", ".")) if stats["average"] else None
            found["cell answer"][sid] = (stats["count"], average)
            assert stats["required"] == required
        for door, figures in found.items():
            assert figures == expected, door
        # The warning on a period grade and the deputy's list name the same count.
        policy = rules.policy_or_default(world.school.pk)
        feedback = rules.grade_feedback(
            assignment, student, semester, GradeKind.PERIOD, rules.GradeValue("9", Decimal(9)), policy
        )
        assert feedback.accumulation is not None and feedback.accumulation.count == expected[student][0]
        below = {
            b.student_id: b.count for b in rules.journals_below_rule([assignment], semester).get(assignment.pk, [])
        }
        assert below == {sid: c for sid, (c, _avg) in expected.items() if c < required and sid != marks["left"].pk}

    # The diary page and its API, as the parent: one row per subject, the journal's figures.
    parent = as_user(world.parent)
    report = parent.get(reverse("diary:marks", args=[slug, student]), {"period": semester.pk}).context["report"]
    diary = {r.subject: r.average for r in report.subjects}
    api_diary = parent.get(f"/api/v1/schools/{slug}/diary/{student}/marks?period={semester.pk}").json()
    for subject, assignment in (("Математика", marks["math"]), ("Англійська мова", marks["english"])):
        average = expected_of(marks, world, assignment, weighted=weighted)[student][1]
        assert diary[subject] == average
        assert Decimal(str(next(s["average"] for s in api_diary["subjects"] if s["subject"] == subject))) == average


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_the_grids_formatter_writes_what_format_average_writes(language, decimals):
    values = [None, Decimal("9.76"), Decimal("8.625"), 2.45, 7 * 0.3 + 2.4, Decimal(12), Decimal("0"), 100.0]
    with translation.override(language):
        fmt = average_formatter(decimals)
        assert [fmt(v) for v in values] == [format_average(v, decimals) for v in values]


def _notice_average(world, student_id: int) -> Decimal | None:
    from classbook.notifications.models import NoticePolicy
    from classbook.notifications.services import notice_candidates

    # Every student a candidate (an average below 13 on a 12-point scale), over a window from before the semester.
    NoticePolicy.objects.update_or_create(school=world.school, defaults={"average_below": 13, "window_days": 120})
    return next(c.average for c in notice_candidates(world.class_a) if c.student_id == student_id)


@time_machine.travel(NOW)
@pytest.mark.parametrize("weighted", [True, False])
def test_the_class_notice_shows_the_grids_and_the_diarys_average(world, marks, as_user, weighted):
    """One weighting switch (issue 10): the journal rules' ``weighted_averages`` rules the grid, its API, the
    diary and its API, and the class teacher's notice (which had its own unweighted mean)."""
    JournalPolicy.objects.update_or_create(school=world.school, defaults={"weighted_averages": weighted})
    slug, semester, student = world.school.slug, marks["semester"], world.student.pk
    # Across the class's journals: the notice's figure against the raw rows of both journals (lessons up to today;
    # the next period's mark is at a future lesson).
    rows = Mark.objects.filter(
        lesson__assignment__school_class=world.class_a,
        student_id=student,
        value__isnull=False,
        value__numeric__isnull=False,
        lesson__date__lte=NOW.date(),
    ).values_list("value__numeric", "work_type__weight")
    numbers = [(n, w if weighted else Decimal(1)) for n, w in rows]
    by_hand = sum((n * w for n, w in numbers), Decimal(0)) / sum((w for _n, w in numbers), Decimal(0))
    assert _notice_average(world, student) == by_hand.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    # One journal only (the English marks gone): the notice, the grid page, the journal API, the diary page and
    # the diary API show one figure.
    Mark.objects.filter(lesson__assignment=marks["english"]).delete()
    expected = expected_of(marks, world, marks["math"], weighted=weighted)[student][1]
    assert expected is not None
    teacher, parent = as_user(world.teacher), as_user(world.parent)
    page = teacher.get(reverse("journal:grid", args=[slug, marks["math"].pk]), {"period": semester.pk})
    api = teacher.get(f"/api/v1/schools/{slug}/journal/assignments/{marks['math'].pk}/grid?period={semester.pk}")
    diary = parent.get(reverse("diary:marks", args=[slug, student]), {"period": semester.pk}).context["report"]
    api_diary = parent.get(f"/api/v1/schools/{slug}/diary/{student}/marks?period={semester.pk}").json()
    found = {
        "grid page": next(r.mean for r in page.context["grid"].rows if r.id == student),
        "journal API": Decimal(str(next(a["average"] for a in api.json()["accumulation"] if a["student"] == student))),
        "diary page": next(r.average for r in diary.subjects if r.subject == "Математика"),
        "diary API": Decimal(str(next(s["average"] for s in api_diary["subjects"] if s["subject"] == "Математика"))),
        "class notice": _notice_average(world, student),
    }
    assert found == dict.fromkeys(found, expected)
    assert api_diary["weighted_average"] is weighted and diary.weighted is weighted


@time_machine.travel(NOW)
@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_the_databases_sums_are_tally_marks_on_the_same_marks(world, marks, weighted, decimals):
    """``journal_tallies`` sums in the database (one row per journal and student); ``tally_marks`` walks the
    mark rows: the same counts and the same averages by the school's rounding, weighted or not."""
    journals = [marks["math"].pk, marks["english"].pk]
    semester = marks["semester"]
    summed = journal_tallies(journals, semester.start, semester.end, weighted=weighted)
    rows = Mark.objects.filter(
        lesson__assignment_id__in=journals, lesson__date__gte=semester.start, lesson__date__lte=semester.end
    ).values_list("lesson__assignment_id", "student_id", "value_id", "value__numeric", "work_type__weight")
    walked = tally_marks((((a, s), v, n, w) for a, s, v, n, w in rows), weighted=weighted)
    assert set(summed) == set(walked) and len(summed) == 4  # the quiet student has no row: no marks
    for (assignment, student), tally in walked.items():
        got = summed[(assignment, student)]
        journal = marks["math"] if assignment == marks["math"].pk else marks["english"]
        count, average = independent(journal, student, semester, weighted=weighted, decimals=decimals)
        assert (got.count, got.mean(decimals)) == (tally.count, tally.mean(decimals)) == (count, average)
        assert (got.total, got.weight) == (pytest.approx(tally.total), pytest.approx(tally.weight))
    left = marks["left"].pk
    for narrowed in ([left], [left, marks["students"][2]]):
        one = journal_tallies(journals, semester.start, semester.end, weighted=weighted, student_ids=narrowed)
        assert {k: (t.count, t.mean(decimals)) for k, t in one.items()} == {
            k: (t.count, t.mean(decimals)) for k, t in walked.items() if k[1] == left
        }
