"""The webhooks page and API: who opens them (the same people refused through both doors), a refused
write changes nothing, every change is audited without the secret, query counts are constant."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from classbook.core.models import AuditEntry
from classbook.webhooks import services
from classbook.webhooks.models import Delivery, Subscription

API = "/api/v1/schools/{school}/webhooks"
URL = "https://93.184.215.14/hook"
NOT_ADMINS = ["director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]

PAGE = [
    ("admin", 200),
    *[(p, 403) for p in NOT_ADMINS],
    ("foreign_admin", 404),  # another school's administrator: not even the school's existence
    ("foreign_student", 404),
    ("anonymous", 302),  # to the login page
]
API_TABLE = [*PAGE[:-1], ("anonymous", 401)]


def _post(client, path: str, body: dict | None = None, method: str = "post"):
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


def _counts() -> tuple[int, int, int]:
    return Subscription.objects.count(), Delivery.objects.count(), AuditEntry.objects.count()


@pytest.fixture
def sub(world) -> Subscription:
    made, _secret = services.create_subscription(
        acting_user=world.admin, school=world.school, url=URL, events=["mark.changed"]
    )
    return made


@pytest.mark.parametrize(("persona", "status"), PAGE)
def test_webhooks_page_opens_only_for_the_schools_administrators(world, as_user, sub, persona, status):
    client = as_user(world.persona(persona))
    assert client.get(reverse("webhooks:list", kwargs={"school": world.school.slug})).status_code == status
    detail = reverse("webhooks:detail", kwargs={"school": world.school.slug, "webhook_id": sub.pk})
    assert client.get(detail).status_code == status


@pytest.mark.parametrize(("persona", "status"), API_TABLE)
def test_webhooks_api_refuses_the_same_people(world, as_user, sub, persona, status):
    client = as_user(world.persona(persona))
    assert client.get(API.format(school=world.school.slug)).status_code == status
    assert client.get(API.format(school=world.school.slug) + f"/{sub.pk}/deliveries").status_code == status


@pytest.mark.parametrize(("persona", "status"), [(p, s) for p, s in API_TABLE if p != "admin"])
def test_a_refused_write_changes_nothing(world, as_user, sub, persona, status):
    client = as_user(world.persona(persona))
    base = API.format(school=world.school.slug)
    before = _counts()
    assert _post(client, base, {"url": URL, "events": ["mark.changed"]}).status_code == status
    assert _post(client, f"{base}/{sub.pk}", {"is_active": False}, "patch").status_code == status
    assert _post(client, f"{base}/{sub.pk}/rotate-secret").status_code == status
    assert _post(client, f"{base}/{sub.pk}/ping").status_code == status
    assert client.delete(f"{base}/{sub.pk}").status_code == status
    page = reverse("webhooks:detail", kwargs={"school": world.school.slug, "webhook_id": sub.pk})
    assert client.post(page, {"action": "delete"}).status_code in (302 if persona == "anonymous" else status,)
    assert _counts() == before
    sub.refresh_from_db()
    assert sub.is_active


def test_another_schools_administrator_cannot_reach_our_webhook_through_their_school(world, as_user, sub):
    client = as_user(world.foreign_admin)
    base = API.format(school=world.other_school.slug)
    assert client.get(f"{base}/{sub.pk}").status_code == 404
    assert client.get(f"{base}/{sub.pk}/deliveries").status_code == 404
    assert client.delete(f"{base}/{sub.pk}").status_code == 404
    page = reverse("webhooks:detail", kwargs={"school": world.other_school.slug, "webhook_id": sub.pk})
    assert client.get(page).status_code == 404
    assert Subscription.objects.filter(pk=sub.pk).exists()


def test_the_api_creates_changes_rotates_and_deletes_with_an_audit_trail_without_secrets(world, as_user):
    client = as_user(world.admin)
    base = API.format(school=world.school.slug)
    made = _post(client, base, {"url": URL, "events": ["mark.changed", "lesson.changed"], "description": "ERP"})
    assert made.status_code == 201
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["lesson.changed", "mark.changed"]
    sub = Subscription.objects.get(pk=body["id"])
    assert "secret" not in client.get(f"{base}/{sub.pk}").json()
    changed = _post(client, f"{base}/{sub.pk}", {"is_active": False, "events": ["enrolment.changed"]}, "patch")
    assert changed.status_code == 200
    assert (changed.json()["is_active"], changed.json()["events"]) == (False, ["enrolment.changed"])
    rotated = _post(client, f"{base}/{sub.pk}/rotate-secret", {"keep_previous": True}).json()
    assert rotated["secret"] != body["secret"]
    assert client.get(f"{base}/{sub.pk}").json()["previous_secret_until"] is not None
    assert client.delete(f"{base}/{sub.pk}").status_code == 204
    assert not Subscription.objects.exists()
    entries = list(AuditEntry.objects.filter(action__startswith="webhooks.").order_by("at", "id"))
    assert [e.action for e in entries] == [
        "webhooks.subscription.created",
        "webhooks.subscription.updated",
        "webhooks.subscription.secret_rotated",
        "webhooks.subscription.deleted",
    ]
    assert all(e.actor_id == world.admin.pk and e.school_id == world.school.pk for e in entries)
    assert entries[1].data["changes"]["is_active"] == {"old": True, "new": False}
    dumped = json.dumps([e.data for e in entries])
    assert body["secret"] not in dumped and rotated["secret"] not in dumped


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://93.184.215.14/h", "events": ["mark.changed"]}, "url"),
        ({"url": "https://169.254.169.254/", "events": ["mark.changed"]}, "url"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": ["everything"]}, "events"),
        ({"url": URL, "events": ["ping"]}, "events"),
        ({"url": URL, "events": ["mark.changed"], "description": "x" * 201}, "description"),
    ],
)
def test_bad_input_is_a_422_with_the_field_and_saves_nothing(world, as_user, body, field):
    before = _counts()
    answer = _post(as_user(world.admin), API.format(school=world.school.slug), body)
    assert answer.status_code == 422
    assert field in {name.split(".")[0] for name in answer.json()["error"]["fields"]}
    assert _counts() == before


def test_the_delivery_log_pages_in_the_api_envelope_and_costs_the_same_for_3_or_60(
    world, as_user, sub, django_assert_max_num_queries
):
    client = as_user(world.admin)
    client.get(reverse("schools:dashboard", kwargs={"school": world.school.slug}))  # the session's first-request writes
    path = API.format(school=world.school.slug) + f"/{sub.pk}/deliveries?limit=10&offset=0"
    # The session and the user (2), the school and the caller's context (2), the webhook, the page, the COUNT.
    for n in (3, 60):
        Delivery.objects.bulk_create(
            Delivery(school=world.school, subscription=sub, event="mark.changed", payload={"n": i}) for i in range(n)
        )
        with django_assert_max_num_queries(7):
            page = client.get(path).json()
        with django_assert_max_num_queries(8):
            assert client.get(reverse("webhooks:detail", args=[world.school.slug, sub.pk])).status_code == 200
    assert (page["count"], page["limit"], len(page["items"])) == (63, 10, 10)
    assert page["previous"] is None and "offset=10" in page["next"] and "limit=10" in page["next"]
    first = page["items"][0]
    assert client.get(path.split("?")[0] + f"/{first['id']}").json()["payload"]["n"] == 59
    Delivery.objects.filter(pk__in=[i["id"] for i in page["items"][:2]]).update(status="failed")
    Delivery.objects.filter(pk=page["items"][2]["id"]).update(status="sent")
    with django_assert_max_num_queries(5):
        listed = client.get(API.format(school=world.school.slug)).json()
    assert (listed["count"], listed["next"], listed["previous"]) == (1, None, None)
    rows = listed["items"]
    assert [(r["id"], r["waiting"], r["failed"]) for r in rows] == [(sub.pk, 60, 2)]
    assert rows[0]["last_delivery_at"] is not None


def test_the_delivery_log_filters_by_status_sorts_and_follows_next(world, as_user, sub):
    client = as_user(world.admin)
    base = API.format(school=world.school.slug) + f"/{sub.pk}/deliveries"
    Delivery.objects.bulk_create(
        Delivery(school=world.school, subscription=sub, event="mark.changed", payload={"n": i}, status=status)
        for i, status in enumerate(["failed", "sent", "failed", "pending", "failed"])
    )
    failed = client.get(base, {"status": "failed", "limit": 2}).json()
    assert failed["count"] == 3 and {d["status"] for d in failed["items"]} == {"failed"}
    seen = [d["id"] for d in failed["items"]]
    assert "status=failed" in failed["next"]
    following = client.get(failed["next"]).json()
    seen += [d["id"] for d in following["items"]]
    assert following["next"] is None and len(set(seen)) == 3
    assert seen == sorted(seen, reverse=True)  # newest first by default
    ascending = [d["id"] for d in client.get(base, {"sort": "id"}).json()["items"]]
    assert ascending == sorted(ascending) and len(ascending) == 5
    assert client.get(base, {"status": "maybe"}).status_code == 422
    refused = client.get(base, {"sort": "payload"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_sort"
    assert client.get(API.format(school=world.school.slug), {"sort": "-secret"}).status_code == 422


def test_the_page_adds_a_webhook_and_shows_its_secret_once(world, as_user):
    client = as_user(world.admin)
    url = reverse("webhooks:list", kwargs={"school": world.school.slug})
    answer = client.post(url, {"url": URL, "events": ["mark.changed", "attendance.changed"], "description": "ERP"})
    assert answer.status_code == 200
    sub = Subscription.objects.get()
    assert sub.secret in answer.content.decode()
    assert sub.events == ["attendance.changed", "mark.changed"]
    detail = client.get(reverse("webhooks:detail", args=[world.school.slug, sub.pk])).content.decode()
    assert sub.secret not in detail
    refused = client.post(url, {"url": "https://10.0.0.1/x", "events": ["mark.changed"]})
    assert refused.status_code == 200
    assert "public internet addresses" in refused.content.decode()
    assert Subscription.objects.count() == 1


def test_the_page_switches_off_rotates_and_deletes(world, as_user, sub):
    client = as_user(world.admin)
    page = reverse("webhooks:detail", args=[world.school.slug, sub.pk])
    old = sub.secret
    client.post(page, {"action": "save", "url": URL, "events": ["mark.changed"], "description": "x"})
    sub.refresh_from_db()
    assert (sub.is_active, sub.description) == (False, "x")  # the unticked box switched it off
    shown = client.post(page, {"action": "rotate-now"}).content.decode()
    sub.refresh_from_db()
    assert sub.secret != old and sub.secret in shown and sub.previous_secret == ""
    assert client.post(page, {"action": "delete"}).status_code == 302
    assert not Subscription.objects.exists()


def test_the_navigation_links_the_page_for_administrators_only(world, as_user):
    home = reverse("schools:dashboard", kwargs={"school": world.school.slug})
    link = reverse("webhooks:list", kwargs={"school": world.school.slug})
    assert link in as_user(world.admin).get(home).content.decode()
    assert link not in as_user(world.director).get(home).content.decode()
