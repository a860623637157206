"""Deactivating and reactivating a person (issue 9): only an administrator of every school where the person
has a role; from that moment no login, no session, no API token, no activation code; audited with a reason."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from classbook.access import accounts
from classbook.access.context import resolve_school
from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import Membership, Role, UserSession
from tests import factories as f
from tests.factories import PASSWORD
from tests.people.accounts_helpers import (
    REFUSED,
    gets_login_page,
    logged_in,
    run_commit_hooks,
    token_for,
    token_status,
)

WRONG_PASSWORD_MESSAGE = "Please enter a correct username and password"


def page(world, action: str, user) -> str:
    return reverse(f"school_people:account_{action}", kwargs={"school": world.school.slug, "user_id": user.pk})


def api(world, action: str, user) -> str:
    return f"/api/v1/schools/{world.school.slug}/accounts/{user.pk}/{action}"


def deactivate_by_page(world, actor, target, reason="Left the school"):
    return logged_in(actor.username).post(page(world, "deactivate", target), {"reason": reason})


# --- Who may: a table of personas x targets; a refused request writes nothing -----------------------------


@pytest.mark.parametrize("persona", [*REFUSED, "anonymous"])
@pytest.mark.parametrize("target", ["parent", "teacher", "student"])
def test_only_an_administrator_deactivates_through_page_or_api(world, as_user, persona, target):
    person = world.persona(target)
    actor = world.persona(persona)
    if actor is not None and actor.pk == person.pk:
        pytest.skip("acting on oneself is tested separately")
    client = as_user(actor)
    before = AuditEntry.objects.count()
    get = client.get(page(world, "deactivate", person))
    post = client.post(page(world, "deactivate", person), {"reason": "x"})
    call = client.post(api(world, "deactivate", person), {"reason": "x"}, content_type="application/json")
    listing = client.get(f"/api/v1/schools/{world.school.slug}/accounts")
    if persona == "anonymous":
        assert get.status_code == post.status_code == 302 and "/login/" in get["Location"]
        assert call.status_code == listing.status_code == 401
    else:
        assert {get.status_code, post.status_code, call.status_code, listing.status_code} <= {403, 404}
    person.refresh_from_db()
    assert person.is_active
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("persona", [*REFUSED, "anonymous"])
def test_only_an_administrator_reactivates(world, as_user, persona):
    world.other_parent.is_active = False
    world.other_parent.save(update_fields=["is_active"])
    client = as_user(world.persona(persona))
    post = client.post(page(world, "reactivate", world.other_parent), {"reason": "x"})
    call = client.post(api(world, "reactivate", world.other_parent), {"reason": "x"}, content_type="application/json")
    assert post.status_code in {302, 403, 404} and call.status_code in {401, 403, 404}
    world.other_parent.refresh_from_db()
    assert not world.other_parent.is_active
    assert not AuditEntry.objects.filter(action="people.user.reactivated").exists()


def test_the_administrator_of_the_other_school_cannot_reach_our_people(world, as_user):
    client = as_user(world.foreign_admin)
    for target in (world.parent, world.teacher):
        url = f"/api/v1/schools/{world.other_school.slug}/accounts/{target.pk}/deactivate"
        assert client.post(url, {"reason": "x"}, content_type="application/json").status_code == 404
        other = reverse(
            "school_people:account_deactivate", kwargs={"school": world.other_school.slug, "user_id": target.pk}
        )
        assert client.post(other, {"reason": "x"}).status_code == 404
    assert not AuditEntry.objects.filter(action="people.user.deactivated").exists()


@pytest.mark.parametrize("elsewhere", [Role.TEACHER, Role.ADMIN, Role.PARENT, Role.STUDENT])
def test_a_person_with_a_role_in_another_school_is_out_of_reach(world, as_user, elsewhere):
    """Parent here, anything there: deactivating them would lock them out of the other school too."""
    Membership.objects.create(school=world.other_school, user=world.parent, role=elsewhere)
    client = as_user(world.admin)
    assert client.post(page(world, "deactivate", world.parent), {"reason": "x"}).status_code == 404
    call = client.post(api(world, "deactivate", world.parent), {"reason": "x"}, content_type="application/json")
    assert call.status_code == 404
    listing = client.get(f"/api/v1/schools/{world.school.slug}/accounts?q={world.parent.username}").json()
    assert world.parent.pk not in {item["id"] for item in listing["items"]}
    world.parent.refresh_from_db()
    assert world.parent.is_active


def test_an_administrator_of_both_schools_reaches_a_person_of_both(world, as_user):
    Membership.objects.create(school=world.other_school, user=world.parent, role=Role.TEACHER)
    Membership.objects.create(school=world.other_school, user=world.admin, role=Role.ADMIN)
    assert deactivate_by_page(world, world.admin, world.parent).status_code == 302
    world.parent.refresh_from_db()
    assert not world.parent.is_active


def test_an_ended_family_role_elsewhere_does_not_block(world, as_user):
    import datetime as dt

    Membership.objects.create(
        school=world.other_school, user=world.parent, role=Role.PARENT, is_active=False, until=dt.date(2020, 1, 1)
    )
    assert deactivate_by_page(world, world.admin, world.parent).status_code == 302


def test_an_ended_staff_role_elsewhere_still_blocks(world, as_user):
    """The same counted memberships as activation codes: switching an ended staff role on again would hand
    staff powers to whoever now holds the account, so only an administrator of that school too may act."""
    import datetime as dt

    Membership.objects.create(
        school=world.other_school, user=world.parent, role=Role.ADMIN, is_active=False, until=dt.date(2020, 1, 1)
    )
    assert deactivate_by_page(world, world.admin, world.parent).status_code == 404


def test_oneself_an_authority_viewer_and_an_operator_are_out_of_reach(world):
    operator = f.make_member(world.school, Role.PARENT, username="operator", is_superuser=True)
    Membership.objects.create(school=world.school, user=world.viewer, role=Role.PARENT)
    ctx = resolve_school(world.admin, world.school.slug)
    for person in (world.admin, world.viewer, operator):
        assert not accounts.may_manage_credentials(ctx, person)
        assert deactivate_by_page(world, world.admin, person).status_code == 404
    assert accounts.may_manage_credentials(ctx, world.parent)


def test_a_read_only_authority_viewer_cannot_manage_accounts(world):
    ctx = resolve_school(world.viewer, world.school.slug)
    assert not accounts.may_manage_accounts(ctx)
    assert not accounts.people_for_credentials(ctx).exists()


# --- What deactivation does --------------------------------------------------------------------------------


@pytest.mark.parametrize("door", ["page", "api"])
def test_deactivation_ends_sessions_tokens_codes_and_logins_at_once(world, as_user, door):
    phone = logged_in("parent", agent="Phone")
    token = token_for(world.parent)
    issued = credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.parent])[0]
    if door == "page":
        response = deactivate_by_page(world, world.admin, world.parent)
        assert response.status_code == 302
    else:
        response = as_user(world.admin).post(
            api(world, "deactivate", world.parent), {"reason": "Left the school"}, content_type="application/json"
        )
        assert response.status_code == 200 and response.json()["is_active"] is False
    run_commit_hooks()
    world.parent.refresh_from_db()
    assert not world.parent.is_active
    entry = AuditEntry.objects.get(action="people.user.deactivated")
    assert (entry.actor_id, entry.object_id, entry.school_id) == (world.admin.pk, str(world.parent.pk), world.school.pk)
    assert entry.data == {"reason": "Left the school"}
    assert gets_login_page(phone)
    assert token_status(token) == 401
    assert not UserSession.objects.filter(user=world.parent).exists()
    assert credentials.find_usable_code(issued.code) is None
    activation = Client().post(reverse("people:activate"), {"code": issued.code})
    assert "not valid" in activation.content.decode()


def test_a_deactivated_persons_login_fails_like_a_wrong_password(world):
    deactivate_by_page(world, world.admin, world.parent)
    right = Client().post(reverse("people:login"), {"username": "parent", "password": PASSWORD})
    wrong = Client().post(reverse("people:login"), {"username": "teacher", "password": "not-the-password"})
    assert right.status_code == wrong.status_code == 200
    assert WRONG_PASSWORD_MESSAGE in right.content.decode()
    assert right.context["form"].errors == wrong.context["form"].errors
    assert not Client().login(username="parent", password=PASSWORD)


def test_reason_is_required_and_nothing_is_written_without_it(world, as_user):
    response = deactivate_by_page(world, world.admin, world.parent, reason="   ")
    assert response.status_code == 400
    call = as_user(world.admin).post(
        api(world, "deactivate", world.parent), {"reason": "  "}, content_type="application/json"
    )
    assert call.status_code == 422 and call.json()["error"]["fields"]["reason"]
    missing = as_user(world.admin).post(api(world, "deactivate", world.parent), {}, content_type="application/json")
    assert missing.status_code == 422
    world.parent.refresh_from_db()
    assert world.parent.is_active
    assert not AuditEntry.objects.filter(action="people.user.deactivated").exists()


def test_deactivating_twice_is_refused_with_a_message(world, as_user):
    deactivate_by_page(world, world.admin, world.parent)
    call = as_user(world.admin).post(
        api(world, "deactivate", world.parent), {"reason": "again"}, content_type="application/json"
    )
    assert call.status_code == 422 and call.json()["error"]["code"] == "already_deactivated"
    assert AuditEntry.objects.filter(action="people.user.deactivated").count() == 1


def test_a_session_of_a_deactivated_account_ends_at_the_next_request(world, settings):
    """Even with a backend that lets inactive users through, the session guard ends the session."""
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    client = logged_in("parent")
    token = token_for(world.parent)
    type(world.parent).objects.filter(pk=world.parent.pk).update(is_active=False)  # not through the service
    assert gets_login_page(client)
    assert client.get("/api/v1/me").status_code == 401
    assert token_status(token) == 401


# --- Reactivation ------------------------------------------------------------------------------------------


def test_reactivation_lets_the_person_log_in_but_restores_no_session_or_token(world, as_user):
    phone = logged_in("parent", agent="Phone")
    token = token_for(world.parent)
    deactivate_by_page(world, world.admin, world.parent)
    response = as_user(world.admin).post(
        api(world, "reactivate", world.parent), {"reason": "Came back"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["is_active"] is True
    run_commit_hooks()
    entry = AuditEntry.objects.get(action="people.user.reactivated")
    assert entry.actor_id == world.admin.pk and entry.data == {"reason": "Came back"}
    assert gets_login_page(phone)
    assert token_status(token) == 401
    assert logged_in("parent").get("/accounts/profile/").status_code == 200


def test_reactivating_through_the_page(world):
    deactivate_by_page(world, world.admin, world.parent)
    admin = logged_in("admin")
    assert admin.get(page(world, "reactivate", world.parent)).status_code == 200
    assert admin.post(page(world, "reactivate", world.parent), {"reason": "Came back"}).status_code == 302
    world.parent.refresh_from_db()
    assert world.parent.is_active


# --- The list ----------------------------------------------------------------------------------------------


def test_the_list_shows_the_schools_people_with_their_state_and_finds_by_name(world):
    deactivate_by_page(world, world.admin, world.other_parent)
    admin = logged_in("admin")
    url = reverse("school_people:accounts", kwargs={"school": world.school.slug})
    html = admin.get(url).content.decode()
    assert world.parent.username in html and world.teacher.username in html
    assert world.foreign_teacher.username not in html and world.viewer.username not in html
    deactivated = admin.get(url, {"state": "deactivated"}).context["rows"]
    assert [r.user.pk for r in deactivated] == [world.other_parent.pk]
    found = admin.get(url, {"q": world.secretary.username}).context["rows"]
    assert [r.user.pk for r in found] == [world.secretary.pk]
    assert admin.get(url, {"state": "bogus", "page": "x"}).status_code == 200


def test_the_list_is_paginated_and_its_query_count_does_not_grow(world, as_user, django_assert_max_num_queries):
    """7 statements for the page (session, user, school, context, count, page, roles), whatever the size."""
    admin = logged_in("admin")
    api = as_user(world.admin)
    url = reverse("school_people:accounts", kwargs={"school": world.school.slug})
    api.get(f"/api/v1/schools/{world.school.slug}/accounts")  # warm the per-process prepared statements
    with django_assert_max_num_queries(8):
        assert admin.get(url).status_code == 200
    for i in range(120):
        f.make_parent(world.student, username=f"many{i}")
    with django_assert_max_num_queries(8):
        response = admin.get(url, {"page": "2"})
    assert response.status_code == 200 and len(response.context["rows"]) == 50
    with django_assert_max_num_queries(8):
        data = api.get(f"/api/v1/schools/{world.school.slug}/accounts", {"page": 3}).json()
    assert data["count"] == response.context["page"].paginator.count and len(data["items"]) > 0
