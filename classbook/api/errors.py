"""Structured JSON errors: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``, never a 500 on bad input."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from classbook.api.contract import IntegerOutOfRange, out_of_range_message
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.http_errors import error_body, request_problem

__all__ = ["error_body", "install_error_handlers"]

logger = logging.getLogger("django.security")


def _field_name(loc: list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form", "file")]
    return ".".join(parts) or "__all__"


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def on_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        fields: dict[str, list[str]] = {}
        for err in exc.errors:
            fields.setdefault(_field_name(list(err.get("loc", []))), []).append(str(err.get("msg", "")))
        return respond(request, 422, error_body("invalid", _("The request is not valid."), fields))

    @api.exception_handler(ValidationError)
    def on_django_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"__all__": [str(m) for m in exc.messages]}
        )
        return respond(request, 422, error_body("invalid", _("The request is not valid."), fields))

    @api.exception_handler(ConflictError)
    def on_conflict(request: HttpRequest, exc: ConflictError) -> HttpResponse:
        return respond(request, 409, error_body(exc.code, str(exc.message), **getattr(exc, "extra", {})))

    @api.exception_handler(PermissionDeniedError)
    def on_domain_forbidden(request: HttpRequest, exc: PermissionDeniedError) -> HttpResponse:
        return respond(request, 403, error_body(exc.code, str(exc.message)))

    @api.exception_handler(DomainError)
    def on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        fields = {exc.field: [str(exc.message)]} if exc.field else None
        return respond(request, 422, error_body(exc.code, str(exc.message), fields, **getattr(exc, "extra", {})))

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("Not found.")))

    @api.exception_handler(PermissionDenied)
    def on_403(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body("forbidden", _("You may not do this.")))

    @api.exception_handler(AuthenticationError)
    def on_401(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(request, 401, error_body("unauthorized", _("Log in or send a valid API token.")))

    def on_bad_request(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        # A malformed or oversized request: too many fields or files, a body over the limit, a multipart
        # body without a boundary... The same answers as the pages' handlers (core/http_errors.py).
        problem = request_problem(exc if isinstance(exc, BaseException) else None)
        assert problem is not None
        logger.warning("Bad request to %s: %s: %s", request.path, type(exc).__name__, str(exc)[:200])
        return respond(request, problem.status, error_body(problem.code, problem.message))

    for kind in (SuspiciousOperation, BadRequest, MultiPartParserError, UnreadablePostError):
        api.add_exception_handler(kind, on_bad_request)

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, IntegerOutOfRange):  # valid JSON, but an integer no database can hold
            message = out_of_range_message()
            fields = {_field_name(list(loc)): [message] for loc in exc.__cause__.locations}
            return respond(request, 422, error_body("invalid", _("The request is not valid."), fields))
        if exc.status_code == 400 and isinstance(exc.__cause__, (ValueError, RecursionError)):  # ninja: not JSON
            return respond(request, 400, error_body("invalid_json", _("The request body is not valid JSON.")))
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}.get(
            exc.status_code, "error"
        )
        return respond(request, exc.status_code, error_body(code, str(exc)))
