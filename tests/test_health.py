"""Health probes, metrics and the request log (issue 15): what a load balancer and an operator see."""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from classbook.notifications.models import Channel, Delivery, Kind, Notification, Status
from tests.factories import SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_reads_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_names_each_check(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok", "tasks": "ok"}}


def test_readyz_calls_an_old_waiting_task_lagging_but_stays_ready(client):
    long_ago = timezone.now() - dt.timedelta(hours=2)
    task = DBTaskResult.objects.create(
        task_path="classbook.tests.nothing",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        queue_name="default",
        run_after=long_ago,
        priority=0,
    )
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=long_ago)
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["tasks"] == "lagging"


def test_readyz_takes_the_worker_out_when_the_database_is_gone(client, monkeypatch):
    def gone(self, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", gone)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "down", "cache": "ok", "tasks": "unknown"},
    }


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic c2VjcmV0"])
def test_metrics_are_not_published_without_the_token(client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    with override_settings(METRICS_TOKEN="s3cret-token"):
        assert client.get("/metrics", **extra).status_code == 404
    with override_settings(METRICS_TOKEN=""):  # no token configured: no endpoint, whatever is sent
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_count_requests_by_pattern_and_read_the_queues(client):
    school = SchoolFactory()
    user = UserFactory()
    note = Notification.objects.create(school=school, user=user, kind=Kind.MARK, event_key="metrics-test")
    Delivery.objects.create(school=school, notification=note, channel=Channel.EMAIL, status=Status.FAILED)
    client.get(f"/s/{school.slug}/diary/")
    with override_settings(METRICS_TOKEN="s3cret-token"):
        response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'classbook_requests_total{method="GET",route="s/<slug:school>/diary/"' in text
    assert school.slug not in text  # the pattern, never the path
    assert 'classbook_deliveries_failed{channel="email"} 1.0' in text
    assert "classbook_tasks_waiting" in text
    assert "classbook_request_duration_seconds_bucket" in text


def test_each_request_is_one_json_line_without_the_path(client, caplog):
    school = SchoolFactory()
    logger = logging.getLogger("classbook.requests")
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="classbook.requests"):
            client.get(f"/s/{school.slug}/diary/")
    finally:
        logger.removeHandler(caplog.handler)
    [record] = [r for r in caplog.records if r.name == "classbook.requests"]
    from classbook.core.observability import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "request"
    assert line["route"] == "s/<slug:school>/diary/"
    assert line["school"] == school.slug
    assert line["status"] in (302, 404)
    assert isinstance(line["ms"], float)
