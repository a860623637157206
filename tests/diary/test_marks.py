"""Marks by subject for a period, averages as the school chooses, period grades as soon as set (R5.2),
attendance summary; the diary settings page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from classbook.core.models import AuditEntry
from classbook.diary.models import DiaryPolicy
from classbook.journal import services as journal
from classbook.journal.models import JournalPolicy, WorkType


@pytest.fixture
def graded(world, diary):
    control = WorkType.objects.get(school=world.school, code="control")
    journal.record_mark(
        acting_user=world.teacher,
        lesson=diary.mon_math,
        student=world.student,
        text="7",
        expected_version=0,
        work_type=control,
        comment="Контрольна",
    )
    journal.record_attendance(
        acting_user=world.teacher, lesson=diary.thu_math, student=world.student, text="хв", expected_version=0
    )
    return diary


def marks_url(world, period=None):
    url = reverse("diary:marks", args=[world.school.slug, world.student.pk])
    return f"{url}?period={period.pk}" if period else url


def _math(report):
    return next(row for row in report.subjects if row.subject == "Математика")


def test_marks_by_subject_with_the_weighted_average(world, graded, as_user):
    response = as_user(world.parent).get(marks_url(world, graded.period))
    report = response.context["report"]
    math = _math(report)
    assert [(m.value, m.work_type) for m in math.marks] == [("10", "Поточна"), ("7", "Контрольна робота")]
    assert math.average == Decimal("8.0")  # (10·1 + 7·2) / 3, one decimal by the school's default rule
    assert "8.0<" in response.content.decode() or "8,0<" in response.content.decode()
    # Subjects of the class without marks are listed too; group 2's English is not the student's.
    assert {r.subject for r in report.subjects} == {"Математика", "Англійська мова"}


def test_the_school_chooses_a_plain_average_or_none(world, graded, as_user):
    # The weighting is the school's one rule, the journal rules' (issue 10): the diary follows it.
    JournalPolicy.objects.update_or_create(school=world.school, defaults={"weighted_averages": False})
    DiaryPolicy.objects.create(school=world.school, show_average=True)
    report = as_user(world.parent).get(marks_url(world, graded.period)).context["report"]
    assert _math(report).average == Decimal("8.50") and not report.weighted
    DiaryPolicy.objects.filter(school=world.school).update(show_average=False)
    response = as_user(world.parent).get(marks_url(world, graded.period))
    assert _math(response.context["report"]).average is None
    assert "dy-avg" not in response.content.decode().split("</head>", 1)[1]  # the inlined stylesheet names it
    api = as_user(world.parent).get(f"/api/v1/schools/{world.school.slug}/diary/{world.student.pk}/marks").json()
    assert api["show_average"] is False and all(s["average"] is None for s in api["subjects"])


def test_attendance_summary_counts_excused_and_unexcused(world, graded, as_user):
    report = as_user(world.student.user).get(marks_url(world, graded.period)).context["report"]
    assert (report.attendance.absent, report.attendance.excused, report.attendance.unexcused) == (2, 1, 1)
    assert (_math(report).absent, _math(report).absent_excused) == (2, 1)


def test_a_period_grade_shows_as_soon_as_it_is_set(world, graded, as_user):
    client = as_user(world.parent)
    assert _math(client.get(marks_url(world, graded.period)).context["report"]).grades == []
    journal.record_period_grade(
        acting_user=world.teacher,
        assignment=graded.math,
        student=world.student,
        period=graded.period,
        kind="period",
        text="9",
        expected_version=0,
    )
    grades = _math(client.get(marks_url(world, graded.period)).context["report"]).grades
    assert [(g.kind, g.value, g.period) for g in grades] == [("period", "9", "I семестр")]
    api = client.get(f"/api/v1/schools/{world.school.slug}/diary/{world.student.pk}/grades").json()
    assert api["subjects"][0]["grades"][0]["value"] == "9"


def test_the_default_period_is_the_current_one_and_others_are_empty(world, graded, as_user):
    client = as_user(world.parent)
    assert client.get(marks_url(world)).context["period"] == graded.period  # today is inside semester I
    report = client.get(marks_url(world, graded.period2)).context["report"]
    assert report.marks_count == 0 and report.attendance.absent == 0


def test_another_childs_marks_never_leak_into_the_report(world, graded, as_user):
    report = as_user(world.parent).get(marks_url(world, graded.period)).context["report"]
    assert all(m.value != "3" for row in report.subjects for m in row.marks)  # other_student's history mark


def test_marks_page_query_count(world, graded, as_user, django_assert_max_num_queries):
    client = as_user(world.parent)
    client.get(marks_url(world, graded.period))
    with django_assert_max_num_queries(12):
        client.get(marks_url(world, graded.period))


@pytest.mark.parametrize("persona", ["admin", "director"])
def test_settings_are_changed_by_school_settings_holders_and_audited(world, as_user, persona):
    url = reverse("diary:settings", args=[world.school.slug])
    client = as_user(world.persona(persona))
    assert client.get(url).status_code == 200
    response = client.post(url, {"show_average": ""})
    assert response.status_code == 302
    policy = DiaryPolicy.objects.get(school=world.school)
    assert not policy.show_average
    entry = AuditEntry.objects.get(action="diary.policy.changed")
    assert entry.data == {"old": {"show_average": True}, "new": {"show_average": False}}
    # Saving the same again writes nothing.
    client.post(url, {"show_average": ""})
    assert AuditEntry.objects.filter(action="diary.policy.changed").count() == 1


def test_the_settings_page_has_no_weighting_switch_of_its_own(world, as_user):
    """One weighting rule per school (issue 10): the diary's page points to the journal rules instead."""
    page = as_user(world.director).get(reverse("diary:settings", args=[world.school.slug])).content.decode()
    assert 'name="show_average"' in page and "weighted" not in page
    assert reverse("journal_settings:rules", args=[world.school.slug]) in page
    assert not hasattr(DiaryPolicy(), "weighted_average")


def test_deputies_read_the_settings_and_others_may_not(world, as_user):
    url = reverse("diary:settings", args=[world.school.slug])
    assert as_user(world.deputy).get(url).status_code == 200
    assert as_user(world.deputy).post(url, {"show_average": "on"}).status_code == 403
    assert as_user(world.viewer).post(url, {}).status_code == 403
    for persona in ["teacher", "parent", "student", "secretary"]:
        assert as_user(world.persona(persona)).get(url).status_code == 403, persona
    assert as_user(world.foreign_admin).get(url).status_code == 404
    assert not DiaryPolicy.objects.exists()


def test_a_school_without_study_periods_says_so(world, as_user):
    client = as_user(world.parent)
    for name in ["marks", "letter"]:
        response = client.get(reverse(f"diary:{name}", args=[world.school.slug, world.student.pk]))
        assert response.status_code == 200
        assert "has not set up its study periods yet" in response.content.decode()
    assert client.get(reverse("diary:letter_pdf", args=[world.school.slug, world.student.pk])).status_code == 404
    api = client.get(f"/api/v1/schools/{world.school.slug}/diary/{world.student.pk}/marks")
    assert api.status_code == 404
