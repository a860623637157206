"""The database went away (PostgreSQL restarting, a network cut, SQLite locked too long): answer a clear,
translated 503 with ``Retry-After`` instead of a 500, and drop the broken connection so the next request
opens a new one (issue #9).

A save that failed this way did not happen — or, when the connection broke during COMMIT, cannot be known
to have happened: the client is told to try again, and the journal's versions make the retry safe (the
grid's script retries with backoff and treats "the cell already holds what I sent" as saved,
``static/classbook/journal-grid.js``). On ``/api/`` and for requests asking for JSON, the body is the API's
structured error (``{"error": {"code": "unavailable", "message": ...}}``); elsewhere a small page that needs
no database. Nothing acknowledged is ever lost: a 2xx is only sent after the save's transaction committed.

The view's exception is caught in ``process_exception``; one raised by another middleware (the session,
the user) becomes Django's 500 response first, so the middleware, outermost, also turns a 500 whose cause
was a lost database (noted by the ``got_request_exception`` signal) into the same 503.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

logger = logging.getLogger("classbook.database")

RETRY_AFTER_SECONDS = 2
LOST = (OperationalError, InterfaceError)
_FLAG = "_classbook_database_lost"
_warned_at = [0.0]


def _note_lost_database(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None and isinstance(sys.exc_info()[1], LOST):
        setattr(request, _FLAG, True)


got_request_exception.connect(_note_lost_database, dispatch_uid="classbook.core.db_outage")


def _close_broken_connections() -> None:
    for conn in connections.all(initialized_only=True):
        if conn.in_atomic_block:
            continue  # a test's wrapping transaction, never a request's own (those have ended by now)
        try:
            if conn.connection is not None and not conn.is_usable():
                conn.close()
        except Exception:
            conn.connection = None


def unavailable(request: HttpRequest, error: BaseException | None = None) -> HttpResponse:
    """The 503 answer: JSON for the API and the grid's script, a page for people."""
    now = time.monotonic()
    if now - _warned_at[0] >= 10:  # a warning, not one per request while the database is away
        _warned_at[0] = now
        logger.warning("Database unavailable, answering 503: %s", error or "(see the error above)")
    _close_broken_connections()
    message = _("The journal could not reach its database. Nothing was saved; try again in a moment.")
    response: HttpResponse
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"error": {"code": "unavailable", "message": message}}, status=503)
    else:
        response = HttpResponse(render_to_string("core/database_unavailable.html", {"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _FLAG, False):
            return unavailable(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, LOST):
            return unavailable(request, exception)
        return None
