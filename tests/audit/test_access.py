"""Who may read a school's audit log (VIEW_AUDIT_LOG: administrators and directors), through the page and
the API, and that nothing of another school ever appears in it."""

from __future__ import annotations

import pytest
from django.test import Client

from classbook.core.audit import log_action
from classbook.people import credentials
from classbook.people.models import Membership, Role
from tests import factories as f

PAGE = "/s/lyceum-1/audit/"
API = "/api/v1/schools/lyceum-1/audit"

# persona: status of the page, status of the API
TABLE = [
    ("admin", 200, 200),
    ("director", 200, 200),
    ("deputy", 403, 403),
    ("secretary", 403, 403),
    ("teacher", 403, 403),
    ("class_teacher", 403, 403),
    ("student", 403, 403),
    ("parent", 403, 403),
    ("viewer", 403, 403),  # an education authority reads journals, not the school's audit log
    ("foreign_admin", 404, 404),
    ("foreign_teacher", 404, 404),
]


@pytest.mark.parametrize(("persona", "page", "api"), TABLE)
def test_audit_log_is_for_administrators_and_directors_only(world, as_user, persona, page, api):
    log_action("test.secret", actor=world.admin, school=world.school, data={"note": "lyceum only"})
    client = as_user(world.persona(persona))
    response = client.get(PAGE)
    assert response.status_code == page
    assert ("test.secret" in response.content.decode()) is (page == 200)
    response = client.get(API)
    assert response.status_code == api
    if api == 200:
        assert [e["action"] for e in response.json()["items"]] == ["test.secret"]
    else:
        assert "items" not in response.json() and "error" in response.json()


def test_director_of_another_school_gets_404(world, as_user):
    director = f.make_member(world.other_school, Role.DIRECTOR, username="foreigndirector")
    assert as_user(director).get(PAGE).status_code == 404
    assert as_user(director).get(API).status_code == 404


def test_a_deactivated_role_no_longer_opens_the_log(world, as_user):
    Membership.objects.filter(user=world.director, school=world.school).update(is_active=False)
    assert as_user(world.director).get(PAGE).status_code == 404
    assert as_user(world.director).get(API).status_code == 404


def test_anonymous_is_sent_to_login_and_the_api_answers_401(world):
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().get(API).status_code == 401


def test_api_token_of_an_administrator_reads_the_log(world):
    log_action("test.secret", actor=world.admin, school=world.school)
    _row, token = credentials.create_api_token(user=world.admin, name="audit")
    response = Client().get(API, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert "test.secret" in {e["action"] for e in response.json()["items"]}


def test_nothing_of_another_school_is_shown(world, as_user):
    """School B's entries, and school-less entries about people who are only B's, stay out of A's log,
    whatever the filter (by B's people, B's objects, B's actions)."""
    log_action("test.mine", actor=world.admin, school=world.school)
    log_action("test.theirs", actor=world.foreign_admin, school=world.other_school, obj=world.foreign_teacher)
    log_action("test.theirs", actor=world.admin, school=world.other_school, obj=world.teacher)
    credentials.record_login(user=world.foreign_teacher, ip="10.9.9.9", user_agent="x", method="password")
    queries = [
        "",
        f"?person={world.foreign_teacher.pk}",
        f"?person={world.teacher.pk}",
        "?action=test.theirs",
        "?action=test.",
        "?action=people.",
        f"?object_type=people.user&object_id={world.foreign_teacher.pk}",
    ]
    for query in queries:
        response = as_user(world.admin).get(PAGE + query)
        assert {r.action for r in response.context["page"].rows} <= {"test.mine"}, query
        assert "10.9.9.9" not in response.content.decode()
        body = as_user(world.admin).get(API + query).json()
        assert {e["action"] for e in body["items"]} <= {"test.mine"}, (query, body)
    theirs = as_user(world.foreign_admin).get("/api/v1/schools/gymnasium-2/audit").json()["items"]
    assert {e["action"] for e in theirs} == {"test.theirs", "people.login"}


def test_person_filter_does_not_find_people_of_other_schools_by_login_name(world, as_user):
    page = as_user(world.admin).get(PAGE + "?person=foreignteacher").content.decode()
    assert "Nobody with this login name or number has a role in this school." in page
    assert "Nobody with this login name" in as_user(world.admin).get(PAGE + "?person=no-such-name").content.decode()


def test_the_page_names_the_data_keys_in_the_reader_s_language_and_the_api_keeps_them(world, as_user):
    log_action("test.named", actor=world.admin, school=world.school, data={"reason": "typo", "odd_key": 1})
    client = as_user(world.admin)
    client.cookies["django_language"] = "uk"
    page = client.get(PAGE).content.decode()
    assert "Причина:" in page and "reason:" not in page
    assert "odd key:" in page  # a key without a label is shown, never hidden
    assert client.get(API).json()["items"][0]["data"] == {"reason": "typo", "odd_key": 1}
