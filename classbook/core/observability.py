"""One structured log line and one metrics observation per request (issue 15, docs/deployment.md).

The line is JSON on the ``classbook.requests`` logger: method, URL pattern (not the path: no names or ids of
people in the log), status, duration in milliseconds, the user's id and the school's slug when there are
ones. ``REQUEST_LOG_LEVEL`` (``INFO`` by default, ``WARNING`` to silence) decides whether it is written; the
metrics are observed either way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from classbook.core import metrics

logger = logging.getLogger("classbook.requests")


def route_of(request: HttpRequest) -> str:
    """The matched URL pattern (``s/<slug:school>/diary/``), or ``-`` for a request that matched none."""
    match = getattr(request, "resolver_match", None)
    return (match.route or match.view_name or "-") if match is not None else "-"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: its message's fields when the message is a dict."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
        }
        if isinstance(record.msg, dict):
            body.update(record.msg)
        else:
            body["message"] = record.getMessage()
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


class RequestObservationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = route_of(request)
        metrics.observe(request.method or "-", route, response.status_code, seconds)
        if logger.isEnabledFor(logging.INFO):
            user = getattr(request, "user", None)
            match = getattr(request, "resolver_match", None)
            logger.info(
                {
                    "event": "request",
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "ms": round(seconds * 1000, 1),
                    "user": user.pk if user is not None and getattr(user, "is_authenticated", False) else None,
                    "school": (match.kwargs.get("school") or match.kwargs.get("slug")) if match is not None else None,
                }
            )
        return response
