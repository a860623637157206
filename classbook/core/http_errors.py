"""Error answers for the whole site: the API's JSON body, and translated error pages everywhere else.

A malformed or oversized request is the client's mistake, never a 500 (issue 9): on ``/api/`` it gets the
API's structured JSON error ``{"error": {"code", "message"}}`` with 400, 413 or 415; elsewhere a translated
page (``400.html``, ``403.html``, ``404.html``, ``413.html``, ``429.html``, ``500.html``) in the site's layout.
A refused page (403) looks exactly like a missing one (404) to the user, so a page tells nothing about what exists
(``_not_found.html``); only a refused form (an expired CSRF token) says what to do. Django calls the views below
for the exceptions it turns into responses (``handler400`` ... in ``classbook/urls.py``, and
``CSRF_FAILURE_VIEW``); the API's own handlers (``classbook/api/errors.py``) use ``request_problem`` too,
so both doors give the same answer for the same request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    """The API's error shape: ``{"error": {"code": ..., "message": ..., "fields": {...}, ...extra}}``."""
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return {"error": body}


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def wants_json(request: HttpRequest) -> bool:
    """The API, and the pages' endpoints that scripts call with ``Accept: application/json`` (the journal grid)."""
    accept = request.headers.get("Accept", "")
    return is_api(request) or ("application/json" in accept and "text/html" not in accept)


@dataclass(frozen=True)
class Problem:
    status: int
    code: str
    message: str


def request_problem(exc: BaseException | None) -> Problem | None:
    """What a malformed or oversized request means to its sender; None if ``exc`` is not about the request."""
    if isinstance(exc, RequestDataTooBig):
        return Problem(413, "too_large", _("The request is too large."))
    if isinstance(exc, TooManyFieldsSent):
        return Problem(400, "too_many_fields", _("The request has too many fields."))
    if isinstance(exc, TooManyFilesSent):
        return Problem(400, "too_many_files", _("The request has too many files."))
    if isinstance(exc, (MultiPartParserError, UnreadablePostError)):
        return Problem(400, "unreadable_body", _("The request body could not be read."))
    if isinstance(exc, (SuspiciousOperation, BadRequest)):
        return Problem(400, "bad_request", _("The request is not valid."))
    return None


def too_large() -> Problem:
    return Problem(413, "too_large", _("The request is too large."))


def too_many_requests() -> Problem:
    return Problem(429, "rate_limited", _("Too many requests in a short time."))


def unsupported_media_type() -> Problem:
    return Problem(415, "unsupported_media_type", _("Send JSON (Content-Type: application/json) or a form."))


def _max_mb() -> int:
    return int(settings.REQUEST_MAX_BODY_BYTES // (1024 * 1024))


def answer(request: HttpRequest, problem: Problem) -> HttpResponse:
    """``problem`` as JSON on the API and to scripts asking for JSON, else as the translated page of its status."""
    if wants_json(request):
        return JsonResponse(error_body(problem.code, problem.message), status=problem.status)
    context = {"status": problem.status, "code": problem.code, "message": problem.message, "max_mb": _max_mb()}
    return render(request, f"{problem.status}.html", context, status=problem.status)


# --- Django's error handlers (classbook/urls.py) --------------------------------------------------------


def bad_request(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return answer(request, request_problem(exception) or Problem(400, "bad_request", _("The request is not valid.")))


def permission_denied(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return answer(request, Problem(403, "forbidden", _("You may not do this.")))


def page_not_found(request: HttpRequest, exception: BaseException | None = None) -> HttpResponse:
    return answer(request, Problem(404, "not_found", _("Not found.")))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    logger.info("CSRF refused %s: %s", request.path, reason)
    message = _("The form has expired or was sent from another site. Reload the page and try again.")
    return answer(request, Problem(403, "csrf_failed", message))


def server_error(request: HttpRequest) -> HttpResponse:
    """Our fault, not the sender's. The page uses no context processors and no database: it must not fail too."""
    message = _("Something went wrong on the server. The error has been logged; try again later.")
    if wants_json(request):
        return JsonResponse(error_body("server_error", message), status=500)
    return HttpResponse(loader.get_template("500.html").render({"message": message}), status=500)
