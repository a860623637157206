"""TurboSMS's HTTP API (https://turbosms.ua/api.html) over the standard library: sending SMS, Viber with SMS
fallback, and reading delivery statuses. No database here: ``sms.py`` decides what to send and records it.

What the provider's documentation and client libraries confirm (docs/notifications.md lists it): requests go
to ``https://api.turbosms.ua/<module>/<method>.json`` with ``Authorization: Bearer <token>``; a valid request
always answers HTTP 200 with ``response_code``, ``response_status`` and ``response_result``; sending is
``message/send.json`` with ``recipients`` and an ``sms`` and/or ``viber`` object (both: Viber first, SMS when
Viber fails); 800-803 mean accepted or sent; each recipient's result carries a ``message_id``;
``message/status.json`` takes ``{"messages": [ids]}`` and answers each id's ``status`` and ``type``;
``sequence_id`` makes a request execute only once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings

ACCEPTED = frozenset({0, 800, 801, 802, 803})
# The token is missing, wrong or its account blocked: retrying does not help until someone fixes it.
REFUSED_TOKEN = frozenset({103, 105, 106, 301})
# A recipient's number cannot take the message (invalid, on the stop list, a country not allowed ...).
RECIPIENT_REFUSED = frozenset({305, 404, 406})


class ProviderError(Exception):
    """The request did not go through. ``retry`` says whether trying again later can help; ``code`` is the
    provider's ``response_code`` (or the HTTP status, or 0 for a network failure)."""

    def __init__(self, message: str, *, code: int = 0, retry: bool = True, refused_token: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.retry = retry
        self.refused_token = refused_token


@dataclass(frozen=True)
class Sent:
    message_id: str
    status: str


def call(token: str, method: str, payload: dict[str, Any]) -> Any:
    """One API call; the ``response_result`` of an accepted request, else ``ProviderError``."""
    url = f"{settings.TURBOSMS_API_URL.rstrip('/')}/{method}"
    request = urllib.request.Request(  # noqa: S310 - the URL is the configured provider endpoint
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.TURBOSMS_TIMEOUT) as response:  # noqa: S310
            answer = json.loads(response.read().decode() or "{}")
    except urllib.error.HTTPError as exc:
        raise ProviderError(f"HTTP {exc.code} from the SMS provider", code=exc.code) from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise ProviderError(f"SMS provider unreachable: {exc}") from exc
    except ValueError as exc:
        raise ProviderError("the SMS provider answered something that is not JSON") from exc
    return _result(answer)


def _result(answer: Any) -> Any:
    if not isinstance(answer, dict):
        raise ProviderError("the SMS provider answered something unexpected")
    code = int(answer.get("response_code", -1))
    status = str(answer.get("response_status") or "")
    if code in ACCEPTED:
        return answer.get("response_result")
    if code in REFUSED_TOKEN:
        raise ProviderError(f"the SMS provider refused the token ({status})", code=code, refused_token=True)
    # 2xx-4xx of TurboSMS: the request itself is wrong (sender, text, recipients); a balance (203) or a
    # provider error (5xx, 999) may pass.
    retry = code == 203 or code >= 500
    raise ProviderError(f"the SMS provider refused the message ({code} {status})", code=code, retry=retry)


def send(token: str, *, phone: str, text: str, sms_sender: str, viber_sender: str = "", sequence_id: str = "") -> Sent:
    """Send ``text`` to one number: by SMS, or by Viber with SMS as the fallback when ``viber_sender`` is set."""
    payload: dict[str, Any] = {"recipients": [phone], "sms": {"sender": sms_sender, "text": text}}
    if viber_sender:
        payload["viber"] = {"sender": viber_sender, "text": text, "ttl": settings.TURBOSMS_VIBER_TTL}
    if sequence_id:
        payload["sequence_id"] = sequence_id
    result = call(token, "message/send.json", payload)
    row = result[0] if isinstance(result, list) and result and isinstance(result[0], dict) else {}
    message_id = str(row.get("message_id") or "")
    code = int(row.get("response_code", 0) or 0)
    if not message_id or code not in ACCEPTED:
        status = str(row.get("response_status") or "no message id")
        raise ProviderError(
            f"the SMS provider did not take the number ({code} {status})",
            code=code,
            retry=code not in RECIPIENT_REFUSED,
        )
    return Sent(message_id, str(row.get("response_status") or ""))


def statuses(token: str, message_ids: list[str]) -> dict[str, dict[str, str]]:
    """message id -> ``{"status": ..., "type": "sms"|"viber"}`` for the ids the provider knows."""
    result = call(token, "message/status.json", {"messages": message_ids})
    found: dict[str, dict[str, str]] = {}
    for row in result if isinstance(result, list) else []:
        if isinstance(row, dict) and row.get("message_id") and row.get("status"):
            found[str(row["message_id"])] = {"status": str(row["status"]), "type": str(row.get("type") or "")}
    return found
