"""Listen to the journal (the drain of its outbox, ``journal_announced``), the timetable and the roster (their
after-commit signals) and to this app's own ``deliveries_ready``; enqueue work, nothing heavy here.

Before enqueuing, one indexed query asks whether any active webhook of the events' schools exists: a
school without webhooks (most of them) gets no task. For the journal that query runs once per drained
batch in the worker, not per save: a save pays nothing for webhooks, and a commit whose after-commit signal
was lost still reaches them (the outbox, ``journal/outbox.py``).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from classbook.journal.events import journal_announced
from classbook.roster.events import enrolment_changed
from classbook.timetable.events import lesson_changed
from classbook.webhooks import payloads, services, tasks
from classbook.webhooks.signals import deliveries_ready


def _enqueue(source: str, items: list[dict[str, Any]]) -> None:
    if items and services.has_subscribers(int(i["school_id"]) for i in items):
        tasks.fan_out.enqueue(source, items)


@receiver(journal_announced, dispatch_uid="webhooks.journal_announced")
def on_journal_announced(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    _enqueue("journal", [i for i in items if i.get("kind") in payloads.JOURNAL_KINDS])


@receiver(lesson_changed, dispatch_uid="webhooks.lesson_changed")
def on_lesson_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    _enqueue("timetable", items)


@receiver(enrolment_changed, dispatch_uid="webhooks.enrolment_changed")
def on_enrolment_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    _enqueue("roster", items)


@receiver(deliveries_ready, dispatch_uid="webhooks.deliveries_ready")
def on_deliveries_ready(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    tasks.enqueue_deliveries([pk for item in items for pk in item["ids"]])
