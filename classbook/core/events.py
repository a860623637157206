"""Domain events sent after the transaction commits, batched per transaction.

A service that wants other apps to react to what it did (without importing them) calls
``send_on_commit(signal, sender, item)``. The items of one transaction are collected and, once it
commits, the signal is sent **once** with ``items=[...]``: a receiver that enqueues background work
does one insert per transaction, not one per change (a bulk save of 30 marks is one event batch).
Nothing is sent if the transaction rolls back, and inside the transaction nothing touches the
database, so the services' statement budgets do not change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal


class _Batch:
    def __init__(self, signal: Signal, sender: Any) -> None:
        self.signal = signal
        self.sender = sender
        self.items: list[dict[str, Any]] = []
        self.done = False

    def flush(self) -> None:
        self.done = True
        items, self.items = self.items, []
        if items:
            self.signal.send(sender=self.sender, items=items)


def _pending(connection: Any, batch: _Batch) -> bool:
    """Whether the batch's flush is still registered (a rolled-back transaction drops its callbacks)."""
    return not batch.done and any(entry[1] == batch.flush for entry in connection.run_on_commit)


def send_on_commit(signal: Signal, sender: Any, item: dict[str, Any], *, using: str | None = None) -> None:
    """Queue ``item`` to be sent with ``signal`` once the current transaction commits (at once outside one)."""
    if not signal.has_listeners(sender):
        return
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        signal.send(sender=sender, items=[item])
        return
    batches: dict[int, _Batch] = connection.__dict__.setdefault("_classbook_event_batches", {})
    batch = batches.get(id(signal))
    if batch is None or not _pending(connection, batch):
        batch = _Batch(signal, sender)
        batches[id(signal)] = batch
        transaction.on_commit(batch.flush, using=using)
    batch.items.append(item)
