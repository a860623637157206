"""Request limits checked before anything reads the body (issue 9: hostile requests never answer 500).

``RequestLimitsMiddleware`` sits before the CSRF middleware, the first thing that may read a POST body:

- a declared body larger than ``REQUEST_MAX_BODY_BYTES`` answers 413 before a byte of it is read (Django's
  own ``DATA_UPLOAD_MAX_MEMORY_SIZE`` leaves files out of its count, so without this cap a multipart body
  of any size would be spooled to disk);
- on ``/api/``, a body of a type no endpoint reads (neither JSON nor a form) answers 415;
- an anonymous sender (no session, no API token) may send ``ANONYMOUS_MAX_BODY_BYTES`` at most: the forms
  open to them (login, activation, password reset) are tiny, and the CSRF middleware would otherwise parse
  a body of up to the full cap, files and all, for anyone holding a CSRF cookie.

What Django raises later while parsing (too many fields or files, a multipart body without a boundary, a
form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``) is answered by the error handlers in ``http_errors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext

from classbook.core import hashing
from classbook.core.hashing import HashingBusy
from classbook.core.http_errors import Problem, answer, is_api, too_large, unsupported_media_type

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_API_BODY_TYPES = ("application/json", *FORM_TYPES)


def declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0  # Django reads such a body as empty too


def _api_accepts(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in _API_BODY_TYPES or (media_type.startswith("application/") and media_type.endswith("+json"))


class RequestLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        if length > settings.REQUEST_MAX_BODY_BYTES:
            return answer(request, too_large())
        if (
            length
            and is_api(request)
            and request.method in _BODY_METHODS
            and not _api_accepts(request.content_type or "")
        ):
            return answer(request, unsupported_media_type())
        return self.get_response(request)

    def process_view(self, request: HttpRequest, *args: Any) -> HttpResponse | None:
        # Here, after the authentication middleware and before the CSRF middleware reads a form.
        if declared_length(request) <= settings.ANONYMOUS_MAX_BODY_BYTES or "HTTP_AUTHORIZATION" in request.META:
            return None
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            return None
        return answer(request, too_large())


class HashingBusyMiddleware:
    """Every password-hashing slot stayed taken (core/hashing.py): the translated 429 page (JSON to scripts)
    with ``Retry-After``, instead of a 500 or a request queued without bound. The API answers the same
    through its own handler (api/ratelimit.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The proxy's arrival stamp, for the gate to shed a login that queued too long (core/hashing.py).
        token = hashing.arrived_at.set(hashing.request_start(request.headers.get("X-Request-Start")))
        try:
            return self.get_response(request)
        finally:
            hashing.arrived_at.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, HashingBusy):
            return None
        seconds = exception.retry_after
        message = ngettext(
            "Many people are logging in right now. Try again in %(seconds)s second.",
            "Many people are logging in right now. Try again in %(seconds)s seconds.",
            seconds,
        ) % {"seconds": seconds}
        response = answer(request, Problem(429, "busy", message))
        response["Retry-After"] = str(seconds)
        return response
