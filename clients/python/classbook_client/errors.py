"""The API's error shape as exceptions: ``{"error": {"code", "message", "fields", ...}}`` -> ``ApiError``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer other than 2xx. ``code`` and ``message`` come from the API (the message is translated
    into the token owner's language); ``fields`` maps a field to its messages; ``extra`` holds anything
    else of the error object (``current`` of a conflict)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, list[str]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra or {}
        self.headers = headers or {}


class BadRequest(ApiError):
    """400/413/415: the request itself is malformed (not JSON, too large, wrong content type)."""


class AuthenticationFailed(ApiError):
    """401: no token, or a token that is revoked, expired or of a deactivated account."""


class PermissionDenied(ApiError):
    """403: the caller is known but may not do this."""


class NotFound(ApiError):
    """404: no such object, or one the caller may not see (the API does not tell them apart)."""


class Conflict(ApiError):
    """409: the object changed since the version you sent; ``current`` is its value now."""

    @property
    def current(self) -> Any:
        return self.extra.get("current")


class ValidationFailed(ApiError):
    """422: the input breaks a rule; ``fields`` says which."""


class RateLimited(ApiError):
    """429: too many requests; wait ``retry_after`` seconds."""

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after", "")
        try:
            return float(value)
        except ValueError:
            return None


class ServerError(ApiError):
    """5xx: the server failed or is unavailable (503 during an outage, with ``Retry-After``)."""


BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: BadRequest,
    415: BadRequest,
    422: ValidationFailed,
    429: RateLimited,
}


def error_for(status: int, body: Any, headers: dict[str, str]) -> ApiError:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": "error", "message": str(body)[:500] if body else f"HTTP {status}"}
    code, message = str(error.get("code", "error")), str(error.get("message", ""))
    fields = error.get("fields") if isinstance(error.get("fields"), dict) else None
    extra = {k: v for k, v in error.items() if k not in ("code", "message", "fields")}
    kind = BY_STATUS.get(status, ServerError if status >= 500 else ApiError)
    return kind(status, code, message, fields, extra, headers)
