"""Content-Security-Policy and Permissions-Policy on every response (docs/security.md).

The policy is the same on every page and needs no nonce (no page has inline script; the only inline style
is the site's own stylesheets, allowed by their hashes: ``core/inline_styles.py``), so a few lines do what
django-csp would: build the header once from ``settings.SECURE_CSP`` (the shape of Django 6's built-in
``SECURE_CSP``: ``{"directive": ["source", ...]}``) plus those hashes, and set it unless a view set its own.
PDFs are left without it: they are not HTML documents, ours carry no script, and browsers' built-in PDF
viewers have broken under ``object-src``/``sandbox`` policies sent with the file.
Referrer-Policy, Cross-Origin-Opener-Policy and nosniff come from Django's SecurityMiddleware.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from classbook.core.inline_styles import style_sources

NOT_A_DOCUMENT = ("application/pdf",)


def build_policy(directives: Mapping[str, Sequence[str] | str | bool]) -> str:
    """``{"default-src": ["'self'"], "upgrade-insecure-requests": True}`` -> ``default-src 'self'; ...``."""
    parts = []
    for name, value in directives.items():
        if value is True:
            parts.append(name)
        elif value:
            sources = [value] if isinstance(value, str) else list(value)
            parts.append(" ".join([name, *sources]))
    return "; ".join(parts)


def site_policy() -> str:
    """``settings.SECURE_CSP`` with the hashes of the inlined stylesheets added to ``style-src``."""
    directives = dict(getattr(settings, "SECURE_CSP", {}))
    if "style-src" in directives:
        directives["style-src"] = [*directives["style-src"], *style_sources()]
    return build_policy(directives)


class SecurityHeadersMiddleware:
    """Adds ``Content-Security-Policy`` and ``Permissions-Policy`` (a view may set its own first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = site_policy()
        self.permissions = ", ".join(f"{feature}=()" for feature in getattr(settings, "PERMISSIONS_POLICY_DENY", []))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").split(";")[0].strip() in NOT_A_DOCUMENT:
            return response
        if self.csp:
            # In development an edited stylesheet has a new hash: the policy follows it.
            csp = site_policy() if settings.DEBUG else self.csp
            response.headers.setdefault("Content-Security-Policy", csp)
        if self.permissions:
            response.headers.setdefault("Permissions-Policy", self.permissions)
        return response


class PrivateCacheMiddleware:
    """``Cache-Control: private, no-store`` on every answer to a signed-in user (a session, or an
    ``Authorization`` header) that set no caching of its own: journal pages, diaries, portfolios and their
    htmx parts hold children's personal data, which neither a shared cache (a school's proxy) nor the
    browser's disk cache of a shared computer may keep. Views that want revalidation (the grid's ETag,
    stored files: ``private, no-cache``) or the service worker's offline copy set their own header first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" in response:
            return response
        user = getattr(request, "user", None)
        if "HTTP_AUTHORIZATION" in request.META or (user is not None and user.is_authenticated):
            response["Cache-Control"] = "private, no-store"
        return response
