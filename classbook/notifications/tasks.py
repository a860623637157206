"""Background tasks (django-tasks; the database backend by default, see docs/notifications.md).

Arguments are plain JSON (ids and dicts). Every task is safe to run twice: notifications are unique per
event and recipient, deliveries are claimed before they are sent, digests are recorded per day. That is what
lets ``worker.py`` run again a task whose worker was killed or whose database connection was lost.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from typing import Any

from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import default_task_backend, task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from classbook.core.prepared import Prepared
from classbook.core.retries import send_due
from classbook.journal import outbox
from classbook.journal.events import journal_announced
from classbook.journal.models import JournalChange
from classbook.notifications import services, sms, sources

# One send task carries at most this many deliveries (a class of 30 with two parents each fits).
CHUNK = 200
# One transaction of the journal drain takes at most this many changes from the outbox.
DRAIN_BATCH = 500


@task()
def fan_out(source: str, items: list[dict[str, Any]]) -> int:
    """Turn one transaction's journal or timetable events (or one messaging/appeals event) into notifications.

    In one transaction: all or nothing (a retry starts clean), and the deliveries of every event are
    queued as one send task after the commit.
    """
    handlers = {
        "journal": sources.from_journal,
        "timetable": sources.from_timetable,
        "messaging": sources.from_messaging,
        "appeals": sources.from_appeals,
        "people": sources.from_people,
    }
    if source not in handlers:
        raise ValueError(f"unknown event source {source!r}")
    with transaction.atomic():
        return handlers[source](items)


@task()
def drain_journal(follow_up: bool = False) -> int:
    """Work out the notifications of every journal change still in the outbox (``journal/outbox.py``), in
    batches of ``DRAIN_BATCH``: each batch in one transaction with its claim (a failure puts it back).

    A drain that commits may have trusted (not itself a ``follow_up``) first enqueues a follow-up
    ``2 × DRAIN_TRUST_SECONDS`` later, with the database backend: a process trusts a waiting drain it saw for
    that long without asking again (``request_journal_drain``), so a commit made after this drain's last
    claim but while it was still trusted is drained by the follow-up. The follow-up is deferred, which the
    processes' read does not count as waiting: nobody trusts it, so it needs no follow-up of its own."""
    if not follow_up and isinstance(drain_journal.get_backend(), DatabaseBackend):
        later = timezone.now() + dt.timedelta(seconds=2 * DRAIN_TRUST_SECONDS)
        drain_journal.using(run_after=later).enqueue(True)
    done = 0
    while True:
        with transaction.atomic():
            items = outbox.claim(DRAIN_BATCH)
            if not items:
                return done
            sources.from_journal(items)
            # In the same transaction: what a listener queues (webhooks) commits with the claim, or neither.
            journal_announced.send(sender=JournalChange, items=items)
            done += len(items)


# A drain that has not started yet (READY, not deferred): it will see every change committed before it starts.
_DRAIN_WAITING = Prepared(
    lambda path, backend: DBTaskResult.objects.filter(
        status="READY", task_path=path, backend_name=backend, run_after=get_date_max()
    ).values_list("id")[:1]
)


# How long a process trusts a waiting drain it saw (or enqueued) without asking again (issue 10: the read after
# every commit was a round trip per save). Every drain that may have been trusted enqueues a deferred follow-up
# (``drain_journal``): a notification waits at most twice this longer.
DRAIN_TRUST_SECONDS = 0.5
# When this process last saw a drain waiting: ``time.monotonic()`` taken before the read that saw it.
_drain_seen_at = -1e9


def request_journal_drain() -> None:
    """After a journal commit: make sure a drain will run after it. With the database backend a drain that
    has not started yet is enough (it will see this commit), so under load most commits enqueue nothing.
    A drain seen waiting (or enqueued here) is trusted for ``DRAIN_TRUST_SECONDS`` without a query: if it
    starts in the meantime and misses a later commit, its follow-up takes it (``drain_journal``). A busy
    process reads twice a second, not once per save. Other backends (``immediate``) enqueue each time."""
    global _drain_seen_at
    backend = drain_journal.get_backend()
    if not isinstance(backend, DatabaseBackend):
        drain_journal.enqueue()
        return
    asked_at = time.monotonic()
    if asked_at - _drain_seen_at < DRAIN_TRUST_SECONDS:
        return
    if not _DRAIN_WAITING.rows(path=drain_journal.module_path, backend=backend.alias):
        drain_journal.enqueue()
    if not transaction.get_connection().in_atomic_block:  # what was seen or enqueued is committed
        _drain_seen_at = asked_at


@receiver(setting_changed)
def _forget_the_drain_seen(*, setting: str, **kwargs: Any) -> None:
    """Another task backend (tests): what was seen of the old one says nothing of the new one."""
    global _drain_seen_at
    if setting == "TASKS":
        _drain_seen_at = -1e9


@task()
def notify_users(
    school_id: int, kind: str, user_ids: list[int], event_key: str, params: dict[str, Any], url: str = ""
) -> int:
    """``services.notify`` as a task, for other apps' events (messages, announcements): enqueue it on commit."""
    return len(
        services.notify(school=school_id, kind=kind, user_ids=user_ids, params=params, event_key=event_key, url=url)
    )


@task()
def send_deliveries(delivery_ids: list[int]) -> dict[str, int]:
    """Send these deliveries; those that failed are scheduled again at their retry time."""
    counts = services.deliver(delivery_ids)
    if counts["retry"]:
        schedule_retry(delivery_ids)
    return counts


@task()
def retry_due() -> dict[str, int]:
    """Send every pending delivery whose retry time has come (also run by ``manage.py send_notifications``)."""
    return send_due(services.due_deliveries, services.deliver)


@task()
def poll_sms_reports() -> dict[str, int]:
    """Delivery reports of recent SMS and Viber messages (also run by ``manage.py send_notifications``)."""
    return sms.poll_reports()


@task()
def send_digests(day: str | None = None) -> dict[str, int]:
    return services.send_digests(dt.date.fromisoformat(day) if day else None)


def enqueue_deliveries(delivery_ids: Iterable[int]) -> None:
    ids = list(delivery_ids)
    for start in range(0, len(ids), CHUNK):
        send_deliveries.enqueue(ids[start : start + CHUNK])


def schedule_retry(delivery_ids: Iterable[int]) -> None:
    """With a backend that can defer (the database, RQ), enqueue the retry for its time; otherwise the
    periodic ``send_notifications`` command picks the delivery up when it is due."""
    if not default_task_backend.supports_defer:
        return
    when = services.next_retry_at(delivery_ids)
    if when is not None:
        send_deliveries.using(run_after=when).enqueue(list(delivery_ids))
