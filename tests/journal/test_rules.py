"""The journal's rules: scales, columns, period lock, corrections, accumulation, deadline (R2.2, R2.5-R2.8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.journal import rules, services
from classbook.journal.models import (
    Attendance,
    GradeCorrection,
    GradeKind,
    JournalChange,
    JournalPolicy,
    Mark,
    PeriodGrade,
    WorkType,
)
from classbook.journal.stats import journal_tallies
from classbook.schools.models import MarkingScale, ScaleKind
from classbook.schools.scales import _five_point, create_scale
from tests import factories as f
from tests.journal.conftest import AFTER_DEADLINE, GRADES_DAY, IN_TIME

pytestmark = pytest.mark.django_db


def mark(world, lesson, text, version=0, **kwargs):
    return services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=world.student, text=text, expected_version=version, **kwargs
    )


def period_grade(world, journal, text, *, kind=GradeKind.PERIOD, version=0, period=None, **kwargs):
    return services.record_period_grade(
        acting_user=world.teacher,
        assignment=journal.assignment,
        student=world.student,
        period=period or journal.semester,
        kind=kind,
        text=text,
        expected_version=version,
        **kwargs,
    )


# --- Scales and columns -----------------------------------------------------------


@pytest.mark.parametrize("bad", ["0", "13", "11+", "10,5", "10.5", "-1", "abc"])
@time_machine.travel(IN_TIME)
def test_twelve_point_journal_refuses_marks_off_the_scale(world, journal, bad):
    with pytest.raises(DomainError) as err:
        mark(world, journal.lesson, bad)
    assert "12-бальна" in str(err.value.message)
    assert not Mark.objects.exists() and not JournalChange.objects.filter(kind="mark").exists()


@pytest.mark.parametrize("bad", ["0", "1", "6", "4+", "3,5"])
@time_machine.travel(IN_TIME)
def test_five_point_journal_refuses_marks_off_the_scale_and_one_unless_enabled(world, journal, bad):
    journal.assignment.scale = MarkingScale.objects.get(school=world.school, kind=ScaleKind.FIVE)
    journal.assignment.save()
    with pytest.raises(DomainError):
        mark(world, journal.lesson, bad)
    assert not Mark.objects.exists()


@time_machine.travel(IN_TIME)
def test_five_point_journal_with_one_enabled_accepts_one(world, journal):
    journal.assignment.scale = create_scale(world.school, "5 з одиницею", ScaleKind.FIVE, _five_point(with_one=True))
    journal.assignment.save()
    assert mark(world, journal.lesson, "1").value.code == "1"


@time_machine.travel(IN_TIME)
def test_absence_mark_is_refused_in_a_mark_column_and_not_attested_in_a_lesson(world, journal):
    for text in ["н", "н/а", "звільн."]:
        with pytest.raises(DomainError):
            mark(world, journal.lesson, text)
    with pytest.raises(DomainError):
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н/а", expected_version=0
        )
    assert not Mark.objects.exists() and not Attendance.objects.exists()


@time_machine.travel(GRADES_DAY)
def test_not_attested_is_accepted_in_a_period_column_and_absence_refused_with_a_clear_message(world, journal):
    with pytest.raises(DomainError) as err:
        period_grade(world, journal, "н")
    assert err.value.code == "attendance_in_period_column"
    assert "н/а" in str(err.value.message)
    assert period_grade(world, journal, "н/а").value.code == "н/а"
    assert period_grade(world, journal, "звільн.", kind=GradeKind.THEMATIC).value.code == "звільн."


@pytest.mark.parametrize("bad", ["0", "13", "11+", "10,5"])
@time_machine.travel(GRADES_DAY)
def test_period_column_refuses_values_off_the_scale(world, journal, bad):
    with pytest.raises(DomainError):
        period_grade(world, journal, bad)
    assert not PeriodGrade.objects.exists()


# --- Several marks, weights, accumulation -------------------------------------------------


@time_machine.travel(IN_TIME)
def test_several_marks_per_lesson_only_where_the_work_type_allows(world, journal):
    current = WorkType.objects.get(school=world.school, code="current")
    independent = WorkType.objects.get(school=world.school, code="independent")
    mark(world, journal.lesson, "9", work_type=current, slot=0)
    mark(world, journal.lesson, "10", work_type=current, slot=1, comment="усна відповідь")
    mark(world, journal.lesson, "8", work_type=independent)
    with pytest.raises(DomainError) as err:
        mark(world, journal.lesson, "7", work_type=independent, slot=1)
    assert err.value.code == "one_mark_only"
    assert sorted(Mark.objects.values_list("value__code", flat=True)) == ["10", "8", "9"]
    assert Mark.objects.get(slot=1).comment == "усна відповідь"


@time_machine.travel(IN_TIME)
def test_averages_use_work_type_weights_unless_the_school_turns_them_off(world, journal):
    mark(world, journal.lesson, "10", work_type=WorkType.objects.get(school=world.school, code="current"))
    mark(world, journal.lesson, "7", work_type=WorkType.objects.get(school=world.school, code="control"))
    a, semester = journal.assignment, journal.semester

    def average(weighted: bool) -> Decimal | None:
        tallies = journal_tallies([a.pk], semester.start, semester.end, weighted=weighted)
        return tallies[(a.pk, world.student.pk)].mean(world.school)

    assert average(weighted=True) == Decimal("8.00")  # 10 × 1 + 7 × 2 (a control work weighs 2) over 3
    assert average(weighted=False) == Decimal("8.50")


def counts(accumulation):
    return {student: (acc.count, acc.required) for student, acc in accumulation.items()}


@pytest.mark.parametrize(("hours", "required"), [(Decimal("1"), 3), (Decimal("1.5"), 3), (Decimal("2"), 5), (5, 5)])
def test_accumulation_needs_three_marks_at_one_lesson_a_week_and_five_at_two(world, journal, hours, required):
    journal.assignment.hours_per_week = hours
    journal.assignment.save()
    assert counts(rules.accumulation(journal.assignment, journal.semester)) == {world.student.pk: (0, required)}


def test_accumulation_counts_each_students_marks_in_the_period_only(world, journal):
    second = f.make_student(world.class_a)
    current = WorkType.objects.get(school=world.school, code="current")
    with time_machine.travel(IN_TIME):
        mark(world, journal.lesson, "9", work_type=current, slot=0)
        mark(world, journal.lesson, "10", work_type=current, slot=1)
        cleared = mark(world, journal.lesson, "8", work_type=WorkType.objects.get(school=world.school, code="test"))
        mark(world, journal.lesson, "", version=cleared.version, work_type=cleared.work_type)
    with time_machine.travel(dt.datetime(2027, 2, 1, 10, 0, tzinfo=dt.UTC)):
        later = services.create_lesson(
            acting_user=world.teacher, assignment=journal.assignment, date=dt.date(2027, 2, 1)
        )
        mark(world, later, "12")
    assert counts(rules.accumulation(journal.assignment, journal.semester)) == {
        world.student.pk: (2, 5),
        second.pk: (0, 5),
    }
    assert counts(rules.accumulation(journal.assignment, journal.semester2))[world.student.pk] == (1, 5)


def test_school_sets_its_own_accumulation_thresholds(world, journal):
    policy = rules.policy_for(world.school.pk)
    policy.min_marks_more_hours = 7
    policy.save()
    assert counts(rules.accumulation(journal.assignment, journal.semester))[world.student.pk] == (0, 7)


# --- Deadline and future lessons (R2.2) -------------------------------------------------


def test_entries_before_the_deadline_are_not_late_and_after_it_are(world, journal):
    with time_machine.travel(IN_TIME):
        in_time = mark(world, journal.lesson, "9")
    absent = f.make_student(world.class_a)  # one cell holds one entry: the absence is another student's
    with time_machine.travel(AFTER_DEADLINE):
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=absent, text="н", expected_version=0
        )
        services.update_lesson(
            acting_user=world.teacher, lesson_id=journal.lesson.pk, expected_version=1, topic="Дроби"
        )
    assert not in_time.is_late
    assert Attendance.objects.get().is_late
    late = set(JournalChange.objects.filter(is_late=True).values_list("kind", flat=True))
    assert late == {"attendance", "topic"}


def test_deadline_is_the_schools_and_any_later_day_is_late(world, journal):
    world.school.entry_deadline = dt.time(19, 0)
    world.school.save()
    journal.lesson.school.refresh_from_db()
    with time_machine.travel(AFTER_DEADLINE):  # 18:00 in Kyiv: before 19:00
        assert not mark(world, journal.lesson, "9").is_late
    with time_machine.travel(dt.datetime(2026, 10, 6, 6, 0, tzinfo=dt.UTC)):  # next morning
        assert mark(world, journal.lesson, "10", version=1).is_late
    assert list(JournalChange.objects.filter(kind="mark").order_by("id").values_list("is_late", flat=True)) == [
        False,
        True,
    ]


def test_future_lessons_take_no_marks_unless_the_school_allows_it(world, journal):
    with time_machine.travel(IN_TIME):
        future = services.create_lesson(
            acting_user=world.teacher, assignment=journal.assignment, date=dt.date(2026, 10, 9)
        )
        with pytest.raises(DomainError) as err:
            mark(world, future, "9")
        assert err.value.code == "future_lesson"
        JournalPolicy.objects.filter(school=world.school).update(allow_future_marks=True)
        assert mark(world, future, "9").value.code == "9"


# --- Period grades: lock and corrections (R2.7) --------------------------------------


@time_machine.travel(GRADES_DAY)
def test_period_grade_is_locked_once_set(world, journal):
    grade = period_grade(world, journal, "10")
    assert grade.locked_at is not None
    with pytest.raises(DomainError) as err:
        period_grade(world, journal, "11", version=grade.version)
    assert err.value.code == "grade_locked" and "correction" in str(err.value.message)
    assert period_grade(world, journal, "10", version=grade.version).pk == grade.pk  # same value: no-op
    with pytest.raises(ConflictError) as conflict:
        period_grade(world, journal, "12", version=0)
    assert conflict.value.current.value == "10"
    grade.refresh_from_db()
    assert grade.value.code == "10" and grade.version == 1
    assert list(JournalChange.objects.filter(kind="period_grade").values_list("old_value", "new_value")) == [("", "10")]


@time_machine.travel(GRADES_DAY)
def test_thematic_grades_are_locked_too(world, journal):
    grade = period_grade(world, journal, "9", kind=GradeKind.THEMATIC, ordinal=1, title="Дроби")
    with pytest.raises(DomainError):
        period_grade(world, journal, "8", kind=GradeKind.THEMATIC, ordinal=1, version=grade.version)
    period_grade(world, journal, "8", kind=GradeKind.THEMATIC, ordinal=2)
    assert PeriodGrade.objects.filter(kind="thematic").count() == 2


@time_machine.travel(GRADES_DAY)
def test_corrected_grade_cannot_be_set_directly(world, journal):
    with pytest.raises(DomainError) as err:
        period_grade(world, journal, "10", kind=GradeKind.CORRECTED)
    assert err.value.code == "use_correction"


def test_marks_of_a_period_are_closed_after_its_grade_is_set(world, journal):
    with time_machine.travel(IN_TIME):
        existing = mark(world, journal.lesson, "9")
    with time_machine.travel(GRADES_DAY):
        period_grade(world, journal, "9")
        with pytest.raises(DomainError) as err:
            mark(world, journal.lesson, "12", version=existing.version)
        assert err.value.code == "period_closed"
    assert Mark.objects.get().value.code == "9"


def correct(user, grade, text="11", reason="Заява учня, повторне оцінювання", order_ref="Наказ № 12"):
    return services.correct_period_grade(acting_user=user, grade=grade, text=text, reason=reason, order_ref=order_ref)


@pytest.mark.parametrize("day", [24, 25, 27])
def test_deputy_corrects_a_semester_grade_within_three_days_and_both_values_are_kept(world, journal, day):
    with time_machine.travel(GRADES_DAY):
        grade = period_grade(world, journal, "9")
    with time_machine.travel(dt.datetime(2026, 12, day, 10, 0, tzinfo=dt.UTC)):
        corrected = correct(world.deputy, grade)
    assert corrected.kind == GradeKind.CORRECTED and corrected.value.code == "11"
    grade.refresh_from_db()
    assert grade.value.code == "9"
    correction = GradeCorrection.objects.get()
    assert (correction.old_value.code, correction.new_value.code, correction.order_ref) == ("9", "11", "Наказ № 12")
    change = JournalChange.objects.get(kind="correction")
    assert (change.actor, change.old_value, change.new_value) == (world.deputy, "9", "11")
    assert "Наказ № 12" in change.reason
    assert AuditEntry.objects.filter(action="journal.period_grade.corrected").count() == 1


def test_corrected_grade_on_day_four_is_refused(world, journal):
    with time_machine.travel(GRADES_DAY):
        grade = period_grade(world, journal, "9")
    with time_machine.travel(dt.datetime(2026, 12, 28, 8, 0, tzinfo=dt.UTC)), pytest.raises(DomainError) as err:
        correct(world.deputy, grade)
    assert err.value.code == "correction_too_late" and "27.12.2026" in str(err.value.message)
    assert not PeriodGrade.objects.filter(kind=GradeKind.CORRECTED).exists()
    assert not GradeCorrection.objects.exists() and not JournalChange.objects.filter(kind="correction").exists()


def test_correction_window_is_the_schools(world, journal):
    JournalPolicy.objects.filter(school=world.school).update(correction_window_days=5)
    with time_machine.travel(GRADES_DAY):
        grade = period_grade(world, journal, "9")
    with time_machine.travel(dt.datetime(2026, 12, 29, 10, 0, tzinfo=dt.UTC)):
        assert correct(world.director, grade).value.code == "11"


@pytest.mark.parametrize("kind", [GradeKind.THEMATIC, GradeKind.ANNUAL, GradeKind.EXAM])
@time_machine.travel(GRADES_DAY)
def test_thematic_and_annual_grades_cannot_be_corrected(world, journal, kind):
    grade = period_grade(world, journal, "9", kind=kind)
    with pytest.raises(DomainError) as err:
        correct(world.deputy, grade)
    assert err.value.code == "not_correctable"
    assert not GradeCorrection.objects.exists()


@pytest.mark.parametrize("persona", ["teacher", "class_teacher", "admin", "secretary", "viewer", "foreign_admin"])
@time_machine.travel(GRADES_DAY)
def test_only_allowed_roles_correct_period_grades(world, journal, persona):
    grade = period_grade(world, journal, "9")
    with pytest.raises(PermissionDeniedError):
        correct(world.persona(persona), grade)
    assert not GradeCorrection.objects.exists() and PeriodGrade.objects.count() == 1


@time_machine.travel(GRADES_DAY)
def test_school_chooses_which_roles_correct(world, journal):
    JournalPolicy.objects.filter(school=world.school).update(admin_corrects=True, deputy_corrects=False)
    grade = period_grade(world, journal, "9")
    with pytest.raises(PermissionDeniedError):
        correct(world.deputy, grade)
    assert correct(world.admin, grade).value.code == "11"


@pytest.mark.parametrize(("reason", "order_ref", "field"), [("", "Наказ № 1", "reason"), ("Заява", " ", "order_ref")])
@time_machine.travel(GRADES_DAY)
def test_correction_needs_a_reason_and_an_order(world, journal, reason, order_ref, field):
    grade = period_grade(world, journal, "9")
    with pytest.raises(DomainError) as err:
        correct(world.deputy, grade, reason=reason, order_ref=order_ref)
    assert err.value.field == field
    assert not GradeCorrection.objects.exists()


@time_machine.travel(GRADES_DAY)
def test_annual_grade_basis_uses_the_corrected_grade(world, journal):
    first = period_grade(world, journal, "9")
    correct(world.deputy, first, text="10")
    correct(world.deputy, first, text="11")  # a second correction in the window changes the corrected grade
    assert [g.value.code for g in rules.annual_grade_basis(journal.assignment, world.student)] == ["11"]
    assert PeriodGrade.objects.filter(kind=GradeKind.CORRECTED).count() == 1
    assert list(GradeCorrection.objects.values_list("old_value__code", "new_value__code")) == [
        ("9", "10"),
        ("10", "11"),
    ]
    with time_machine.travel(dt.datetime(2027, 5, 30, 10, 0, tzinfo=dt.UTC)):
        period_grade(world, journal, "8", period=journal.semester2)
    basis = rules.annual_grade_basis(journal.assignment, world.student)
    assert [(g.period_id, g.value.code) for g in basis] == [(journal.semester.pk, "11"), (journal.semester2.pk, "8")]


# --- Reasons of absence (R2.8) ------------------------------------------------------------


@time_machine.travel(IN_TIME)
def test_class_teacher_records_the_reason_of_an_absence_later(world, journal):
    row = services.record_attendance(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
    )
    with time_machine.travel(dt.datetime(2026, 10, 8, 10, 0, tzinfo=dt.UTC)):
        row = services.record_absence_reason(
            acting_user=world.class_teacher, attendance=row, reason="Довідка від лікаря", expected_version=1
        )
    assert (row.reason, row.reason_recorded_by, row.version) == ("Довідка від лікаря", world.class_teacher, 2)
    change = JournalChange.objects.get(kind="reason")
    assert (change.actor, change.new_value, change.is_late) == (world.class_teacher, "Довідка від лікаря", False)
    with pytest.raises(ConflictError):  # the subject teacher's grid still holds version 1
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="", expected_version=1
        )


@pytest.mark.parametrize("persona", ["teacher", "other_teacher", "deputy", "admin"])
@time_machine.travel(IN_TIME)
def test_only_the_class_teacher_records_reasons(world, journal, persona):
    row = services.record_attendance(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
    )
    with pytest.raises(PermissionDeniedError):
        services.record_absence_reason(
            acting_user=world.persona(persona), attendance=row, reason="Хворів", expected_version=1
        )
    row.refresh_from_db()
    assert row.reason == "" and row.version == 1


# --- Bulk for one lesson ---------------------------------------------------------------------


@time_machine.travel(IN_TIME)
def test_bulk_writes_marks_and_attendance_of_a_lesson(world, journal):
    second = f.make_student(world.class_a)
    result = services.record_lesson_bulk(
        acting_user=world.teacher,
        lesson=journal.lesson,
        marks=[
            {"student": world.student.pk, "text": "10", "expected_version": 0},
            {"student": world.student.pk, "text": "8", "expected_version": 0, "work_type": "control"},
        ],
        attendance=[{"student": second.pk, "text": "н", "expected_version": 0}],
    )
    assert [m.value.code for m in result.marks] == ["10", "8"]
    assert Attendance.objects.get().student == second
    assert JournalChange.objects.filter(kind__in=["mark", "attendance"]).count() == 3


@time_machine.travel(IN_TIME)
def test_bulk_saves_nothing_when_one_item_is_refused_and_names_each(world, journal):
    existing = mark(world, journal.lesson, "7", work_type=WorkType.objects.get(school=world.school, code="test"))
    second = f.make_student(world.class_a)
    with pytest.raises(services.BulkRejected) as err:
        services.record_lesson_bulk(
            acting_user=world.teacher,
            lesson=journal.lesson,
            marks=[
                {"student": world.student.pk, "text": "10", "expected_version": 0},
                {"student": second.pk, "text": "13", "expected_version": 0},
                {"student": world.student.pk, "text": "9", "expected_version": 0, "work_type": "test"},
                {"student": world.other_student.pk, "text": "9", "expected_version": 0},
            ],
            attendance=[{"student": second.pk, "text": "н", "expected_version": 0}],
        )
    items = {(i["section"], i["index"]): i for i in err.value.items}
    assert set(items) == {("marks", 1), ("marks", 2), ("marks", 3)}
    assert items[("marks", 2)]["code"] == "conflict" and items[("marks", 2)]["current"] == {"value": "7", "version": 1}
    assert err.value.has_conflict
    assert list(Mark.objects.values_list("pk", flat=True)) == [existing.pk]
    assert not Attendance.objects.exists()
    assert JournalChange.objects.filter(kind__in=["mark", "attendance"]).count() == 1


# --- Remarks (R6.10) -----------------------------------------------------------------------


@time_machine.travel(IN_TIME)
def test_deputy_remarks_and_teacher_marks_fixed_audited(world, journal):
    remark = services.add_remark(
        acting_user=world.deputy, assignment=journal.assignment, lesson=journal.lesson, text="Не записано тему уроку"
    )
    fixed = services.fix_remark(acting_user=world.teacher, remark=remark, note="Тему записано")
    assert fixed.fixed_by == world.teacher and fixed.fixed_at is not None
    with pytest.raises(DomainError) as err:
        services.fix_remark(acting_user=world.teacher, remark=remark)
    assert err.value.code == "already_fixed"
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["journal.remark.added", "journal.remark.fixed"]


@time_machine.travel(IN_TIME)
def test_empty_remark_and_remark_on_another_journals_lesson_are_refused(world, journal):
    with pytest.raises(DomainError):
        services.add_remark(acting_user=world.deputy, assignment=journal.assignment, text="   ")
    with pytest.raises(DomainError):
        services.add_remark(
            acting_user=world.deputy, assignment=journal.other_assignment, lesson=journal.lesson, text="Тема"
        )


def test_journal_changes_are_append_only(world, journal):
    change = JournalChange.objects.get(kind="lesson")
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()


def test_new_school_gets_journal_rules_with_the_defaults(world, journal):
    policy = JournalPolicy.objects.get(school=world.school)
    assert (policy.correction_window_days, policy.min_marks_one_hour, policy.min_marks_more_hours) == (3, 3, 5)
    assert policy.correction_roles() == {"director", "deputy"}
    assert policy.weighted_averages and not policy.allow_future_marks


def test_rules_are_created_on_demand_for_a_school_without_them(db):
    school = f.SchoolFactory()
    assert not JournalPolicy.objects.filter(school=school).exists()
    assert rules.policy_for(school.pk).correction_window_days == 3
    assert rules.policy_for(school.pk).pk == JournalPolicy.objects.get(school=school).pk
