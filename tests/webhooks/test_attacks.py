"""An attacker's view of the webhook page: numbers ``int`` refuses in the page's query string and forms are
ignored or 404, never a 500; another school's delivery cannot be sent again through ours."""

from __future__ import annotations

import pytest
from django.urls import reverse

from classbook.webhooks import services
from classbook.webhooks.models import Delivery

HOSTILE = ["²", "9" * 5000, "99999999999999999999"]


@pytest.fixture
def sub(world):
    made, _secret = services.create_subscription(
        acting_user=world.admin, school=world.school, url="https://93.184.215.14/hook", events=["mark.changed"]
    )
    return made


@pytest.mark.parametrize("raw", HOSTILE)
def test_hostile_numbers_on_the_webhook_page_are_not_a_500(world, as_user, sub, raw):
    client = as_user(world.admin)
    url = reverse("webhooks:detail", kwargs={"school": world.school.slug, "webhook_id": sub.pk})
    assert client.get(url, {"offset": raw}).status_code == 200
    before = Delivery.objects.count()
    assert client.post(url, {"action": "redeliver", "delivery": raw}).status_code in (302, 404)
    assert Delivery.objects.count() == before


def test_another_schools_delivery_is_not_sent_again_through_our_webhook(world, as_user, sub):
    theirs, _secret = services.create_subscription(
        acting_user=world.foreign_admin,
        school=world.other_school,
        url="https://93.184.215.14/x",
        events=["mark.changed"],
    )
    services.send_ping(acting_user=world.foreign_admin, subscription=theirs)
    delivery = Delivery.objects.get(subscription=theirs)
    url = reverse("webhooks:detail", kwargs={"school": world.school.slug, "webhook_id": sub.pk})
    before = Delivery.objects.count()
    assert as_user(world.admin).post(url, {"action": "redeliver", "delivery": delivery.pk}).status_code == 404
    assert Delivery.objects.count() == before
