"""The usage report's figures (R9.2) against the independent computation and by hand; its query count."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.reports.usage import Figure, mondays, usage_report
from classbook.schools.models import SchoolClass
from tests import factories as f
from tests.reports.usage_data import W1, W2, W3, at, login, usage_world, view  # noqa: F401
from tests.reports.usage_reference import reference

pytestmark = pytest.mark.django_db


def _figures(line) -> tuple:
    return tuple(
        (fig.count, fig.of)
        for fig in (
            line.staff_logged_in,
            line.students_logged_in,
            line.students_viewed,
            line.parents_logged_in,
            line.parents_viewed,
        )
    )


def _report(world, class_ids, *, whole_school, start=W1, end=W3 + dt.timedelta(days=6)):
    classes = SchoolClass.objects.filter(school=world.school, pk__in=class_ids)
    return usage_report(classes, world.school.pk, start, end, whole_school=whole_school)


@pytest.mark.parametrize("whole_school", [True, False])
@pytest.mark.parametrize("which", ["a", "b", "both"])
def test_every_line_agrees_with_the_reference(world, usage_world, which, whole_school):  # noqa: F811
    ids = {"a": [world.class_a.pk], "b": [world.class_b.pk], "both": [world.class_a.pk, world.class_b.pk]}[which]
    report = _report(world, ids, whole_school=whole_school)
    assert report.weeks == [W1, W2, W3]
    for monday in report.weeks:
        expected = reference(world.school, ids, monday, whole_school=whole_school)
        got = {line.class_id: _figures(line) for line in report.lines if line.week == monday}
        assert got == expected, monday


def test_the_figures_a_person_checks_by_hand(world, usage_world):  # noqa: F811
    report = _report(world, [world.class_a.pk, world.class_b.pk], whole_school=True)
    line = {(ln.week, ln.class_id): ln for ln in report.lines}
    a1, a2, b1, b2 = (line[(W1, world.class_a.pk)], line[(W2, world.class_a.pk)],
                      line[(W1, world.class_b.pk)], line[(W2, world.class_b.pk)])  # fmt: skip
    # 5-А staff: class teacher and the mathematics teacher (the retired one has no account); the class teacher
    # logged in twice in W1 — one person.
    assert a1.staff_logged_in == Figure(1, 2)
    # 5-А students with an account: student (idle has none; mover only from W2); the Sunday 23:30 login is W1's.
    assert a1.students_logged_in == Figure(1, 1) and a1.students_viewed == Figure(1, 1)
    assert a2.students_logged_in == Figure(2, 2)  # student on Monday 00:10 and mover on Friday
    assert a2.students_viewed == Figure(1, 2)  # mover looked at his own diary in W2 (student did not)
    # 5-А parents in W1: parent, twin, idle's parent, ended (link ends 9 Nov) — not hidden; twin logged in.
    assert a1.parents_logged_in == Figure(1, 4)
    assert a1.parents_viewed == Figure(0, 4)  # twin looked at the child in 5-Б, not at 5-А's
    # W2: the ended link no longer counts, its parent's login neither; parent logged in and looked.
    assert a2.parents_logged_in == Figure(1, 3) and a2.parents_viewed == Figure(1, 3)
    # 5-Б: other_student, and mover in W1 and W2 (until 10 Nov); twin looked at other_student's diary in W1.
    assert b1.students_logged_in == Figure(0, 2) and b1.parents_viewed == Figure(1, 2)
    assert b2.students_logged_in == Figure(1, 2) and b2.students_viewed == Figure(1, 2)  # mover in both classes
    school1 = line[(W1, None)]
    # The school: admin, director, deputy, secretary, three teachers (retired has no account); the director
    # and the class teacher logged in in W1. Twin is one parent in both classes: 5 parents in W1 in all.
    assert school1.staff_logged_in == Figure(2, 7)
    assert school1.parents_logged_in == Figure(1, 5)
    assert school1.parents_viewed.share == pytest.approx(20)


def test_the_range_is_whole_weeks(world, usage_world):  # noqa: F811
    report = _report(world, [world.class_a.pk], whole_school=False, start=W1 + dt.timedelta(days=3), end=W2)
    assert (report.start, report.end, report.weeks) == (W1, W2 + dt.timedelta(days=6), [W1, W2])
    assert mondays(dt.date(2026, 11, 8), dt.date(2026, 11, 9)) == [W1, W2]


def test_nobody_with_an_account_gives_no_share(world):
    empty = f.SchoolClassFactory(year=world.class_a.year, name="5-В")
    report = _report(world, [empty.pk], whole_school=False)
    assert all(line.students_viewed == Figure(0, 0) and line.students_viewed.share is None for line in report.lines)


@pytest.mark.parametrize("extra", [0, 1])
def test_the_report_reads_seven_queries_whatever_the_data(world, usage_world, extra, django_assert_num_queries):  # noqa: F811
    for n in range(extra * 15):
        student = f.make_student(world.class_b, user=f.UserFactory(username=f"more{n}"))
        parent = f.make_parent(student, username=f"moreparent{n}")
        login(parent, at(W2))
        view(world.school, parent, student, W2, as_parent=True)
    classes = SchoolClass.objects.filter(school=world.school)
    with django_assert_num_queries(7):
        usage_report(classes, world.school.pk, W1, W3, whole_school=True)
    with django_assert_num_queries(6):
        usage_report(classes.filter(pk=world.class_a.pk), world.school.pk, W1, W3, whole_school=False)
