"""Structured JSON errors: ``{"error": {"code": ..., "message": ..., "fields": {...}}}``, never a 500 on bad input."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return {"error": body}


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

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}.get(
            exc.status_code, "error"
        )
        return respond(request, exc.status_code, error_body(code, str(exc)))
