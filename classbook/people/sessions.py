"""The login session and its user in **one statement** (issue 10: a round trip saved on every request).

Django reads the session row, then (``AuthenticationMiddleware``) the user row by the id stored in it: two
round trips on every request. ``SessionStore`` (``SESSION_ENGINE = "classbook.people.sessions"``, the
database engine with one query changed) reads the session row and, joined through the user's login session
(``UserSession``, written at login), the user row with it. ``SessionUserMiddleware`` (in place of Django's
``AuthenticationMiddleware``) then takes that user instead of reading it again, with every check Django
makes: the user id and the backend stored in the session, ``is_active`` (``ModelBackend``), the session
hash (it changes with the password and with ``session_version``: a person's other sessions end at once).
The user row is read fresh with the session on every request: nothing is cached between requests, so a
deactivation, a new password or an ended session takes effect on the next request, as before. In every
other case (no ``UserSession`` row, another backend, a different user id) the user is read as Django reads
it (one more query), so the answer never differs from Django's.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from classbook.core.prepared import Prepared, PreparedModel, PreparedWithRows
from classbook.people.models import User

_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Compiled once per process (``core/prepared.py``): the session row and its user's row, one statement.
_SESSION_AND_USER = PreparedWithRows(
    PreparedModel(Session, lambda key: Session.objects.filter(session_key=key)[:1]),
    Prepared(lambda key: User.objects.filter(login_sessions__session_key=key).values_list(*_USER_FIELDS)),
)


class SessionStore(db.SessionStore):
    """Django's database session store; loading the session also loads its user (``prefetched_user``)."""

    prefetched_user: User | None = None

    def _get_session_from_db(self) -> Any:
        self.prefetched_user = None
        session, users = _SESSION_AND_USER.fetch(key=self.session_key)
        # As Django's store: a session that expired is no session (checked here rather than in SQL).
        if session is None or session.expire_date <= timezone.now():
            self._session_key = None
            return None
        if users:
            self.prefetched_user = User.from_db("default", _USER_FIELDS, users[0])
        return session


def _verified(request: HttpRequest, user: User) -> User | None:
    """Django's session check of ``auth.get_user`` for a user already read: the stored hash must match
    (or a fallback secret's, then the session is moved to the current one); otherwise the session ends."""
    session = request.session
    stored = session.get(auth.HASH_SESSION_KEY)
    current = user.get_session_auth_hash()
    if stored and constant_time_compare(stored, current):
        return user
    if stored and any(constant_time_compare(stored, h) for h in user.get_session_auth_fallback_hash()):
        session.cycle_key()
        session[auth.HASH_SESSION_KEY] = current
        return user
    session.flush()
    return None


def get_user(request: HttpRequest) -> Any:
    """``django.contrib.auth.get_user`` without its second query when the session store read the user."""
    session = request.session
    user_id = session.get(auth.SESSION_KEY)  # loads the session (and the user with it)
    user = getattr(session, "prefetched_user", None)
    if (
        user is None
        or user_id is None
        or str(user.pk) != str(user_id)
        or session.get(auth.BACKEND_SESSION_KEY) != _MODEL_BACKEND
        or _MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS
        or not ModelBackend().user_can_authenticate(user)
    ):
        return auth.get_user(request)
    user.backend = _MODEL_BACKEND
    return _verified(request, user) or AnonymousUser()


class SessionUserMiddleware(AuthenticationMiddleware):
    """Django's ``AuthenticationMiddleware`` with ``get_user`` above (the async ``auser`` stays Django's)."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(partial(get_user, request))  # type: ignore[assignment]
