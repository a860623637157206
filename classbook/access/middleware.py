"""The school of the URL is resolved before an upload's body is parsed (issue 9).

A multipart body is parsed (its files spooled to disk) by the first code that reads ``request.POST``: the
CSRF middleware for pages, django-ninja's parameter parsing for the API, both before the view resolves the
school. For multipart requests to a school's URL this middleware, placed before the CSRF middleware, does
that resolution first, as ``school_view`` and the API routes would do it:

- pages: an anonymous sender goes to the login page (a script asking for JSON gets 401), an unknown school
  or one the user has no role in is a 404, all before a byte of the body is read;
- API: an unknown school is a 404 (JSON), and so is a school the browser session's user has no role in;
  a token's owner is checked by the API's authentication, which django-ninja runs before it reads the body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from classbook.access.context import resolve_school
from classbook.core.http_errors import error_body, wants_json
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
        if not isinstance(slug, str) or not (request.content_type or "").startswith("multipart/"):
            return None
        if request.path.startswith("/api/"):
            if "HTTP_AUTHORIZATION" in request.META or not request.user.is_authenticated:
                if not School.objects.filter(slug=slug, is_active=True).exists():
                    raise Http404
                return None  # the API's authentication answers for the token, or the missing login (401)
        elif not request.user.is_authenticated:
            if wants_json(request):  # the journal grid's script: its session ended
                body = error_body("unauthorized", _("Your session has ended. Log in again."))
                return JsonResponse(body, status=401)
            return redirect_to_login(request.get_full_path())
        resolve_school(request.user, slug)  # 404 for an unknown school and for one without a role
        return None
