"""Every figure of the attendance reports against an independent computation from the raw rows
(tests/reports/attendance_reference.py) on the hand-built two weeks (tests/reports/attendance_data.py),
and the few figures a person can check by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.access.context import build_context
from classbook.access.reports import attendance_classes, report_assignments
from classbook.reports import attendance as q
from tests.reports import attendance_reference as ref
from tests.reports.attendance_data import DAYS, FRI2, MON, MON2, THU, TUE, WED, attendance_world  # noqa: F401

pytestmark = pytest.mark.django_db

START, END = MON, FRI2


def _scope(world, user):
    ctx = build_context(user, world.school)
    return report_assignments(ctx), attendance_classes(ctx)


def _as_figures(line: q.AttendanceLine) -> tuple:
    return (line.missed, line.excused, line.illness, line.late, line.days, line.days_excused)


def _ref(f: ref.Figures, days: bool = True) -> tuple:
    return (f.missed, f.excused, f.illness, f.late, f.days if days else None, f.days_excused if days else None)


@pytest.mark.parametrize(("start", "end"), [(START, END), (MON, WED), (TUE, TUE), (THU, MON2), (FRI2, FRI2)])
def test_lines_by_class_student_and_subject_agree_with_the_raw_rows(world, att, start, end):
    raw = ref.load(world.school)
    assignments, day_classes = _scope(world, world.deputy)
    by_class = q.attendance_report(assignments, day_classes, q.Range(start, end), "class")
    expected = ref.figures(raw, lambda r: r.lesson.assignment.school_class_id, start, end)
    assert {line.key: _as_figures(line) for line in by_class.lines} == {k: _ref(v) for k, v in expected.items()}

    by_student = q.attendance_report(assignments, day_classes, q.Range(start, end), "student")
    expected = ref.figures(raw, lambda r: r.student_id, start, end)
    assert {line.key: _as_figures(line) for line in by_student.lines} == {k: _ref(v) for k, v in expected.items()}

    by_subject = q.attendance_report(assignments, day_classes, q.Range(start, end), "subject")
    expected = ref.figures(raw, lambda r: r.lesson.assignment.subject_id, start, end, with_days=False)
    assert {line.key: _as_figures(line) for line in by_subject.lines} == {
        k: _ref(v, days=False) for k, v in expected.items()
    }
    total = ref.figures(raw, lambda r: 0, start, end).get(0, ref.Figures())
    for report in (by_class, by_student):
        assert _as_figures(report.total) == _ref(total)
    assert _as_figures(by_subject.total)[:4] == _ref(total)[:4]


def test_the_figures_a_person_checks_by_hand(world, att):
    s = att.students
    assignments, day_classes = _scope(world, world.deputy)
    lines = {
        line.key: line for line in q.attendance_report(assignments, day_classes, q.Range(MON, FRI2), "student").lines
    }
    me = lines[s["student"].pk]
    # 3 + 2 + 3 + 2 missed; Tuesday's two (the class teacher) and Wednesday's three (the parent's report) excused,
    # all five for illness; whole days Monday, Tuesday (history cancelled), Wednesday (a substitute's lesson)
    got = (me.missed, me.excused, me.unexcused, me.illness, me.late, me.days, me.days_excused)
    assert got == (10, 5, 5, 5, 1, 3, 2)
    bondar = lines[s["bondar"].pk]
    # the code "хв" excuses Monday's lesson; the rejected report leaves Tuesday's two unexcused
    assert (bondar.missed, bondar.excused, bondar.illness, bondar.late, bondar.days) == (3, 1, 0, 3, 1)
    gnatiuk = lines[s["gnatiuk"].pk]
    assert (gnatiuk.missed, gnatiuk.days) == (4, 1)  # group 1's English is not theirs: Monday is whole
    leaver = lines[s["leaver"].pk]
    assert (leaver.missed, leaver.days) == (8, 3)
    mover = lines[s["mover"].pk]
    assert (mover.missed, mover.excused, mover.days) == (4, 0, 2)  # a whole day in each class
    assert lines[s["other"].pk].late == 1


def test_weeks_of_the_chart_agree_with_the_raw_rows(world, att):
    raw = ref.load(world.school)
    assignments, day_classes = _scope(world, world.deputy)
    report = q.attendance_report(assignments, day_classes, q.Range(MON, FRI2), "class")
    expected: dict[dt.date, list[int]] = {}
    for r in raw.rows:
        if ref.is_missed(r):
            week = r.lesson.date - dt.timedelta(days=r.lesson.date.weekday())
            e = expected.setdefault(week, [0, 0, 0])
            if ref.is_excused(r):
                e[0 if r.reason_kind == "illness" else 1] += 1
            else:
                e[2] += 1
    assert {w.start: [w.excused_illness, w.excused_other, w.unexcused] for w in report.weeks} == expected
    assert [w.start for w in report.weeks] == [MON, MON2] or [w.start for w in report.weeks] == [MON]


def test_the_summary_sheet_lists_everyone_of_the_class_and_agrees_with_the_raw_rows(world, att):
    raw = ref.load(world.school)
    assignments, _ = _scope(world, world.class_teacher)
    sheet = q.attendance_sheet(assignments, att.class_a, att.semester.start, att.semester.end)
    expected = ref.figures(raw, lambda r: r.student_id, att.semester.start, att.semester.end, class_id=att.class_a.pk)
    s = att.students
    assert [line.key for line in sheet.lines] == [s[k].pk for k in ("bondar", "gnatiuk", "mover", "leaver")] + [
        s["student"].pk
    ] or {line.key for line in sheet.lines} == {s[k].pk for k in ("student", "bondar", "gnatiuk", "leaver", "mover")}
    assert {line.key for line in sheet.lines} == {s[k].pk for k in ("student", "bondar", "gnatiuk", "leaver", "mover")}
    for line in sheet.lines:
        assert _as_figures(line) == _ref(expected.get(line.key, ref.Figures())), line.label
    assert {line.key: line.left_on for line in sheet.lines if line.left_on} == {s["leaver"].pk: WED}
    # the mover's Monday in 5-Б is not 5-А's: one whole day here
    assert next(line for line in sheet.lines if line.key == s["mover"].pk).days == 1


@pytest.mark.parametrize("at_least", [1, 2, 3, 4])
def test_consecutive_absences_agree_with_the_raw_rows(world, att, at_least):
    raw = ref.load(world.school)
    _, day_classes = _scope(world, world.director)
    found = q.consecutive_absences(day_classes, q.Range(MON, FRI2), at_least)
    assert {(s.student_id, s.first, s.last, s.days) for s in found} == ref.streaks(raw, MON, FRI2, at_least)
    if at_least == 3:
        # Monday - Wednesday: world.student (Tuesday has two lessons after the cancellation) and the leaver
        s = att.students
        assert {(x.student_id, x.days) for x in found} == {(s["student"].pk, 3), (s["leaver"].pk, 3)}


@pytest.mark.parametrize("day", [*DAYS])
def test_registers_not_taken_agree_with_the_raw_rows(world, att, day):
    raw = ref.load(world.school)
    assignments, _ = _scope(world, world.deputy)
    found = q.registers_not_taken(assignments, day)
    assert {c.class_id: sorted(m.lesson_id for m in c.missing) for c in found} == {
        k: sorted(v) for k, v in ref.registers(raw, day).items()
    }
    if day == FRI2:
        a, b = found  # 5-А, 5-Б
        assert (a.class_id, a.held, {m.subject for m in a.missing}) == (
            att.class_a.pk,
            4,
            {"Історія України", "Англійська мова"},
        )
        assert (b.class_id, b.held, len(b.missing)) == (att.class_b.pk, 1, 1)
    if day == TUE:
        assert found == []  # the cancelled history lesson is not a register to take


def test_a_subject_teacher_counts_only_own_lessons_and_no_whole_days(world, att):
    raw = ref.load(world.school)
    assignments, day_classes = _scope(world, world.teacher)
    report = q.attendance_report(assignments, day_classes, q.Range(MON, FRI2), "student")
    expected = ref.figures(raw, lambda r: r.student_id, MON, FRI2, subject_id=world.subject.pk, with_days=False)
    assert {line.key: _as_figures(line) for line in report.lines} == {
        k: _ref(v, days=False) for k, v in expected.items()
    }
    assert q.consecutive_absences(day_classes, q.Range(MON, FRI2), 1) == []
