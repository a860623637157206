"""Sending what is due, again and again, until nothing due is left: the retry loop of every outgoing delivery
(notifications' e-mail and Telegram, webhooks), one place."""

from __future__ import annotations

from collections.abc import Callable


def send_due(due: Callable[[], list[int]], deliver: Callable[[list[int]], dict[str, int]]) -> dict[str, int]:
    """Send every delivery ``due()`` returns, batch after batch, adding up ``deliver``'s counts
    (``sent``, ``retry``, ``skipped``); stop when none is due, or when a whole batch failed again (their
    retry time has moved on, so the next call of ``due()`` would only return later ones)."""
    total = {"sent": 0, "retry": 0, "skipped": 0}
    while ids := due():
        counts = deliver(ids)
        for name, value in counts.items():
            total[name] = total.get(name, 0) + value
        if counts.get("sent", 0) == 0 and counts.get("skipped", 0) == 0:
            break
    return total
