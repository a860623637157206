"""Per-user interface language, the staff session idle timeout and required two-factor setup (R1.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.contrib.messages import constants as message_levels
from django.contrib.messages.storage import default_storage
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classbook.people.credentials import needs_2fa_setup, staff_memberships
from classbook.people.models import UserSession

LAST_ACTIVITY_KEY = "classbook_last_activity"
IDLE_LIMIT_KEY = "classbook_idle_minutes"
NEEDS_2FA_KEY = "classbook_needs_2fa_setup"
# How often the guard writes "last seen" and re-reads the policies (idle limit, required 2FA):
# often enough to be accurate to a minute, rarely enough not to write on every request.
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
        else:
            lang = ""
        response = self.get_response(request)
        if lang:
            response.headers.setdefault("Content-Language", lang)
        return response


def staff_idle_minutes(user: object) -> int | None:
    """The idle limit for a staff user: the strictest of their schools', or None for non-staff."""
    limits = list(staff_memberships(user).values_list("school__staff_idle_minutes", flat=True))  # type: ignore[arg-type]
    if not limits:
        return None
    return min(limits)


def refresh_policies(request: HttpRequest) -> None:
    """Re-read the idle limit and the two-factor requirement for the logged-in user into the session."""
    request.session[IDLE_LIMIT_KEY] = staff_idle_minutes(request.user)
    request.session[NEEDS_2FA_KEY] = needs_2fa_setup(request.user)  # type: ignore[arg-type]


def _setup_allowed_paths() -> set[str]:
    return {
        resolve_url("people:two_factor"),
        resolve_url("people:logout"),
        resolve_url("people:set_language"),
        resolve_url("set_language"),
    }


class SessionGuardMiddleware:
    """End idle staff sessions (per-school ``staff_idle_minutes``; students and parents are never idle-logged
    out), end sessions the user ended from another device and sessions of deactivated accounts, and hold
    staff who must set up two-factor login on the setup page (R1.5: a teacher's session left open in a
    classroom must not serve a student)."""

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
        if not request.user.is_active:
            # A deactivated account (issue 9). Django's backend already refuses it; this guard holds
            # whatever backend is configured, and ends the session instead of leaving it behind.
            return self._end(request, _("This session was ended. Please log in again."))
        session = request.session
        now = timezone.now()
        last_raw = session.get(LAST_ACTIVITY_KEY)
        last = dt.datetime.fromisoformat(last_raw) if last_raw else None
        if IDLE_LIMIT_KEY not in session:
            refresh_policies(request)
        limit = session.get(IDLE_LIMIT_KEY)
        if limit and last and now - last > dt.timedelta(minutes=limit):
            return self._end(
                request,
                _("Your session ended after %(minutes)s minutes without activity. Please log in again.")
                % {"minutes": limit},
            )
        if last is None or now - last > TOUCH_EVERY:
            session[LAST_ACTIVITY_KEY] = now.isoformat()
            key = session.session_key
            if key and last is not None:
                if not UserSession.objects.filter(session_key=key).update(last_seen=now):
                    # The user ended this session from another device (R1.5).
                    return self._end(request, _("This session was ended. Please log in again."))
                refresh_policies(request)
        if session.get(NEEDS_2FA_KEY) and request.path not in _setup_allowed_paths():
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"code": "two_factor_required", "message": _("Set up two-factor login first.")}},
                    status=403,
                )
            # Static files never get here: WhiteNoise answers them before the session is read.
            return redirect("people:two_factor")
        return None

    def _end(self, request: HttpRequest, message: str) -> HttpResponse | None:
        path = request.get_full_path()
        logout(request)
        if request.path.startswith("/api/"):
            # The API answers as for any anonymous caller (401 JSON).
            return None
        response = redirect_to_login(path) if request.method == "GET" else redirect(settings.LOGIN_URL)
        # The message middleware runs inside this one, so store the message ourselves.
        storage = default_storage(request)
        storage.add(message_levels.INFO, message)
        storage.update(response)
        return response
