"""Pages a service worker may keep on the device for one user (the diary, the teacher's own grid: issue 17).

The worker (``static/classbook/sw.js``) keeps a page only when the server marks it with ``X-Offline-Key``, an
opaque key of the user; it keeps each user's pages in a cache of that key and deletes every other user's first.
Such pages are ``Cache-Control: private, no-store``: no HTTP cache keeps them, only the worker's own copy.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.crypto import salted_hmac


def offline_key(user_id: int) -> str:
    """An opaque key of the user for the worker's cache name: the same user, the same key; nobody can guess it."""
    return salted_hmac("classbook.diary.offline", str(user_id)).hexdigest()[:32]


def mark_keepable(response: HttpResponse, user_id: int | None, window_hours: int | None = None) -> HttpResponse:
    """Never kept by HTTP caches; ``user_id``: the worker may keep this page for that user, ``window_hours``:
    and no longer than that (the school's offline window; the worker drops an older copy instead of showing it)."""
    response["Cache-Control"] = "private, no-store"
    if user_id is not None:
        response["X-Offline-Key"] = offline_key(user_id)
        if window_hours is not None:
            response["X-Offline-Window"] = str(window_hours)
    return response
