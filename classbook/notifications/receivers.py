"""Listen to the journal, the timetable, messaging, appeals, people (account events) and this app's own
services; enqueue work, do nothing heavy here.

Each receiver runs after the sender's transaction committed, once per transaction (journal, timetable)
or once per event (messaging, appeals), and enqueues one task (with the database backend: one INSERT).
The worker works out the recipients (``sources``, ``audiences``): an announcement to a school of
2,400 people costs the publishing request nothing but that INSERT.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from classbook.appeals.signals import (
    absence_report_decided,
    absence_report_submitted,
    mark_flag_answered,
    mark_flag_submitted,
)
from classbook.journal.events import journal_changed
from classbook.messaging.signals import announcement_published, forum_reply_posted, message_posted
from classbook.notifications import tasks
from classbook.notifications.signals import deliveries_ready
from classbook.people.events import account_changed
from classbook.timetable.events import lesson_changed


@receiver(journal_changed)
def on_journal_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    # The changes themselves wait in the journal's outbox (written with them, ``journal/outbox.py``); this
    # only makes sure a drain runs after the commit. A commit whose signal never came (the connection lost
    # right after it) is drained by the next one, by the worker's start and by ``send_notifications``.
    # A cleared entry too: it notifies nobody, but the webhooks hear of it from the drain (``journal_announced``).
    if any(i.get("kind") in {"mark", "attendance", "homework", "period_grade", "correction"} for i in items):
        tasks.request_journal_drain()


@receiver(lesson_changed)
def on_lesson_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    tasks.fan_out.enqueue("timetable", items)


@receiver(deliveries_ready)
def on_deliveries_ready(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    tasks.enqueue_deliveries([pk for item in items for pk in item["ids"]])


@receiver(account_changed)
def on_account_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    # The person is told by the worker, like every other notice; one task per committed transaction.
    tasks.fan_out.enqueue("people", items)


@receiver(message_posted)
def on_message_posted(sender: Any, instance: Any, **kwargs: Any) -> None:
    tasks.fan_out.enqueue("messaging", [{"event": "message", "id": instance.pk}])


@receiver(announcement_published)
def on_announcement_published(sender: Any, instance: Any, **kwargs: Any) -> None:
    tasks.fan_out.enqueue("messaging", [{"event": "announcement", "id": instance.pk}])


@receiver(forum_reply_posted)
def on_forum_reply_posted(sender: Any, instance: Any, **kwargs: Any) -> None:
    tasks.fan_out.enqueue("messaging", [{"event": "forum_reply", "id": instance.pk}])


def _appeal(event: str) -> Any:
    def on_appeal(sender: Any, instance: Any, **kwargs: Any) -> None:
        tasks.fan_out.enqueue("appeals", [{"event": event, "id": instance.pk}])

    on_appeal.__name__ = f"on_{event.replace(':', '_')}"
    return on_appeal


# Module-level references: signals hold receivers weakly.
on_absence_report_submitted = _appeal("absence_report:submitted")
on_absence_report_decided = _appeal("absence_report:decided")
on_mark_flag_submitted = _appeal("mark_flag:submitted")
on_mark_flag_answered = _appeal("mark_flag:answered")
absence_report_submitted.connect(on_absence_report_submitted, dispatch_uid="notifications.absence_report_submitted")
absence_report_decided.connect(on_absence_report_decided, dispatch_uid="notifications.absence_report_decided")
mark_flag_submitted.connect(on_mark_flag_submitted, dispatch_uid="notifications.mark_flag_submitted")
mark_flag_answered.connect(on_mark_flag_answered, dispatch_uid="notifications.mark_flag_answered")
