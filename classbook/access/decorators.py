"""Resolve the school once per request and check the role before a view runs."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from classbook.access.context import SchoolContext, resolve_school
from classbook.access.rules import Perm

View = Callable[..., HttpResponseBase]  # pages, redirects and file downloads (FileResponse)


Rule = Callable[[SchoolContext], bool]


def school_view(
    *perms: Perm, staff: bool = False, writes: bool = False, rule: Rule | None = None
) -> Callable[[View], View]:
    """Decorate a view taking ``(request, ctx, ...)`` under URL ``/s/<school>/...``.

    Anonymous users go to the login page; users without a role in the school get 404;
    members without every one of ``perms`` (or, with ``staff=True``, non-staff) get 403.
    ``writes=True`` refuses read-only authority viewers. ``rule`` is a named rule of ``classbook.access``
    (``journal.may_open_journals``...): 403 when it says no. The API route of the same action calls the
    same rule, so the page and the API refuse the same people.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, school: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            ctx = resolve_school(request.user, school)
            if any(not ctx.has(p) for p in perms) or (staff and not ctx.is_staff_member):
                raise PermissionDenied
            if writes and ctx.is_read_only:
                raise PermissionDenied
            if rule is not None and not rule(ctx):
                raise PermissionDenied
            request.school_ctx = ctx  # type: ignore[attr-defined]
            return view(request, ctx, *args, **kwargs)

        return wrapper

    return decorator


__all__ = ["SchoolContext", "school_view"]
