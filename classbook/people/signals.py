"""Keep the list of a user's login sessions (R1.5) and count failed logins for throttling."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone

from classbook.people.credentials import clear_failures, record_failure
from classbook.people.models import UserSession


def client_ip(request: Any) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_logged_in)
def record_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    if not request.session.session_key:
        request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "last_seen": timezone.now(),
            "ip": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:255],
        },
    )
    clear_failures(user.get_username())


@receiver(user_logged_out)
def forget_session(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and getattr(request, "session", None) is not None and request.session.session_key:
        UserSession.objects.filter(session_key=request.session.session_key).delete()


@receiver(user_login_failed)
def count_login_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """Every failed password check counts towards the throttle, whether or not the username exists."""
    record_failure(str(credentials.get("username") or ""), client_ip(request) if request is not None else None)
