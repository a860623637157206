"""Probes for load balancers and orchestrators (issue 15, docs/deployment.md "Health and metrics").

``/healthz``: the process is up and answering; it reads nothing (no database, no cache), so a slow database
never makes a balancer kill healthy web workers.

``/readyz``: this worker can serve pages: the database answers ``SELECT 1`` (503 when not: take the worker
out of rotation), the cache answers (``degraded`` when not: pages still work, slower, docs/deployment.md
"Redis"), and the task queue's oldest waiting task is younger than ``READYZ_TASK_LAG_SECONDS`` (``lagging``
when not: a stuck task worker is the worker's problem, not the web's, so it does not fail the probe). The
body names each check's state and nothing else: no counts, hosts or versions for an anonymous caller.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger("classbook.health")


def _database() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("readyz: the database does not answer", exc_info=True)
        connections["default"].close_if_unusable_or_obsolete()
        return False
    return True


def _cache() -> bool:
    key = "classbook:readyz"
    try:
        cache.set(key, "1", 10)
        return cache.get(key) == "1"
    except Exception:  # any cache backend's failure is "degraded", never a 500 from the probe
        logger.warning("readyz: the cache does not answer", exc_info=True)
        return False


def oldest_waiting_task() -> dt.datetime | None:
    """When the oldest task that is ready to run was enqueued (``None``: the queue is empty or not a database)."""
    if "django_tasks_db" not in settings.INSTALLED_APPS:
        return None
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().order_by("enqueued_at").values_list("enqueued_at", flat=True).first()


def _tasks() -> str:
    try:
        oldest = oldest_waiting_task()
    except DatabaseError:
        return "unknown"
    if oldest is None:
        return "ok"
    lag = (timezone.now() - oldest).total_seconds()
    return "lagging" if lag > settings.READYZ_TASK_LAG_SECONDS else "ok"


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    database = _database()
    checks = {
        "database": "ok" if database else "down",
        "cache": "ok" if _cache() else "degraded",
        "tasks": _tasks() if database else "unknown",
    }
    status = "ok" if database else "unavailable"
    response = JsonResponse({"status": status, "checks": checks}, status=200 if database else 503)
    if not database:
        response["Retry-After"] = "5"
    return response
