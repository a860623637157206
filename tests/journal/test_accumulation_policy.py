"""Accumulation (R2.6) as a school policy: off / warn / refuse a period grade while a student has too few marks.

One count (``rules.journals_accumulation``) and one decision (``rules.accumulation_warning``) behind every
door: the service, the grid's save and page, the API's write and grid read, the deputy's control page.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from classbook.core.errors import DomainError
from classbook.journal import rules, services
from classbook.journal.models import GradeKind, JournalChange, JournalPolicy, PeriodGrade, WorkType
from classbook.people.models import Enrolment
from tests import factories as f
from tests.journal.conftest import GRADES_DAY, IN_TIME

pytestmark = pytest.mark.django_db


def set_policy(world, value, **fields):
    JournalPolicy.objects.filter(school=world.school).update(accumulation_policy=value, **fields)


def give_marks(world, journal, n, student=None):
    """``n`` marks for the student at the journal's lesson (the "current" work type allows several)."""
    current = WorkType.objects.get(school=world.school, code="current")
    with time_machine.travel(IN_TIME):
        for slot in range(n):
            services.record_mark(
                acting_user=world.teacher,
                lesson=journal.lesson,
                student=student or world.student,
                text="9",
                expected_version=0,
                work_type=current,
                slot=slot,
            )


def period_grade(world, journal, text, student=None, kind=GradeKind.PERIOD):
    with time_machine.travel(GRADES_DAY):
        return services.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=student or world.student,
            period=journal.semester,
            kind=kind,
            text=text,
            expected_version=0,
        )


def save_url(world, journal):
    return reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk])


def grid_save(client, world, journal, text, student=None):
    return client.post(
        save_url(world, journal),
        {
            "kind": "period",
            "grade_kind": "period",
            "ordinal": 0,
            "period": journal.semester.pk,
            "student": (student or world.student).pk,
            "value": text,
            "version": 0,
        },
        HTTP_ACCEPT="application/json",
    )


def api_put(client, world, journal, text, student=None):
    path = f"/api/v1/schools/{world.school.slug}/journal/assignments/{journal.assignment.pk}/period-grades"
    body = {"student": (student or world.student).pk, "period": journal.semester.pk, "kind": "period"}
    with time_machine.travel(GRADES_DAY):
        return client.put(
            path, data=json.dumps({**body, "text": text, "expected_version": 0}), content_type="application/json"
        )


# --- The policy, through every door ---------------------------------------------------------------


def test_default_policy_is_warn(world, journal):
    assert rules.policy_for(world.school.pk).accumulation_policy == "warn"
    assert JournalPolicy(school=world.school).accumulation_policy == "warn"


def test_warn_saves_the_grade_and_says_how_many_of_how_many(world, journal):
    give_marks(world, journal, 2)
    grade = period_grade(world, journal, "9")
    assert PeriodGrade.objects.get().value.code == "9"
    assert [w.code for w in grade.feedback.warnings] == ["too_few_marks"]
    assert "2" in grade.feedback.warnings[0].message and "5" in grade.feedback.warnings[0].message


def test_refuse_rejects_the_grade_with_a_translated_error(world, journal):
    set_policy(world, "refuse")
    give_marks(world, journal, 2)
    with pytest.raises(DomainError) as err:
        period_grade(world, journal, "9")
    assert err.value.code == "too_few_marks"
    assert "2 of the 5" in str(err.value.message)
    assert not PeriodGrade.objects.exists()
    assert not JournalChange.objects.filter(kind="period_grade").exists()


@pytest.mark.parametrize("policy", ["refuse", "warn", "off"])
@pytest.mark.parametrize("text", ["н/а", "звільн."])
def test_not_attested_and_exempt_are_always_accepted_without_warning(world, journal, policy, text):
    set_policy(world, policy)
    grade = period_grade(world, journal, text)
    assert grade.value.code == text and grade.feedback.warnings == ()


def test_off_saves_without_warning(world, journal):
    set_policy(world, "off")
    grade = period_grade(world, journal, "9")
    assert grade.feedback.warnings == ()


@pytest.mark.parametrize(("hours", "marks"), [(1, 3), (2, 5)])
def test_refuse_accepts_the_grade_once_the_student_has_enough_marks(world, journal, hours, marks):
    journal.assignment.hours_per_week = hours
    journal.assignment.save()
    set_policy(world, "refuse")
    give_marks(world, journal, marks - 1)
    with pytest.raises(DomainError):
        period_grade(world, journal, "9")
    give_marks_more = WorkType.objects.get(school=world.school, code="test")
    with time_machine.travel(IN_TIME):
        services.record_mark(
            acting_user=world.teacher,
            lesson=journal.lesson,
            student=world.student,
            text="8",
            expected_version=0,
            work_type=give_marks_more,
        )
    assert period_grade(world, journal, "9").feedback.warnings == ()


def test_rule_applies_to_period_grades_only(world, journal):
    set_policy(world, "refuse")
    for kind in (GradeKind.THEMATIC, GradeKind.EXAM):
        assert period_grade(world, journal, "9", kind=kind).feedback.warnings == ()


@pytest.mark.parametrize(("policy", "status", "codes"), [("off", 200, []), ("warn", 200, ["too_few_marks"])])
@time_machine.travel(GRADES_DAY)
def test_grid_save_answers_with_the_warnings(world, journal, as_user, policy, status, codes):
    set_policy(world, policy)
    res = grid_save(as_user(world.teacher), world, journal, "9")
    assert res.status_code == status
    assert [w["code"] for w in res.json()["warnings"]] == codes
    assert PeriodGrade.objects.get().value.code == "9"


@time_machine.travel(GRADES_DAY)
def test_grid_save_under_refuse_is_a_422_at_the_cell(world, journal, as_user):
    set_policy(world, "refuse")
    res = grid_save(as_user(world.teacher), world, journal, "9")
    assert res.status_code == 422
    error = res.json()["error"]
    assert error["code"] == "too_few_marks" and "0 of the 5" in error["message"]
    assert error["fields"]["value"] == [error["message"]]
    assert not PeriodGrade.objects.exists()
    assert grid_save(as_user(world.teacher), world, journal, "н/а").status_code == 200


@pytest.mark.parametrize(("policy", "status"), [("off", 200), ("warn", 200), ("refuse", 422)])
@time_machine.travel(GRADES_DAY)
def test_api_write_follows_the_policy(world, journal, as_user, policy, status):
    set_policy(world, policy)
    res = api_put(as_user(world.teacher), world, journal, "9")
    assert res.status_code == status
    if status == 422:
        assert res.json()["error"]["code"] == "too_few_marks"
        assert not PeriodGrade.objects.exists()
    else:
        assert [w["code"] for w in res.json()["warnings"]] == (["too_few_marks"] if policy == "warn" else [])
        assert res.json()["basis"] is None


# --- Warnings visible in the grid page and the grid API -------------------------------------------


def grid_page(client, world, journal):
    url = reverse("journal:grid", args=[world.school.slug, journal.assignment.pk])
    return client.get(f"{url}?period={journal.semester.pk}")


@time_machine.travel(GRADES_DAY)
def test_grid_flags_the_period_grade_given_with_too_few_marks(world, journal, as_user):
    give_marks(world, journal, 1)
    period_grade(world, journal, "9")
    other = f.make_student(world.class_a)
    period_grade(world, journal, "н/а", student=other)
    res = grid_page(as_user(world.deputy), world, journal)
    html = res.content.decode()
    cell = next(c for c in html.split("<td") if 'class="c ro pv locked warn"' in c)
    assert "1 mark in the period" in cell and ">9</td>" in cell
    assert html.count(" warn") == 1  # the н/а grade is not flagged
    notes = res.context["grid"].notes
    assert notes[world.student.pk].period_warning.code == "too_few_marks"
    assert notes[other.pk].period_warning is None


@time_machine.travel(GRADES_DAY)
def test_grid_shows_no_flag_when_the_school_does_not_check(world, journal, as_user):
    period_grade(world, journal, "9")
    set_policy(world, "off")
    assert " warn" not in grid_page(as_user(world.teacher), world, journal).content.decode()


@time_machine.travel(GRADES_DAY)
def test_grid_api_lists_the_warning_and_who_is_below(world, journal, as_user):
    give_marks(world, journal, 5)
    other = f.make_student(world.class_a)
    period_grade(world, journal, "9", student=other)
    path = f"/api/v1/schools/{world.school.slug}/journal/assignments/{journal.assignment.pk}/grid"
    data = as_user(world.teacher).get(f"{path}?period={journal.semester.pk}").json()
    rows = {a["student"]: a for a in data["accumulation"]}
    assert (rows[world.student.pk]["below_rule"], rows[world.student.pk]["warnings"]) == (False, [])
    assert rows[other.pk]["below_rule"] is True
    assert [w["code"] for w in rows[other.pk]["warnings"]] == ["too_few_marks"]


# --- Students who left, one count for a whole journal -----------------------------------------------


def test_a_student_who_left_without_a_grade_is_not_flagged_but_a_grade_given_is(world, journal):
    left = f.make_student(world.class_a)
    Enrolment.objects.filter(student=left).update(end=dt.date(2026, 11, 1))
    acc = rules.accumulation(journal.assignment, journal.semester)
    assert acc[left.pk].stays is False and acc[world.student.pk].stays is True
    policy = rules.policy_for(world.school.pk)
    assert rules.accumulation_warning(acc[left.pk], None, policy) is None
    assert rules.accumulation_warning(acc[world.student.pk], None, policy).code == "too_few_marks"
    grade = period_grade(world, journal, "9", student=left)
    assert [w.code for w in grade.feedback.warnings] == ["too_few_marks"]


@pytest.mark.parametrize("extra", [0, 30])
def test_accumulation_of_a_whole_journal_costs_two_queries(world, journal, django_assert_num_queries, extra):
    f.make_grid(journal.assignment, students=extra, lessons=10)
    policy = rules.policy_for(world.school.pk)
    with django_assert_num_queries(2):
        counts = rules.accumulation(journal.assignment, journal.semester, policy=policy)
    assert len(counts) == 1 + extra


@pytest.mark.parametrize("extra", [0, 30])
def test_period_grade_notes_cost_the_same_for_any_class_size(world, journal, django_assert_num_queries, extra):
    f.make_grid(journal.assignment, students=extra, lessons=10)
    policy = rules.policy_for(world.school.pk)
    with django_assert_num_queries(4):
        notes = rules.period_grade_notes(journal.assignment, journal.semester, policy=policy)
    assert len(notes) == 1 + extra


def test_subgroup_journal_counts_its_members_only(world, journal):
    subgroup = f.SubgroupFactory(school_class=world.class_a)
    other = f.make_student(world.class_a)
    subgroup.students.add(other)
    journal.assignment.subgroup = subgroup
    journal.assignment.save()
    assert set(rules.accumulation(journal.assignment, journal.semester)) == {other.pk}


# --- The deputy's control page --------------------------------------------------------------------


def control_url(world, **params):
    url = reverse("control:accumulation", kwargs={"school": world.school.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


@pytest.fixture
def current_year(world, journal):
    year = journal.assignment.year
    year.is_current = True
    year.save()
    return year


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("deputy", 200),
        ("director", 200),
        ("admin", 200),
        ("viewer", 200),
        ("teacher", 403),
        ("other_teacher", 403),
        ("class_teacher", 403),
        ("secretary", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),
        ("foreign_teacher", 404),
        ("anonymous", 302),
    ],
)
def test_control_page_is_for_the_administration_and_viewers(world, journal, current_year, as_user, persona, status):
    period_grade(world, journal, "9")
    res = as_user(world.persona(persona)).get(control_url(world, period=journal.semester.pk))
    assert res.status_code == status
    if status == 200:
        assert world.student.user.last_name in res.content.decode()
    elif status == 302:
        assert "login" in res["Location"]


def test_control_page_lists_students_below_the_rule_per_journal(world, journal, current_year, as_user):
    give_marks(world, journal, 5)
    low = f.make_student(world.class_a)
    give_marks(world, journal, 1, student=low)
    period_grade(world, journal, "8", student=low)
    na = f.make_student(world.class_a)
    period_grade(world, journal, "н/а", student=na)
    res = as_user(world.deputy).get(control_url(world, period=journal.semester.pk, **{"class": world.class_a.pk}))
    [(assignment, below)] = res.context["rows"]
    assert assignment.pk == journal.assignment.pk
    assert [(b.student_id, b.count, b.required, b.grade) for b in below] == [(low.pk, 1, 5, "8")]
    assert "1 of 5 marks" in res.content.decode()


def test_control_page_says_when_the_school_does_not_check(world, journal, current_year, as_user):
    set_policy(world, "off")
    res = as_user(world.deputy).get(control_url(world, period=journal.semester.pk))
    assert res.context["rows"] == []
    assert "does not check" in res.content.decode()


def test_control_page_filters_by_teacher(world, journal, current_year, as_user):
    res = as_user(world.deputy).get(control_url(world, period=journal.semester.pk, teacher=world.other_teacher.pk))
    assert all(a.teacher_id == world.other_teacher.pk for a, _below in res.context["rows"])


@pytest.mark.parametrize("journals", [1, 6])
def test_control_page_costs_the_same_for_any_number_of_journals(
    world, journal, current_year, as_user, django_assert_max_num_queries, journals
):
    for _ in range(journals - 1):
        f.make_grid(f.make_assignment(world.teacher, world.class_a), students=3, lessons=3)
    client = as_user(world.deputy)
    client.get(control_url(world, period=journal.semester.pk))
    with django_assert_max_num_queries(22):
        res = client.get(control_url(world, period=journal.semester.pk))
    assert len(res.context["rows"]) == journals + 1  # and the other teacher's journal of 5-Б
