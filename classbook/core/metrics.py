"""Prometheus metrics (issue 15, docs/deployment.md "Health and metrics").

What is measured:
- ``classbook_requests_total`` and ``classbook_request_duration_seconds``: every request, labelled by method,
  the URL *pattern* (``s/<slug:school>/diary/``, never the path: the label set stays bounded and names no
  school or person) and the status class (``2xx``...), observed by ``observability.RequestObservationMiddleware``;
- ``classbook_tasks_waiting`` and ``classbook_task_oldest_wait_seconds``: the background task queue's depth and
  the age of its oldest ready task, read at scrape time;
- gauges the apps register with ``register_collector`` at ready() (core imports no app): the notifications
  app adds the deliveries that failed for good and those waiting.

With several gunicorn workers the counters live in ``PROMETHEUS_MULTIPROC_DIR`` (``scripts/serve`` sets one),
and a scrape sums every worker's. ``/metrics`` answers only a caller holding ``METRICS_TOKEN``
(``Authorization: Bearer ...``): without the setting it does not exist (404), so nothing about the
deployment is published by default.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

REQUESTS = Counter("classbook_requests", "Requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "classbook_request_duration_seconds",
    "Time to answer a request",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

_collectors: list[Callable[[], Iterable[Metric]]] = []


def register_collector(collect: Callable[[], Iterable[Metric]]) -> None:
    """Add metrics read at scrape time (an app's ready() calls this; the same callable is added once)."""
    if collect not in _collectors:
        _collectors.append(collect)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, f"{status // 100}xx").inc()
    LATENCY.labels(method, route).observe(seconds)


def _task_queue() -> Iterable[Metric]:
    if "django_tasks_db" not in settings.INSTALLED_APPS:
        return
    from django_tasks_db.models import DBTaskResult

    queue = DBTaskResult.objects.ready().aggregate(waiting=Count("pk"), oldest=Min("enqueued_at"))
    waiting, oldest = queue["waiting"], queue["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield GaugeMetricFamily("classbook_tasks_waiting", "Background tasks ready to run and not started", waiting)
    yield GaugeMetricFamily("classbook_task_oldest_wait_seconds", "Age of the oldest waiting task", max(age, 0.0))


class _ScrapeTime(Collector):
    """The registered collectors, read from the database at each scrape (skipped, not failed, when it is down)."""

    def describe(self) -> Iterable[Metric]:
        return []  # the registry would otherwise collect (read the database) when this is registered

    def collect(self) -> Iterable[Metric]:
        for collect in (_task_queue, *_collectors):
            try:
                yield from collect()
            except DatabaseError:
                continue


def _authorised(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


_SCRAPE_TIME = _ScrapeTime()
REGISTRY.register(_SCRAPE_TIME)


def _registry() -> CollectorRegistry:
    """This process's registry, or with several workers one that sums every worker's files."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(_SCRAPE_TIME)
    return registry


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    if not _authorised(request):
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
