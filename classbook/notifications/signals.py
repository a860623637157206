"""Signals of the notifications app.

``deliveries_ready`` is sent after commit (batched per transaction, ``classbook.core.events``) with
``items=[{"ids": [...]}, ...]``: deliveries to send now. ``receivers.py`` enqueues the send task.
"""

from __future__ import annotations

from django.dispatch import Signal

deliveries_ready = Signal()
