"""Background tasks (django-tasks, as the notifications app): turning events into deliveries and sending them.

Arguments are plain JSON. Every task is safe to run twice: a delivery is claimed before it is sent, and
``fan_out`` runs in one transaction (all deliveries of an event batch or none).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django_tasks import default_task_backend, task

from classbook.core.retries import send_due
from classbook.webhooks import services

CHUNK = 100  # deliveries per send task


@task()
def fan_out(source: str, items: list[dict[str, Any]]) -> int:
    """One transaction's journal, timetable or roster events into deliveries (sent after the commit)."""
    with transaction.atomic():
        return len(services.record_events(source, items))


@task()
def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """Send these deliveries; those that failed are scheduled again at their retry time."""
    counts = services.deliver(delivery_ids)
    if counts["retry"]:
        schedule_retry(delivery_ids)
    return counts


@task()
def retry_due() -> dict[str, int]:
    """Send every pending delivery whose retry time has come (also run by ``manage.py send_webhooks``)."""
    return send_due(services.due_deliveries, services.deliver)


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    ids = list(delivery_ids)
    for start in range(0, len(ids), CHUNK):
        send_deliveries.enqueue(ids[start : start + CHUNK])


def schedule_retry(delivery_ids: Iterable[int]) -> None:
    """With a backend that can defer (the database), enqueue the retry for its time; otherwise the
    periodic ``send_webhooks`` command sends it when it is due."""
    if not default_task_backend.supports_defer:
        return
    when = services.next_retry_at(delivery_ids)
    if when is not None:
        send_deliveries.using(run_after=when).enqueue(list(delivery_ids))
