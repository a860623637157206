"""Families' contact details (addresses, phones, e-mails) are shown only to those who need them.

An education-authority viewer reads the school's records (R1.1) but not where families live or how
to call them (personal-data minimisation); the class teacher sees their own class's contacts (R7.3).
"""

from __future__ import annotations

import pytest

from tests.roster.conftest import url

ADDRESS, PHONE, PARENT_PHONE, PARENT_MAIL = "вул. Шевченка, 12", "+380501112233", "+380671234567", "mama@example.org"


@pytest.fixture
def contacts(world):
    student = world.student
    student.address, student.phone = ADDRESS, PHONE
    student.save()
    world.parent.phone, world.parent.email = PARENT_PHONE, PARENT_MAIL
    world.parent.save()
    return world


SEES = ["admin", "director", "deputy", "secretary", "class_teacher"]


@pytest.mark.parametrize("persona", [*SEES, "viewer"])
def test_student_card_and_class_page_show_contacts_only_to_those_who_need_them(contacts, as_user, persona):
    client = as_user(contacts.persona(persona))
    card = client.get(url("student", student_id=contacts.student.pk)).content.decode()
    page = client.get(url("class", class_id=contacts.class_a.pk)).content.decode()
    for text in (ADDRESS, PHONE, PARENT_PHONE, PARENT_MAIL):
        assert (text in card) is (persona in SEES), text
    for text in (PHONE, PARENT_PHONE):
        assert (text in page) is (persona in SEES), text
    assert contacts.student.user.last_name in card  # the record itself stays readable


@pytest.mark.parametrize("persona", [*SEES, "viewer"])
def test_api_student_and_guardians_hide_contacts_from_the_authority_viewer(contacts, as_user, persona):
    client = as_user(contacts.persona(persona))
    base = f"/api/v1/schools/lyceum-1/students/{contacts.student.pk}"
    detail = client.get(base).json()
    guardians = client.get(f"{base}/guardians").json()["items"]
    listed = client.get(f"/api/v1/schools/lyceum-1/students?class_id={contacts.class_a.pk}").json()["items"]
    row = next(s for s in listed if s["id"] == contacts.student.pk)
    visible = persona in SEES
    assert (detail["address"] == ADDRESS) is visible and (row["phone"] == PHONE) is visible
    assert (detail["guardians"][0]["phone"] == PARENT_PHONE) is visible
    assert (guardians[0]["email"] == PARENT_MAIL) is visible
    assert detail["last_name"] == contacts.student.user.last_name
