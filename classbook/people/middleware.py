"""Per-user interface language and the staff session idle timeout (R1.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classbook.people.models import STAFF_ROLES, UserSession

LAST_ACTIVITY_KEY = "classbook_last_activity"
IDLE_LIMIT_KEY = "classbook_idle_minutes"
TOUCH_EVERY = dt.timedelta(seconds=60)


class UserLanguageMiddleware:
    """Use the language the user chose in their profile, on every device (after LocaleMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        lang = getattr(user, "language", "") if user is not None and user.is_authenticated else ""
        if lang and lang in dict(settings.LANGUAGES):
            translation.activate(lang)
            request.LANGUAGE_CODE = lang  # type: ignore[attr-defined]
        response = self.get_response(request)
        if lang:
            response.headers.setdefault("Content-Language", lang)
        return response


def staff_idle_minutes(user: object) -> int | None:
    """The idle limit for a staff user: the strictest of their schools', or None for non-staff."""
    from classbook.people.models import Membership

    limits = list(
        Membership.objects.filter(user=user, is_active=True, role__in=list(STAFF_ROLES)).values_list(
            "school__staff_idle_minutes", flat=True
        )
    )
    if not limits:
        return None
    return min(limits)


class SessionGuardMiddleware:
    """End staff sessions after inactivity; end sessions that the user ended elsewhere."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            response = self._guard(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _guard(self, request: HttpRequest) -> HttpResponse | None:
        session = request.session
        now = timezone.now()
        if IDLE_LIMIT_KEY not in session:
            session[IDLE_LIMIT_KEY] = staff_idle_minutes(request.user)
        limit = session.get(IDLE_LIMIT_KEY)
        last_raw = session.get(LAST_ACTIVITY_KEY)
        last = dt.datetime.fromisoformat(last_raw) if last_raw else None
        if limit and last and now - last > dt.timedelta(minutes=limit):
            logout(request)
            messages.info(
                request,
                _("Your session ended after %(minutes)s minutes without activity. Please log in again.")
                % {"minutes": limit},
            )
            if request.path.startswith("/api/"):
                return None
            return redirect(settings.LOGIN_URL)
        if last is None or now - last > TOUCH_EVERY:
            session[LAST_ACTIVITY_KEY] = now.isoformat()
            key = session.session_key
            if key:
                updated = UserSession.objects.filter(session_key=key).update(last_seen=now)
                if not updated and last is not None:
                    # The session was ended from another device (R1.5).
                    logout(request)
                    return redirect(settings.LOGIN_URL)
        return None
