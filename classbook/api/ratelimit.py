"""Per-caller rate limits of the API (issue 18): 429 with ``Retry-After`` in the API's error shape.

Every authenticated call counts against one budget: the **API token**'s when the call carries one
(``Authorization: Bearer cb_...``; each token its own budget, so a runaway script does not starve the
owner's other tokens or browser), else the **session user**'s. Budgets are set in settings
(``API_RATE_LIMITS``, from the environment: ``API_RATE_TOKEN``, ``API_RATE_SESSION``) as
``"<requests>/<period>"`` with the period in seconds or ``s``/``min``/``h``/``day`` (``"600/min"``);
``"off"`` (or ``0``) switches a budget off. Anonymous calls are refused with 401 before any counting.

Counting is a fixed window in the cache (Django's ``default`` cache: Redis in production, so every worker
shares the count; ``LocMemCache`` otherwise, per process): one ``add`` and one atomic ``incr`` per call,
the key naming the caller and the window, kept for two windows. When the budget is spent the answer is
429 ``rate_limited`` with ``Retry-After`` = the seconds until the window ends. While Redis is unreachable
the count answers 0 (``core/cache.py``) and calls are let through: a cache outage must not take the API
down with it.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import ngettext
from ninja import NinjaAPI
from ninja.errors import Throttled
from ninja.throttling import BaseThrottle

from classbook.core.hashing import HashingBusy
from classbook.core.http_errors import error_body

TOKEN_ATTRIBUTE = "api_token_id"  # noqa: S105 - set on the request by ``auth.TokenAuth`` when a token authenticated it
_PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]*)\s*$")


@dataclass(frozen=True)
class Rate:
    requests: int
    seconds: int


def parse_rate(text: str) -> Rate | None:
    """``"600/min"`` -> Rate(600, 60); ``"100/30"`` -> Rate(100, 30); ``"off"``/``"0"``/``""`` -> None."""
    text = (text or "").strip().lower()
    if text in ("", "off", "0", "none"):
        return None
    found = _RATE.match(text)
    if found is None or (found[3] and found[3] not in _PERIODS) or not (found[2] or found[3]):
        raise ValueError(f"A rate looks like '600/min' or '100/30' (requests per seconds), not {text!r}")
    seconds = int(found[2] or 1) * _PERIODS.get(found[3], 1)
    requests = int(found[1])
    return Rate(requests, seconds) if requests > 0 and seconds > 0 else None


def caller(request: HttpRequest) -> tuple[str, str] | None:
    """(budget, identity) of an authenticated call: the token's id, else the session user's id."""
    token_id = getattr(request, TOKEN_ATTRIBUTE, None)
    if token_id is not None:
        return "token", str(token_id)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return "session", str(user.pk)
    return None


class CallerRateLimit(BaseThrottle):
    """The ninja throttle of the whole API (``NinjaAPI(throttle=...)``): runs after authentication."""

    def __init__(self) -> None:
        self._local = threading.local()  # the wait of this thread's last refusal (one instance serves all)

    def allow_request(self, request: HttpRequest) -> bool:
        who = caller(request)
        if who is None:
            return True
        rate = parse_rate(getattr(settings, "API_RATE_LIMITS", {}).get(who[0], ""))
        if rate is None:
            return True
        now = time.time()
        window = int(now // rate.seconds)
        key = f"cb:api-rate:{who[0]}:{who[1]}:{rate.seconds}:{window}"
        used = _count(key, rate.seconds)
        if used <= rate.requests:
            return True
        self._local.wait = (window + 1) * rate.seconds - now
        return False

    def wait(self) -> float | None:
        return float(getattr(self._local, "wait", 1.0))


def _count(key: str, seconds: int) -> int:
    # The key names its window, so it is never reused: kept two windows, long past its last increment.
    cache.add(key, 0, timeout=2 * seconds)
    try:
        return int(cache.incr(key))
    except ValueError:  # evicted between the add and the increment (LocMemCache under pressure)
        cache.add(key, 1, timeout=2 * seconds)
        return 1


def install_rate_limits(api: NinjaAPI) -> None:
    """The 429 answer in the API's one error shape (ninja sets ``Retry-After`` from ``wait``)."""

    @api.exception_handler(Throttled)
    def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
        seconds = max(1, math.ceil(exc.wait or 1))
        body = error_body(
            "rate_limited",
            ngettext(
                "Too many requests. Try again in %(seconds)s second.",
                "Too many requests. Try again in %(seconds)s seconds.",
                seconds,
            )
            % {"seconds": seconds},
            retry_after=seconds,
        )
        response = api.create_response(request, body, status=429)
        response["Retry-After"] = str(seconds)
        return response

    @api.exception_handler(HashingBusy)
    def on_hashing_busy(request: HttpRequest, exc: HashingBusy) -> HttpResponse:
        """The token login while every password-hashing slot is taken (core/hashing.py): the same 429."""
        return on_throttled(request, Throttled(wait=exc.retry_after))
