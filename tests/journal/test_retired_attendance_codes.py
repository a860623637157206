"""A school retires an attendance code: old records keep it, nobody enters it any more (R2.8)."""

from __future__ import annotations

import json

import pytest
import time_machine
from django.urls import reverse

from classbook.core.errors import DomainError
from classbook.core.models import AuditEntry
from classbook.journal import services
from classbook.journal.models import Attendance, AttendanceCode, JournalChange
from tests.journal.conftest import IN_TIME

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_in_time")]


@pytest.fixture
def _in_time():
    with time_machine.travel(IN_TIME, tick=False):
        yield


@pytest.fixture
def absent(world, journal):
    return AttendanceCode.objects.get(school=world.school, code="н")


def edit_url(world, code):
    return reverse(
        "journal_settings:edit", kwargs={"school": world.school.slug, "section": "attendance-codes", "pk": code.pk}
    )


def retire(client, world, code):
    return client.post(
        edit_url(world, code),
        {"code": code.code, "name": code.name, "counts_as_absent": "on", "ordinal": str(code.ordinal)},
    )  # "is_active" left out: the checkbox is off


def save_cell(client, world, journal, value, version="0.0"):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {
            "kind": "lesson",
            "lesson": journal.lesson.pk,
            "student": world.student.pk,
            "value": value,
            "version": version,
        },
    )


def test_deputy_retires_a_code_and_old_records_keep_it(world, journal, as_user, absent):
    old = services.record_attendance(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
    )
    deputy = as_user(world.deputy)
    listing = reverse("journal_settings:list", kwargs={"school": world.school.slug, "section": "attendance-codes"})
    response = retire(deputy, world, absent)
    assert response.status_code == 302
    absent.refresh_from_db()
    assert not absent.is_active
    assert AuditEntry.objects.filter(action="journal.attendancecode.updated").exists()
    assert deputy.get(listing).status_code == 200

    teacher = as_user(world.teacher)
    page = teacher.get(reverse("journal:grid", args=[world.school.slug, journal.assignment.pk]))
    html = page.content.decode()
    # The old absence is still shown; the code is no longer offered.
    assert f'data-s="{world.student.pk}" data-v="0.1">н</td>' in html
    assert page.context["config"]["attendanceCodes"] == []
    assert "<b>н</b>" not in html

    # Its history stays; it can be cleared (the student was present after all) but not entered again.
    assert JournalChange.objects.filter(object_id=old.pk, new_value="н").exists()
    refused = save_cell(teacher, world, journal, "Н", version="0.1")
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "retired_attendance"
    cleared = save_cell(teacher, world, journal, "", version="0.1")
    assert cleared.status_code == 200 and cleared.json()["value"] == ""
    assert Attendance.objects.get(pk=old.pk).code_id is None
    assert save_cell(teacher, world, journal, "н", version="0.2").status_code == 422
    assert Attendance.objects.get(pk=old.pk).code_id is None


def test_services_and_api_refuse_a_retired_code(world, journal, as_user, absent):
    AttendanceCode.objects.filter(pk=absent.pk).update(is_active=False)
    with pytest.raises(DomainError) as exc:
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
        )
    assert exc.value.code == "retired_attendance"
    client = as_user(world.teacher)
    res = client.put(
        f"/api/v1/schools/{world.school.slug}/journal/lessons/{journal.lesson.pk}/attendance",
        data=json.dumps({"student": world.student.pk, "text": "н", "expected_version": 0}),
        content_type="application/json",
    )
    assert res.status_code == 422
    assert not Attendance.objects.exists()
    # An unknown code lists only the codes in use.
    with pytest.raises(DomainError) as exc:
        services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="x", expected_version=0
        )
    assert "н" not in str(exc.value.message).split("Allowed:")[-1]


def test_a_retired_code_comes_back_into_use(world, journal, as_user, absent):
    AttendanceCode.objects.filter(pk=absent.pk).update(is_active=False)
    response = as_user(world.deputy).post(
        edit_url(world, absent),
        {"code": "н", "name": absent.name, "counts_as_absent": "on", "is_active": "on", "ordinal": "0"},
    )
    assert response.status_code == 302
    assert save_cell(as_user(world.teacher), world, journal, "н").status_code == 200


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("teacher", 403),
        ("class_teacher", 403),
        ("viewer", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),
    ],
)
def test_only_structure_managers_retire_codes(world, journal, as_user, absent, persona, status):
    assert retire(as_user(world.persona(persona)), world, absent).status_code == status
    absent.refresh_from_db()
    assert absent.is_active


def test_anonymous_cannot_retire_a_code(world, journal, client, absent):
    assert retire(client, world, absent).status_code == 302  # to the login page
    absent.refresh_from_db()
    assert absent.is_active
