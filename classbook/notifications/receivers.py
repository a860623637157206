"""Listen to the journal, the timetable and this app's own services; enqueue work, do nothing heavy here.

Each receiver runs after the sender's transaction committed, once per transaction, and enqueues one
task (with the database backend: one INSERT).
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from classbook.journal.events import journal_changed
from classbook.notifications import tasks
from classbook.notifications.signals import deliveries_ready
from classbook.timetable.events import lesson_changed


@receiver(journal_changed)
def on_journal_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    wanted = [
        i
        for i in items
        if i.get("new") and i.get("kind") in {"mark", "attendance", "homework", "period_grade", "correction"}
    ]
    if wanted:
        tasks.fan_out.enqueue("journal", wanted)


@receiver(lesson_changed)
def on_lesson_changed(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    tasks.fan_out.enqueue("timetable", items)


@receiver(deliveries_ready)
def on_deliveries_ready(sender: Any, items: list[dict[str, Any]], **kwargs: Any) -> None:
    tasks.enqueue_deliveries([pk for item in items for pk in item["ids"]])
