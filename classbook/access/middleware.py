"""The school of an API upload's URL is resolved before its multipart body is parsed (issue 9).

django-ninja parses a multipart body (spooling its files to disk) before the route resolves the school. For
multipart requests to ``/api/.../<school>/...`` this middleware, placed before the CSRF middleware, looks
the school up first: an unknown school is a 404 (JSON), and so is one the browser session's user has no role
in. A token's owner is checked by the API's authentication, which ninja runs before it reads the body.

Pages need no such step: ``school_view`` resolves the school before a view reads the form, and what the CSRF
middleware reads earlier is bounded by the body caps (``core/middleware.py``). Their answers (a login
redirect, a JSON error for the grid's script) belong to their decorators, not to a middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse

from classbook.access.context import resolve_school
from classbook.core.http_errors import is_api
from classbook.schools.models import School


class SchoolBeforeBodyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        slug = kwargs.get("school")
        if (
            not isinstance(slug, str)
            or not is_api(request)
            or not (request.content_type or "").startswith("multipart/")
        ):
            return None
        if "HTTP_AUTHORIZATION" in request.META or not request.user.is_authenticated:
            if not School.objects.filter(slug=slug, is_active=True).exists():
                raise Http404
            return None  # the API's authentication answers for the token, or for the missing login (401)
        resolve_school(request.user, slug)  # 404 for an unknown school and for one without a role
        return None
