"""API authentication: personal API tokens (``Authorization: Bearer cb_...``) and the browser session."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer

from classbook.core.errors import PermissionDeniedError
from classbook.people.credentials import needs_2fa_setup
from classbook.people.models import ApiToken

TOKEN_PREFIX = "cb_"  # noqa: S105 - a public prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        row = (
            ApiToken.objects.select_related("user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True)
            .first()
        )
        # A revoked token, or any token of a deactivated account, is no token (issue 9).
        if row is None or not row.user.is_active:
            return None
        now = timezone.now()
        if row.expires_at and row.expires_at <= now:
            return None
        if needs_2fa_setup(row.user):
            # A token made before the school required two-factor login must not bypass it (R1.5).
            raise PermissionDeniedError(_("Set up two-factor login first."), code="two_factor_required")
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        setattr(request, "api_token_id", row.pk)  # noqa: B010 - the rate limit's budget (api/ratelimit.py)
        return row.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token, as in the pages."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:  # type: ignore[override]
        # Without a session cookie there is nothing to protect (the caller is anonymous: 401, not 403).
        # With one, the parent class enforces CSRF on unsafe methods; skipping it would let any site
        # make a logged-in browser call the API.
        if request.COOKIES.get(self.param_name) is None:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        # A deactivated account gets nothing, whatever the authentication backend let through (issue 9).
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


api_auth = [TokenAuth(), SessionAuth(csrf=True)]
