"""The deliveries' figures for ``/metrics`` (core/metrics.py reads them at scrape time; registered in apps.py).

Operator figures over the whole deployment, by channel: how many deliveries wait to be sent and how many
failed for good. No school, person or message text is in them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from classbook.notifications.models import Delivery, Status


def deliveries() -> Iterable[Metric]:
    waiting = GaugeMetricFamily(
        "classbook_deliveries_waiting", "Notification deliveries not yet sent", labels=["channel"]
    )
    failed = GaugeMetricFamily(
        "classbook_deliveries_failed", "Notification deliveries that failed for good", labels=["channel"]
    )
    rows = (
        Delivery.objects.filter(status__in=[Status.PENDING, Status.FAILED])
        .values_list("channel", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for channel, status, n in rows:
        (waiting if status == Status.PENDING else failed).add_metric([channel], n)
    yield waiting
    yield failed
