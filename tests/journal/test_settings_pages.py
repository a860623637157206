"""The school's journal rules, work types and attendance codes in the administration area (R2.2, R2.5-R2.8)."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from classbook.core.models import AuditEntry
from classbook.journal import services
from classbook.journal.models import AttendanceCode, JournalPolicy, WorkType
from tests.journal.conftest import IN_TIME

pytestmark = pytest.mark.django_db


def url(world, name, **kwargs):
    return reverse(f"journal_settings:{name}", kwargs={"school": world.school.slug, **kwargs})


POLICY = {
    "correction_window_days": "5",
    "min_marks_one_hour": "3",
    "min_marks_more_hours": "4",
    "accumulation_policy": "refuse",
    "annual_grade_rule": "mean",
    "director_corrects": "on",
    "admin_corrects": "on",
    "weighted_averages": "on",
}

# persona -> (read rules page, save rules, add work type)
ACCESS = [
    ("admin", 200, 302, 302),
    ("director", 200, 302, 302),
    ("deputy", 200, 403, 302),  # manages structure, not the school's settings
    ("viewer", 200, 403, 403),  # authority: reads only
    ("secretary", 403, 403, 403),
    ("teacher", 403, 403, 403),
    ("class_teacher", 403, 403, 403),
    ("student", 403, 403, 403),
    ("parent", 403, 403, 403),
    ("foreign_admin", 404, 404, 404),
]


@pytest.mark.parametrize(("persona", "read", "save_rules", "add_type"), ACCESS)
def test_journal_settings_permissions(world, journal, as_user, persona, read, save_rules, add_type):
    client = as_user(world.persona(persona))
    assert client.get(url(world, "rules")).status_code == read
    assert client.get(url(world, "list", section="work-types")).status_code == read
    assert client.get(url(world, "list", section="attendance-codes")).status_code == read

    response = client.post(url(world, "rules"), POLICY)
    assert response.status_code == save_rules
    policy = JournalPolicy.objects.get(school=world.school)
    assert (policy.correction_window_days == 5) == (save_rules == 302)

    response = client.post(
        url(world, "new", section="work-types"),
        {"code": "project", "name": "Проєкт", "short_name": "Пр", "weight": "2", "is_active": "on", "ordinal": "9"},
    )
    assert response.status_code == add_type
    assert WorkType.objects.filter(school=world.school, code="project").exists() == (add_type == 302)


def test_saving_rules_is_audited_and_used(world, journal, as_user):
    as_user(world.director).post(url(world, "rules"), POLICY)
    policy = JournalPolicy.objects.get(school=world.school)
    assert policy.correction_roles() == frozenset({"director", "admin"})
    assert policy.accumulation_policy == "refuse"
    entry = AuditEntry.objects.get(action="journal.journalpolicy.updated")
    assert entry.data["new"]["correction_window_days"] == "5"
    assert entry.data["new"]["accumulation_policy"] == "refuse"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("correction_window_days", "61"),
        ("correction_window_days", "x"),
        ("min_marks_one_hour", ""),
        ("accumulation_policy", "sometimes"),
        ("annual_grade_rule", ""),
    ],
)
def test_bad_rules_input_shows_the_form_again_and_changes_nothing(world, journal, as_user, field, value):
    response = as_user(world.director).post(url(world, "rules"), {**POLICY, field: value})
    assert response.status_code == 200 and response.context["form"].errors
    assert JournalPolicy.objects.get(school=world.school).correction_window_days == 3


def test_read_only_viewer_sees_a_disabled_form(world, journal, as_user):
    response = as_user(world.viewer).get(url(world, "rules"))
    assert all(f.disabled for f in response.context["form"].fields.values())
    assert not response.context["can_write"]


def test_deputy_edits_an_attendance_code_and_a_duplicate_code_is_refused(world, journal, as_user):
    client = as_user(world.deputy)
    code = AttendanceCode.objects.filter(school=world.school).first()
    response = client.post(
        url(world, "edit", section="attendance-codes", pk=code.pk),
        {"code": code.code, "name": "Відсутній", "counts_as_absent": "on", "ordinal": "0"},
    )
    assert response.status_code == 302
    code.refresh_from_db()
    assert code.name == "Відсутній"
    assert AuditEntry.objects.filter(action="journal.attendancecode.updated").exists()
    count = AttendanceCode.objects.count()
    response = client.post(
        url(world, "new", section="attendance-codes"), {"code": code.code, "name": "Дубль", "ordinal": "5"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert AttendanceCode.objects.count() == count


@pytest.mark.parametrize("weight", ["abc", "-1", "100"])
def test_bad_work_type_input_is_refused(world, journal, as_user, weight):
    count = WorkType.objects.count()
    response = as_user(world.deputy).post(
        url(world, "new", section="work-types"), {"code": "x", "name": "X", "weight": weight, "ordinal": "1"}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert WorkType.objects.count() == count


def test_work_type_in_use_is_not_deleted_but_may_be_deactivated(world, journal, as_user):
    with time_machine.travel(IN_TIME):
        mark = services.record_mark(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="10", expected_version=0
        )
    work_type = mark.work_type
    client = as_user(world.deputy)
    response = client.post(url(world, "delete", section="work-types", pk=work_type.pk))
    assert response.status_code == 302
    assert WorkType.objects.filter(pk=work_type.pk).exists()
    page = client.get(response["Location"]).content.decode()
    assert "in use" in page or "використ" in page.lower()
    unused = WorkType.objects.filter(school=world.school).exclude(pk=work_type.pk).first()
    assert client.post(url(world, "delete", section="work-types", pk=unused.pk)).status_code == 302
    assert not WorkType.objects.filter(pk=unused.pk).exists()
    assert AuditEntry.objects.filter(action="journal.worktype.deleted").count() == 1


def test_attendance_code_in_use_is_not_deleted(world, journal, as_user):
    with time_machine.travel(IN_TIME):
        att = services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
        )
    response = as_user(world.deputy).post(url(world, "delete", section="attendance-codes", pk=att.code_id))
    assert response.status_code == 302
    assert AttendanceCode.objects.filter(pk=att.code_id).exists()


def test_other_schools_rows_are_not_found(world, journal, as_user):
    foreign = WorkType.objects.filter(school=world.other_school).first()
    client = as_user(world.deputy)
    assert client.get(url(world, "edit", section="work-types", pk=foreign.pk)).status_code == 404
    assert client.post(url(world, "delete", section="work-types", pk=foreign.pk)).status_code == 404
    assert WorkType.objects.filter(pk=foreign.pk).exists()
    assert client.get(url(world, "list", section="bogus")).status_code == 404


def test_list_pages_take_a_constant_number_of_queries(world, journal, as_user, django_assert_max_num_queries):
    client = as_user(world.deputy)
    client.get(url(world, "list", section="work-types"))
    with django_assert_max_num_queries(12):
        assert client.get(url(world, "list", section="work-types")).status_code == 200


def test_administration_home_links_to_the_journal_rules(world, as_user):
    html = as_user(world.deputy).get(reverse("schools:manage", args=[world.school.slug])).content.decode()
    assert url(world, "rules") in html
