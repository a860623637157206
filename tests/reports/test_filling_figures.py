"""Every figure of the journal filling reports against an independent computation from the raw rows, and
against numbers worked out by hand (``filling_data``), for a study period, a month and narrowed reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from classbook.access.context import build_context
from classbook.access.reports import activity_logins, activity_members, report_assignments
from classbook.core.errors import DomainError
from classbook.journal.models import JournalPolicy, Lesson, Mark, Remark
from classbook.reports import filling, services
from classbook.reports.filling import FillingScope, filling_report, user_activity
from classbook.timetable.models import ChangeKind as TimetableKind
from classbook.timetable.models import LessonChange
from tests.reports.filling_data import NOW, d, filling_world  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _ctx(user, school):
    ctx = build_context(user, school)
    assert ctx is not None
    return ctx


def reference(assignment, start: dt.date, end: dt.date, *, period=None) -> dict[str, int | None]:
    """The figures of one journal from its raw rows, with plain Python (no aggregation, no shared code)."""
    today = timezone.localdate()
    deadline = assignment.school.entry_deadline
    cancelled = set(
        LessonChange.objects.filter(kind=TimetableKind.CANCELLED, lesson__assignment=assignment).values_list(
            "lesson_id", flat=True
        )
    )
    given = [
        lesson
        for lesson in Lesson.objects.filter(assignment=assignment)
        if start <= lesson.date <= min(end, today) and lesson.pk not in cancelled
    ]
    marks = [
        m
        for m in Mark.objects.select_related("lesson")
        if m.lesson.assignment_id == assignment.pk and start <= m.lesson.date <= min(end, today) and m.value_id
    ]

    def late(m: Mark) -> bool:
        entered = timezone.localtime(m.created_at)
        return entered.date() > m.lesson.date or (entered.date() == m.lesson.date and entered.time() > deadline)

    remarks = [
        r for r in Remark.objects.filter(assignment=assignment) if start <= timezone.localdate(r.created_at) <= end
    ]
    out: dict[str, int | None] = {
        "lessons": len(given),
        "substitute": sum(1 for x in given if x.conducted_by_id and x.conducted_by_id != assignment.teacher_id),
        "no_topic": sum(1 for x in given if not x.topic),
        "no_homework": sum(1 for x in given if not x.homework),
        "no_register": sum(1 for x in given if x.register_taken_at is None),
        "marks": len(marks),
        "late_marks": sum(1 for m in marks if late(m)),
        "remarks_open": sum(1 for r in remarks if r.fixed_at is None),
        "remarks_fixed": sum(1 for r in remarks if r.fixed_at is not None),
        "students": None,
        "below_rule": None,
        "min_marks": None,
    }
    if period is not None:
        students = set(
            assignment.school_class.enrolments.filter(start__lte=period.end)
            .exclude(end__lt=period.end)
            .values_list("student_id", flat=True)
        )
        counts = dict.fromkeys(students, 0)
        for m in Mark.objects.select_related("lesson").filter(value__isnull=False):
            mine = m.lesson.assignment_id == assignment.pk and period.start <= m.lesson.date <= period.end
            if mine and m.student_id in counts:
                counts[m.student_id] += 1
        required = 3 if assignment.hours_per_week < 2 else 5
        out["students"] = len(counts)
        out["below_rule"] = sum(1 for c in counts.values() if c < required)
        out["min_marks"] = min(counts.values()) if counts else None
    return out


FIGURES = (
    "lessons",
    "substitute",
    "no_topic",
    "no_homework",
    "no_register",
    "marks",
    "late_marks",
    "remarks_open",
    "remarks_fixed",
    "students",
    "below_rule",
    "min_marks",
)


def _figures(line) -> dict[str, int | None]:
    return {k: getattr(line.figures, k) for k in FIGURES}


def test_semester_by_journal_matches_raw_rows_and_hand_figures(world, fw):
    ctx = _ctx(world.deputy, world.school)
    scope = FillingScope(fw.semester.start, fw.semester.end, fw.semester)
    report = filling_report(report_assignments(ctx), world.school, scope, "journal")
    by_key = {line.key: line for line in report.lines}
    assert set(by_key) == {fw.math.pk, fw.hist.pk, fw.hist_b.pk}
    for a in (fw.math, fw.hist, fw.hist_b):
        assert _figures(by_key[a.pk]) == reference(a, scope.start, scope.end, period=fw.semester), a
    # by hand (filling_data's docstring): mathematics
    assert _figures(by_key[fw.math.pk]) == {
        "lessons": 5,  # m1, m2, m3 (substitute), m5, m6; m4 cancelled, m7 in the future
        "substitute": 1,
        "no_topic": 1,  # m3
        "no_homework": 2,  # m2, m3
        "no_register": 2,  # m3, m5 (m2 partially taken counts as taken)
        "marks": 7,  # 10, 8, 9 (two at one lesson), 7, 6 (substitute), 5, 11; the cleared 4 is not a mark
        "late_marks": 2,  # 7 on the next day, 5 at 17:30
        "students": 3,
        "below_rule": 1,  # gnatiuk has 1 mark of 3
        "min_marks": 1,
        "remarks_open": 1,
        "remarks_fixed": 1,
    }
    total = report.total.figures
    assert (total.lessons, total.marks, total.late_marks, total.below_rule) == (7, 9, 3, 1 + 3 + 1)
    assert report.checked


def test_month_has_no_accumulation_and_cuts_remarks(world, fw):
    ctx = _ctx(world.deputy, world.school)
    start, end = filling.parse_month("2026-10") or (None, None)
    assert (start, end) == (d(10, 1), d(10, 31))
    report = filling_report(report_assignments(ctx), world.school, FillingScope(start, end), "journal")
    by_key = {line.key: line for line in report.lines}
    for a in (fw.math, fw.hist, fw.hist_b):
        assert _figures(by_key[a.pk]) == reference(a, start, end), a
    math = by_key[fw.math.pk].figures
    assert (math.lessons, math.marks, math.remarks_open, math.remarks_fixed, math.students) == (4, 6, 1, 0, None)
    assert not report.checked


def test_lines_by_teacher_and_class_sum_the_journals(world, fw):
    ctx = _ctx(world.director, world.school)
    scope = FillingScope(fw.semester.start, fw.semester.end, fw.semester)
    by_teacher = {
        line.key: line.figures for line in filling_report(report_assignments(ctx), world.school, scope, "teacher").lines
    }
    assert by_teacher[fw.hist_teacher.pk].lessons == 1  # the substitute's lesson stays in the mathematics journal
    assert by_teacher[world.teacher.pk].lessons == 5
    by_class = {
        line.key: line.figures for line in filling_report(report_assignments(ctx), world.school, scope, "class").lines
    }
    assert by_class[fw.class_a.pk].lessons == 6 and by_class[fw.class_a.pk].marks == 8
    assert by_class[fw.class_a.pk].students == 6  # 3 students in each of two journals
    assert by_class[fw.class_b.pk].lessons == 1


def test_quality_indicator_by_hand_and_by_weights(world, fw):
    ctx = _ctx(world.deputy, world.school)
    scope = FillingScope(fw.semester.start, fw.semester.end, fw.semester)
    report = filling_report(report_assignments(ctx), world.school, scope, "journal")
    teacher = next(t for t in report.teachers if t.key == world.teacher.pk)
    shares = {c.key: c.share for c in teacher.components}
    # own lessons m1, m2, m5, m6: all with a topic; m2 without homework; m5 register not taken
    assert shares == {
        "topic": Decimal("100.0"),
        "homework": Decimal("75.0"),
        "register": Decimal("75.0"),
        "timely": Decimal("71.4"),  # 5 of 7
        "accumulation": Decimal("66.7"),  # 2 of 3
        "remarks": Decimal("50.0"),  # 1 of 2
    }
    exact = (Decimal(100) + 75 + 75 + Decimal(500) / 7 + Decimal(200) / 3 + 50) / 6
    assert teacher.score == exact.quantize(Decimal("0.1"))
    # the substitute's own journal: one lesson, no homework, no register
    hist = next(t for t in report.teachers if t.key == fw.hist_teacher.pk)
    assert {c.key: c.share for c in hist.components}["homework"] == Decimal("0.0")
    services.update_quality_settings(
        acting_user=world.deputy, school=world.school, fields={"w_topic": 3, "w_remarks": 0}
    )
    report = filling_report(report_assignments(ctx), world.school, scope, "journal")
    teacher = next(t for t in report.teachers if t.key == world.teacher.pk)
    exact = (3 * Decimal(100) + 75 + 75 + Decimal(500) / 7 + Decimal(200) / 3) / 7
    assert teacher.score == exact.quantize(Decimal("0.1"))
    assert "3 × «Lessons with a topic, %»" in filling.quality_formula(report.quality)


def test_month_quality_leaves_out_what_is_not_measured(world, fw):
    ctx = _ctx(world.deputy, world.school)
    report = filling_report(report_assignments(ctx), world.school, FillingScope(d(11, 1), d(11, 30)), "journal")
    teacher = next(t for t in report.teachers if t.key == world.teacher.pk)
    shares = {c.key: c.share for c in teacher.components}
    assert shares["accumulation"] is None and shares["remarks"] is None  # a month; no remarks in November
    assert teacher.score == Decimal("100.0")  # m6: topic, homework, register, a mark on time


def test_accumulation_not_checked_when_the_school_switches_it_off(world, fw):
    JournalPolicy.objects.update_or_create(school=world.school, defaults={"accumulation_policy": "off"})
    ctx = _ctx(world.deputy, world.school)
    scope = FillingScope(fw.semester.start, fw.semester.end, fw.semester)
    report = filling_report(report_assignments(ctx), world.school, scope, "journal")
    assert not report.checked and all(line.figures.students is None for line in report.lines)


def test_update_quality_settings_audits_and_refuses_nonsense(world, fw):
    from classbook.core.models import AuditEntry

    services.update_quality_settings(acting_user=world.director, school=world.school, fields={"w_timely": 5})
    entry = AuditEntry.objects.get(action="reports.quality.updated")
    assert entry.data == {"old": {"w_timely": 1}, "new": {"w_timely": 5}}
    for fields in ({"w_timely": 101}, {"w_timely": -1}, {"nope": 1}, {"w_topic": True}):
        with pytest.raises(DomainError):
            services.update_quality_settings(acting_user=world.director, school=world.school, fields=fields)
    zero = dict.fromkeys(services.QUALITY_FIELDS, 0)
    with pytest.raises(DomainError):
        services.update_quality_settings(acting_user=world.director, school=world.school, fields=zero)
    assert AuditEntry.objects.filter(action="reports.quality.updated").count() == 1


def test_user_activity_matches_raw_rows(world, fw):
    ctx = _ctx(world.deputy, world.school)
    report = user_activity(world.school, activity_logins(ctx), activity_members(ctx), d(10, 5), d(10, 5))
    users = {a.user_id: a for a in report.users}
    assert world.foreign_teacher.pk not in users  # another school's member
    teacher = users[world.teacher.pk]
    # Monday 5 October: two logins; lessons m1, h1's teacher is another; m1 topic and homework; marks 10, 8, 9
    assert (teacher.logins, teacher.lessons, teacher.marks, teacher.topics, teacher.homework) == (2, 1, 3, 1, 1)
    assert users[world.deputy.pk].logins == 1 and users[world.parent.pk].logins == 1
    assert users[world.parent.pk].roles == "Parent"
    other = users[world.other_teacher.pk]
    assert (other.logins, other.lessons, other.marks, other.topics, other.homework) == (0, 1, 1, 1, 1)
    roles = {a.roles: a for a in report.by_role}
    assert roles["Teacher"].marks == 3 + 1  # the history teachers' marks: 5-Б's on the 5th, 5-А's on the 6th
    assert report.total.logins == 4
    two = user_activity(world.school, activity_logins(ctx), activity_members(ctx), d(10, 5), d(10, 6))
    assert {a.user_id: a for a in two.users}[world.teacher.pk].logins == 3


def test_a_mark_entered_on_time_and_changed_late_is_late(world, fw):
    """The documented definition: ``Mark.is_late`` is set by the journal's deadline rule at the entry *or* any
    later change (R2.2), so the control sees a late correction too."""
    from classbook.journal import services as journal

    ctx = _ctx(world.deputy, world.school)
    november = FillingScope(d(11, 1), d(11, 30))
    before = filling_report(report_assignments(ctx), world.school, november, "journal")
    math = next(line.figures for line in before.lines if line.key == fw.math.pk)
    assert (math.marks, math.late_marks) == (1, 0)
    mark = Mark.objects.get(lesson=fw.lessons["m6"], student=world.student)
    with time_machine.travel(NOW, tick=False):  # a week after the lesson
        journal.record_mark(
            acting_user=world.teacher,
            lesson=fw.lessons["m6"],
            student=world.student,
            text="12",
            expected_version=mark.version,
        )
    after = filling_report(report_assignments(ctx), world.school, november, "journal")
    math = next(line.figures for line in after.lines if line.key == fw.math.pk)
    assert (math.marks, math.late_marks) == (1, 1)
