"""Domain errors raised by services, carrying a translatable message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the action. ``message`` is already translated (lazy)."""

    code = "invalid"

    def __init__(self, message: Any, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code


class PermissionDeniedError(DomainError):
    code = "forbidden"


class ConflictError(DomainError):
    code = "conflict"
