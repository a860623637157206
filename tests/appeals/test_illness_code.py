"""Illness as a kind of reason an attendance code means (issue 11): the Russian-style "б" (болел) counts as
illness without the class teacher recording a reason; a kind the class teacher records wins over the code's.
The one definition is ``journal.absences.ILLNESS``, read by ``absence_counts`` (every door) and the reports."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from classbook.appeals import services as appeals
from classbook.journal import services as journal_services
from classbook.journal.absences import absence_counts, student_absence_counts
from classbook.journal.defaults import create_journal_defaults
from classbook.journal.models import AbsenceReasonKind, Attendance, AttendanceCode
from classbook.reports import attendance
from classbook.schools.models import SchoolClass, TeachingAssignment
from tests import factories as f
from tests.appeals.conftest import MON, TUE, absent

pytestmark = pytest.mark.django_db


def _mark(world, lesson, text):
    return journal_services.record_attendance(
        acting_user=world.teacher, lesson=lesson, student=world.student, text=text, expected_version=0
    )


@pytest.fixture
def ill(world, journal):
    AttendanceCode.objects.create(
        school=world.school, code="б", name="Болел", is_excused=True, reason_kind=AbsenceReasonKind.ILLNESS, ordinal=3
    )
    second = journal_services.create_lesson(
        acting_user=world.teacher, assignment=journal.assignment, date=MON, number=2
    )
    third = journal_services.create_lesson(acting_user=world.teacher, assignment=journal.assignment, date=TUE, number=1)
    return {
        "code": _mark(world, journal.lesson, "б"),
        "plain": absent(world, second),
        "other": _mark(world, third, "б"),
    }


def test_a_code_meaning_illness_counts_as_illness_and_a_recorded_kind_wins(world, ill):
    counts = student_absence_counts(world.school.pk, [world.student.pk], MON, TUE)[world.student.pk]
    assert (counts.missed, counts.excused, counts.illness, counts.with_reason) == (3, 2, 2, 0)
    # the class teacher says the plain "н" was illness, and the second "б" was in fact a family matter
    for key, kind in (("plain", "illness"), ("other", "family")):
        row = Attendance.objects.get(pk=ill[key].pk)
        appeals.record_absence_reasons(
            acting_user=world.class_teacher, absences=[(row, row.version)], kind=kind, text="", excused=True
        )
    by_row = absence_counts(Attendance.objects.filter(pk__in=[r.pk for r in ill.values()]), by=("id",))
    assert {k for k, r in ill.items() if by_row[r.pk].illness} == {"code", "plain"}


def test_the_attendance_report_and_its_weeks_count_the_codes_illness(world, ill):
    assignments = TeachingAssignment.objects.filter(school=world.school)
    classes = SchoolClass.objects.filter(school=world.school)
    report = attendance.attendance_report(assignments, classes, attendance.Range(MON, TUE), "student")
    (line,) = [line for line in report.lines if line.key == world.student.pk]
    assert (line.missed, line.excused, line.illness) == (3, 2, 2)
    assert [(w.excused_illness, w.excused_other, w.unexcused) for w in report.weeks] == [(2, 0, 1)]


def test_new_schools_get_illness_on_the_russian_style_code_only(db):
    ru, ua = f.SchoolFactory(slug="ru", country="RU"), f.SchoolFactory(slug="ua", country="UA")
    for school in (ru, ua):
        AttendanceCode.objects.filter(school=school).delete()
        create_journal_defaults(school)
    kinds = dict(AttendanceCode.objects.filter(school=ru).values_list("code", "reason_kind"))
    assert kinds == {"н": "", "б": "illness", "у": "", "о": ""}
    assert set(AttendanceCode.objects.filter(school=ua).values_list("reason_kind", flat=True)) == {""}


def test_the_migration_marks_existing_illness_codes(world):
    migration = importlib.import_module("classbook.journal.migrations.0009_attendancecode_reason_kind")
    ill = AttendanceCode.objects.create(school=world.school, code="б", name="Болел", is_excused=True)
    late = AttendanceCode.objects.create(school=world.school, code="хв", name="?", counts_as_absent=False)
    migration.mark_illness_codes(django_apps, None)
    ill.refresh_from_db()
    late.refresh_from_db()
    assert (ill.reason_kind, late.reason_kind) == ("illness", "")


def test_the_settings_page_sets_a_codes_kind_of_reason(world, journal, as_user):
    code = AttendanceCode.objects.filter(school=world.school).first()
    url = f"/s/{world.school.slug}/manage/journal/attendance-codes/{code.pk}/"
    client = as_user(world.deputy)
    response = client.post(
        url,
        {"code": code.code, "name": code.name, "counts_as_absent": "on", "reason_kind": "illness", "ordinal": "0"},
    )
    assert response.status_code == 302, getattr(response, "context", None) and response.context["form"].errors
    code.refresh_from_db()
    assert code.reason_kind == "illness"
    listing = client.get(f"/s/{world.school.slug}/manage/journal/attendance-codes/").content.decode()
    assert "Illness" in listing
    bad = client.post(url, {"code": code.code, "name": code.name, "reason_kind": "flu", "ordinal": "0"})
    assert bad.status_code == 200 and bad.context["form"].errors
    code.refresh_from_db()
    assert code.reason_kind == "illness"
