"""A thin typed client for the Classbook API v1 (docs/api.md in the Classbook repository)."""

from classbook_client.client import Client, Response
from classbook_client.errors import (
    ApiError,
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    ValidationFailed,
)
from classbook_client.webhooks import verify_signature

__all__ = [
    "ApiError",
    "AuthenticationFailed",
    "BadRequest",
    "Client",
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Response",
    "ServerError",
    "ValidationFailed",
    "verify_signature",
]
__version__ = "1.0.0"
