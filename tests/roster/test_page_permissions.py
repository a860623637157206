"""Who may open which roster page and who may change what: persona × page × method → status.

Forbidden pages answer 403, rows outside the user's scope 404, anonymous users go to the login
page; a refused request changes nothing.
"""

from __future__ import annotations

import pytest

from classbook.people.models import Consent, GuardianLink, Membership
from tests.roster.conftest import ALL_PERSONAS, snapshot, url

# Expected GET status per persona, in ALL_PERSONAS order.
#            adm  dir  dep  sec  tea  ct   ot   stu  par  opa  vie  fad  anon
STAFF = [200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404, 302]
ROSTER = [200, 200, 200, 200, 403, 200, 403, 403, 403, 403, 200, 404, 302]
OTHER_CLASS = [200, 200, 200, 200, 403, 404, 403, 403, 403, 403, 200, 404, 302]
ALL_STUDENTS = [200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 200, 404, 302]
MANAGE_STUDENTS = [200, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 404, 302]
EDIT_CONTACTS = [200, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 404, 302]
MANAGE_STAFF_WRITE = [200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404, 302]

PAGES = {
    "staff": (lambda w: url("staff"), STAFF),
    "staff_add": (lambda w: url("staff_add"), MANAGE_STAFF_WRITE),
    "staff_member": (lambda w: url("staff_member", user_id=w.teacher.pk), STAFF),
    "students": (lambda w: url("students"), ROSTER),
    "student_search": (lambda w: url("students") + "?q=Прізвище", ROSTER),
    "student_card": (lambda w: url("student", student_id=w.student.pk), ROSTER),
    "other_class_student_card": (lambda w: url("student", student_id=w.other_student.pk), OTHER_CLASS),
    "student_edit": (lambda w: url("student_edit", student_id=w.student.pk), EDIT_CONTACTS),
    "student_add": (lambda w: url("student_add"), MANAGE_STUDENTS),
    "book": (lambda w: url("book"), ALL_STUDENTS),
    "consents": (lambda w: url("consents"), ROSTER),
    "class_page": (lambda w: url("class", class_id=w.class_a.pk), ROSTER),
    "other_class_page": (lambda w: url("class", class_id=w.class_b.pk), OTHER_CLASS),
    "guardian_edit": (lambda w: url("guardian_edit", user_id=w.parent.pk), EDIT_CONTACTS),
}

CASES = [
    pytest.param(page, persona, expected[i], id=f"{page}-{persona}")
    for page, (_, expected) in PAGES.items()
    for i, persona in enumerate(ALL_PERSONAS)
]


@pytest.mark.parametrize(("page", "persona", "expected"), CASES)
def test_page_access(world, as_user, page, persona, expected):
    make_url, _ = PAGES[page]
    response = as_user(world.persona(persona)).get(make_url(world))
    assert response.status_code == expected
    if expected == 302:
        assert "/accounts/login" in response["Location"] or "login" in response["Location"]


def test_foreign_school_ids_are_404_even_for_an_administrator(world, as_user):
    client = as_user(world.admin)
    assert client.get(url("student", student_id=world.foreign_student.pk)).status_code == 404
    assert client.get(url("class", class_id=world.foreign_class.pk)).status_code == 404
    assert client.get(url("staff_member", user_id=world.foreign_admin.pk)).status_code == 404


# --- writes: persona × action → status, and nothing changes when refused ------------------------------

#                 adm  dir  dep  sec  tea  ct   ot   stu  par  opa  vie  fad  anon
WITHDRAW = [302, 403, 403, 302, 403, 403, 403, 403, 403, 403, 403, 404, 302]
CONSENT = [302, 403, 403, 302, 403, 302, 403, 403, 403, 403, 403, 404, 302]
REVOKE = [302, 302, 403, 403, 403, 403, 403, 403, 403, 403, 403, 404, 302]
GUARDIAN = [302, 403, 403, 302, 403, 403, 403, 403, 403, 403, 403, 404, 302]
CONTACTS = [302, 403, 403, 302, 403, 302, 403, 403, 403, 403, 403, 404, 302]


def _withdraw(w):
    return url("student_withdraw", student_id=w.student.pk), {"on": "2026-11-16"}


def _consent(w):
    data = {"purpose": "personal_data", "given_by": "Мати", "given_on": "2026-09-01"}
    return url("consent_add", student_id=w.student.pk), data


def _revoke(w):
    return url("role_revoke", user_id=w.deputy.pk), {"role": "deputy"}


def _end_link(w):
    link = GuardianLink.objects.get(guardian=w.parent, student=w.student)
    return url("guardian_end", link_id=link.pk), {}


def _edit_contacts(w):
    # Names as they are: the secretary's form asks for them, the class teacher's ignores them.
    names = {"last_name": w.student.user.last_name, "first_name": w.student.user.first_name}
    return url("student_edit", student_id=w.student.pk), {**names, "address": "вул. Шкільна, 1", "phone": "+38050"}


def _changed(w, action):
    if action == "withdraw":
        w.student.refresh_from_db()
        return w.student.left_on is not None
    if action == "consent":
        return Consent.objects.filter(student=w.student).exists()
    if action == "revoke":
        return not Membership.objects.get(user=w.deputy, role="deputy").is_active
    if action == "end_link":
        return GuardianLink.objects.get(guardian=w.parent, student=w.student).ended_on is not None
    w.student.refresh_from_db()
    return w.student.address == "вул. Шкільна, 1"


WRITES = {
    "withdraw": (_withdraw, WITHDRAW),
    "consent": (_consent, CONSENT),
    "revoke": (_revoke, REVOKE),
    "end_link": (_end_link, GUARDIAN),
    "edit_contacts": (_edit_contacts, CONTACTS),
}
WRITE_CASES = [
    pytest.param(action, persona, expected[i], id=f"{action}-{persona}")
    for action, (_, expected) in WRITES.items()
    for i, persona in enumerate(ALL_PERSONAS)
]


@pytest.mark.parametrize(("action", "persona", "expected"), WRITE_CASES)
def test_write_access_and_refusals_change_nothing(world, as_user, action, persona, expected):
    make, _ = WRITES[action]
    target, data = make(world)
    allowed = expected == 302 and persona != "anonymous"
    before = snapshot()
    response = as_user(world.persona(persona)).post(target, data)
    assert response.status_code == expected
    if allowed:
        assert _changed(world, action)
    else:
        assert snapshot() == before


def test_a_class_teacher_cannot_record_a_consent_for_another_class(world, as_user):
    before = snapshot()
    response = as_user(world.class_teacher).post(
        url("consent_add", student_id=world.other_student.pk),
        {"purpose": "personal_data", "given_by": "Мати", "given_on": "2026-09-01"},
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_get_on_an_action_url_is_not_allowed(world, as_user):
    assert as_user(world.admin).get(url("student_withdraw", student_id=world.student.pk)).status_code == 405
