"""Security events reach the log with the school and the person: roles given and removed, activation codes,
API tokens. (Logins and new devices: test_log.py.)"""

from __future__ import annotations

import pytest

from classbook.core.errors import ConflictError
from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import Role
from classbook.roster import services as roster


def _role_entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_granting_and_removing_a_role_is_logged_with_the_school_and_the_person(world):
    roster.grant_role(acting_user=world.admin, school=world.school, user=world.teacher, role=Role.DEPUTY)
    roster.revoke_role(acting_user=world.admin, school=world.school, user=world.teacher, role=Role.DEPUTY)
    roster.grant_role(acting_user=world.admin, school=world.school, user=world.teacher, role=Role.DEPUTY)
    granted, removed = _role_entries("people.role.granted"), _role_entries("people.role.removed")
    assert len(granted) == 2 and len(removed) == 1
    for e in granted + removed:
        assert (e.school, e.actor, e.subject, e.data["role"]) == (world.school, world.admin, world.teacher, "deputy")
        assert e.object_type == "people.membership"


def test_a_new_staff_member_gets_one_role_entry_per_role(world):
    user = roster.add_staff_member(
        acting_user=world.admin,
        school=world.school,
        data={"last_name": "Шевченко", "first_name": "Тарас"},
        roles=[Role.TEACHER, Role.SECRETARY],
    )
    rows = _role_entries("people.role.granted")
    assert sorted(e.data["role"] for e in rows) == ["secretary", "teacher"]
    assert {(e.school_id, e.subject_id) for e in rows} == {(world.school.pk, user.pk)}


def test_a_refused_role_change_writes_nothing(world):
    before = AuditEntry.objects.count()
    with pytest.raises(ConflictError):
        roster.grant_role(acting_user=world.admin, school=world.school, user=world.teacher, role=Role.TEACHER)
    with pytest.raises(ConflictError):
        roster.revoke_role(acting_user=world.admin, school=world.school, user=world.admin, role=Role.ADMIN)
    assert AuditEntry.objects.count() == before


def test_codes_and_tokens_are_logged_about_their_person(world, as_user):
    credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.parent])
    credentials.revoke_activation_codes(acting_user=world.admin, school=world.school, user=world.parent)
    row, _token = credentials.create_api_token(user=world.teacher, name="phone")
    credentials.revoke_api_token(user=world.teacher, token_id=row.pk)
    subjects = dict(
        AuditEntry.objects.filter(action__startswith="people.").values_list("action", "subject_id").order_by("id")
    )
    assert subjects == {
        "people.activation_code.issued": world.parent.pk,
        "people.activation_code.revoked": world.parent.pk,
        "people.api_token.created": world.teacher.pk,
        "people.api_token.revoked": world.teacher.pk,
    }
    items = as_user(world.admin).get(f"/api/v1/schools/lyceum-1/audit?person={world.parent.pk}").json()["items"]
    assert [e["label"] for e in items] == ["Activation code withdrawn", "Activation code issued"]
    teacher_items = as_user(world.admin).get(f"/api/v1/schools/lyceum-1/audit?person={world.teacher.pk}").json()
    assert {e["action"] for e in teacher_items["items"]} == {"people.api_token.created", "people.api_token.revoked"}


def test_role_changes_through_the_staff_page_are_in_the_log_page(world, as_user):
    client = as_user(world.admin)
    response = client.post(f"/s/lyceum-1/roster/staff/{world.teacher.pk}/roles/grant/", {"role": "deputy"})
    assert response.status_code in (200, 302)
    rows = client.get("/s/lyceum-1/audit/?action=people.role.").context["page"].rows
    assert [(r.label, r.subject_id) for r in rows] == [("Role granted", world.teacher.pk)]
