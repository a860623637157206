"""The audit log's read model through the page and the API: filters, keyset pages, labels, the school-less
security entries of the school's people, constant query counts, and bad input never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from classbook.core.audit import log_action
from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import Membership, Role
from tests import factories as f

PAGE = "/s/lyceum-1/audit/"
API = "/api/v1/schools/lyceum-1/audit"


def entry(action, *, actor, school, obj=None, data=None, at=None):
    row = log_action(action, actor=actor, school=school, obj=obj, data=data)
    if at is not None:
        AuditEntry.objects.filter(pk=row.pk).update(at=at)  # the log is append-only; tests date rows directly
    return row


def actions(client, query=""):
    response = client.get(API + query)
    assert response.status_code == 200, response.content
    return [e["action"] for e in response.json()["items"]]


def test_filters_by_person_acting_or_acted_upon(world, as_user):
    entry("test.by_teacher", actor=world.teacher, school=world.school)
    entry("test.about_teacher", actor=world.admin, school=world.school, obj=world.teacher)
    entry("test.other", actor=world.admin, school=world.school, obj=world.secretary)
    client = as_user(world.admin)
    pk = world.teacher.pk
    assert set(actions(client, f"?person={pk}")) == {"test.by_teacher", "test.about_teacher"}
    assert actions(client, f"?person={pk}&person_role=actor") == ["test.by_teacher"]
    assert actions(client, f"?person={pk}&person_role=subject") == ["test.about_teacher"]
    rows = client.get(PAGE + "?person=teacher").context["page"].rows
    assert {r.action for r in rows} == {"test.by_teacher", "test.about_teacher"}


def test_filters_by_action_exactly_or_by_prefix(world, as_user):
    entry("people.activation_code.issued", actor=world.admin, school=world.school, data={"user": world.parent.pk})
    entry("people.role.granted", actor=world.admin, school=world.school, data={"user": world.teacher.pk})
    entry("peoplex.other", actor=world.admin, school=world.school)
    entry("roster.staff.added", actor=world.admin, school=world.school)
    client = as_user(world.admin)
    assert set(actions(client, "?action=people.")) == {"people.activation_code.issued", "people.role.granted"}
    assert actions(client, "?action=people.role.granted") == ["people.role.granted"]
    assert actions(client, "?action=people.role.") == ["people.role.granted"]
    rows = client.get(PAGE + "?action=people.").context["page"].rows
    assert {(r.action, r.label) for r in rows} == {
        ("people.activation_code.issued", "Activation code issued"),
        ("people.role.granted", "Role granted"),
    }


def test_filters_by_object_and_dates(world, as_user):
    now = timezone.now()
    entry("test.old", actor=world.admin, school=world.school, obj=world.class_a, at=now - dt.timedelta(days=40))
    entry("test.recent", actor=world.admin, school=world.school, obj=world.class_a, at=now - dt.timedelta(days=2))
    entry("test.other_object", actor=world.admin, school=world.school, obj=world.class_b)
    client = as_user(world.admin)
    assert set(actions(client, f"?object_type=schools.schoolclass&object_id={world.class_a.pk}")) == {
        "test.old",
        "test.recent",
    }
    today = timezone.localdate()
    since = (today - dt.timedelta(days=10)).isoformat()
    assert set(actions(client, f"?since={since}")) == {"test.recent", "test.other_object"}
    until = (today - dt.timedelta(days=3)).isoformat()
    assert actions(client, f"?until={until}") == ["test.old"]
    rows = client.get(PAGE + f"?until={until}").context["page"].rows
    assert [r.action for r in rows] == ["test.old"]


def test_keyset_pages_walk_older_and_newer_without_gaps_or_repeats(world, as_user):
    same = timezone.now() - dt.timedelta(hours=1)  # entries in the same microsecond are ordered by id
    ids = [
        entry(f"test.n{i:03}", actor=world.admin, school=world.school, at=same if i % 3 else None).pk for i in range(7)
    ]
    client = as_user(world.admin)
    seen, url, pages = [], API + "?limit=3", []
    while url:
        body = client.get(url).json()
        pages.append(body)
        seen += [e["id"] for e in body["items"]]
        assert body["count"] is None and body["limit"] == 3
        url = body["next"]  # the one page shape: follow ``next`` (here a ``before=`` keyset cursor)
    expected = list(AuditEntry.objects.filter(pk__in=ids).order_by("-at", "-id").values_list("pk", flat=True))
    assert seen == expected
    assert pages[0]["previous"] is None and len(pages) == 3
    assert "before=" in pages[1]["previous"] or "after=" in pages[1]["previous"]
    back = client.get(pages[2]["previous"]).json()
    assert [e["id"] for e in back["items"]] == [e["id"] for e in pages[1]["items"]]


def test_page_links_older_and_newer(world, as_user, settings):
    for i in range(55):
        entry(f"test.n{i:03}", actor=world.admin, school=world.school)
    client = as_user(world.admin)
    first = client.get(PAGE + "?action=test.")
    assert first.context["page"].newer is None and first.context["page"].older
    html = first.content.decode()
    assert "test.n054" in html and "test.n004" not in html
    second = client.get(PAGE + f"?action=test.&before={first.context['page'].older}")
    assert [r.action for r in second.context["page"].rows] == [f"test.n{i:03}" for i in range(4, -1, -1)]
    assert second.context["page"].older is None and second.context["page"].newer


def test_known_actions_have_labels_and_unknown_show_raw(world, as_user):
    entry("people.login.new_device", actor=world.teacher, school=world.school)
    entry("schools.room.deleted", actor=world.admin, school=world.school)
    entry("something.never.labelled", actor=world.admin, school=world.school)
    items = {e["action"]: e["label"] for e in as_user(world.admin).get(API).json()["items"]}
    assert items["people.login.new_device"] == "Logged in from a new device or network"
    assert items["schools.room.deleted"] == "Room: deleted"
    assert items["something.never.labelled"] == "something.never.labelled"


def test_labels_are_translated(world, as_user):
    entry("people.role.granted", actor=world.admin, school=world.school)
    client = as_user(world.admin)
    body = client.get(API, HTTP_ACCEPT_LANGUAGE="uk").json()
    assert body["items"][0]["label"] != "Role granted"


# --- security events of the school's people -----------------------------------------------------------


def test_logins_of_a_member_of_two_schools_are_seen_by_both_schools(world, as_user):
    f.MembershipFactory(school=world.other_school, user=world.teacher, role=Role.TEACHER)
    credentials.record_login(user=world.teacher, ip="10.1.2.3", user_agent="Firefox/1 Windows", method="password")
    for admin, slug in ((world.admin, "lyceum-1"), (world.foreign_admin, "gymnasium-2")):
        items = as_user(admin).get(f"/api/v1/schools/{slug}/audit?person={world.teacher.pk}").json()["items"]
        assert [(e["action"], e["account_wide"], e["data"]["ip"]) for e in items] == [
            ("people.login", True, "10.1.2.3")
        ]


def test_school_less_entries_others_wrote_about_a_member_are_not_shown(world, as_user):
    """A school-less entry written by someone else (here an administrator of another school) may carry that
    school's reasons: it stays out; the person's own and the system's entries come in."""
    f.MembershipFactory(school=world.other_school, user=world.teacher, role=Role.TEACHER)
    log_action("test.by_them", actor=world.foreign_admin, obj=world.teacher, data={"reason": "gymnasium only"})
    log_action("test.by_self", actor=world.teacher, obj=world.teacher)
    log_action("test.by_system", actor=None, obj=world.teacher)
    assert set(actions(as_user(world.admin), "?action=test.")) == {"test.by_self", "test.by_system"}


def test_logins_of_people_who_left_or_never_belonged_are_not_shown(world, as_user):
    credentials.record_login(user=world.foreign_teacher, ip="10.1.1.1", user_agent="", method="password")
    credentials.record_login(user=world.other_teacher, ip="10.1.1.2", user_agent="", method="password")
    Membership.objects.filter(user=world.other_teacher, school=world.school).update(is_active=False)
    credentials.record_login(user=world.teacher, ip="10.1.1.3", user_agent="", method="password")
    items = as_user(world.admin).get(API + "?action=people.").json()["items"]
    assert [e["data"]["ip"] for e in items] == ["10.1.1.3"]


def test_new_device_is_recorded_once_per_device_and_network(world, as_user):
    firefox = "Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/120.0"
    chrome = "Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36"

    def login(ip, agent):
        credentials.record_login(user=world.teacher, ip=ip, user_agent=agent, method="password")

    login("10.0.0.5", firefox)  # the account's first login: nothing to compare with
    login("10.0.0.77", firefox)  # same browser, same /24 network
    login("10.0.0.5", chrome)  # another device
    login("192.0.2.10", firefox)  # another network
    login("192.0.2.11", firefox)  # that network is known now
    new = AuditEntry.objects.filter(action="people.login.new_device").order_by("id")
    assert [(e.data["device"], e.data["network"]) for e in new] == [
        ("Chrome, Android", "10.0.0.0/24"),
        ("Firefox, Windows", "192.0.2.0/24"),
    ]
    assert all(e.subject_id == world.teacher.pk and e.school_id is None for e in new)
    assert AuditEntry.objects.filter(action="people.login").count() == 5
    items = as_user(world.admin).get(API + "?action=people.login.new_device").json()["items"]
    assert len(items) == 2


def test_new_device_check_is_one_query_for_a_known_device(world, django_assert_num_queries):
    credentials.record_login(user=world.teacher, ip="10.0.0.5", user_agent="Firefox/1", method="password")
    with django_assert_num_queries(2):  # the check, the login row
        credentials.record_login(user=world.teacher, ip="10.0.0.6", user_agent="Firefox/1", method="password")


def test_login_through_the_login_page_records_a_new_device(world):
    from django.test import Client

    from tests.factories import PASSWORD

    for agent in ("Firefox/1 Windows", "Chrome/1 Android"):
        Client().post("/accounts/login/", {"username": "teacher", "password": PASSWORD}, HTTP_USER_AGENT=agent)
    assert AuditEntry.objects.filter(action="people.login", actor=world.teacher).count() == 2
    assert AuditEntry.objects.get(action="people.login.new_device").data["device"] == "Chrome, Android"


# --- the person an entry is about -----------------------------------------------------------------------


def test_log_action_names_the_person_the_entry_is_about(world):
    membership = Membership.objects.get(user=world.teacher, school=world.school)
    assert log_action("t.a", actor=None, obj=world.teacher).subject_id == world.teacher.pk
    assert log_action("t.b", actor=None, obj=membership).subject_id == world.teacher.pk
    assert log_action("t.c", actor=None, obj=world.student).subject_id == world.student.user_id
    assert log_action("t.d", actor=None, data={"user": world.parent.pk}).subject_id == world.parent.pk
    assert log_action("t.e", actor=None, obj=world.class_a).subject_id is None
    assert log_action("t.f", actor=None, data={"user": True}).subject_id is None


# --- query counts and hostile input ------------------------------------------------------------------


def _count(client, url):
    client.get(url)  # warm: the first request of a client fills per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "query", ["", "?person=teacher", "?action=people.&since=2020-01-01", "?object_type=people.user&object_id=1"]
)
def test_query_count_does_not_grow_with_the_entries(world, as_user, query):
    client = as_user(world.admin)
    credentials.record_login(user=world.teacher, ip="10.0.0.1", user_agent="", method="password")
    entry("people.role.granted", actor=world.admin, school=world.school, obj=world.teacher)
    small_page, small_api = (
        _count(client, PAGE + query),
        _count(client, API + query.replace("person=teacher", f"person={world.teacher.pk}")),
    )
    for i in range(60):
        entry("people.role.granted", actor=f.UserFactory(), school=world.school, obj=world.teacher)
        credentials.record_login(user=world.teacher, ip=f"10.0.{i}.1", user_agent="", method="password")
    assert _count(client, PAGE + query) == small_page
    assert _count(client, API + query.replace("person=teacher", f"person={world.teacher.pk}")) == small_api
    assert small_page <= 12 and small_api <= 8


BAD_PAGE = [
    "?before=abc",
    "?before=99999999999999999999999999.1",
    "?after=-5.3",
    "?since=2024-13-45",
    "?since=2025-01-02&until=2025-01-01",
    "?person=99999999999999999999999999",
    "?person=%00",
    "?person_role=boss",
    "?action=<script>",
    "?action=" + "a" * 500,
    "?object_type=user",
    "?object_id=" + "9" * 500,
]


@pytest.mark.parametrize("query", BAD_PAGE)
def test_bad_filters_on_the_page_never_answer_500(world, as_user, query):
    entry("test.row", actor=world.admin, school=world.school)
    assert as_user(world.admin).get(PAGE + query).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?before=abc",
        "?after=1.2.3",
        "?since=2024-13-45",
        "?since=2025-01-02&until=2025-01-01",
        "?person=99999999999999999999999999",
        "?person=abc",
        "?person_role=boss",
        "?action=<script>",
        "?action=" + "a" * 500,
        "?object_type=user",
        "?limit=0",
        "?limit=100000",
    ],
)
def test_bad_filters_on_the_api_answer_a_structured_422(world, as_user, query):
    response = as_user(world.admin).get(API + query)
    assert response.status_code == 422
    assert response.json()["error"]["code"]


def test_reading_the_log_writes_nothing(world, as_user):
    entry("test.row", actor=world.admin, school=world.school)
    before = AuditEntry.objects.count()
    as_user(world.admin).get(PAGE)
    as_user(world.admin).get(API)
    assert AuditEntry.objects.count() == before


def test_the_migration_fills_in_the_person_of_older_entries(world):
    """Entries written before ``subject`` existed get it from their object or their data."""
    from importlib import import_module

    from django.apps import apps

    migration = import_module("classbook.core.migrations.0003_audit_subject_and_filter_indexes")
    membership = Membership.objects.get(user=world.teacher, school=world.school)
    old = AuditEntry.objects.bulk_create(
        [
            AuditEntry(action="people.login", object_type="people.user", object_id=str(world.parent.pk)),
            AuditEntry(action="roster.role.granted", object_type="people.membership", object_id=str(membership.pk)),
            AuditEntry(action="people.activation_code.issued", data={"user": world.student.user_id}),
            AuditEntry(action="schools.room.deleted", object_type="schools.room", object_id="1"),
            AuditEntry(action="test.gone", data={"user": 10**9}),  # no such person: left empty
        ]
    )
    migration.fill_subjects(apps, None)
    subjects = list(
        AuditEntry.objects.filter(pk__in=[e.pk for e in old]).order_by("id").values_list("subject_id", flat=True)
    )
    assert subjects == [world.parent.pk, world.teacher.pk, world.student.user_id, None, None]
