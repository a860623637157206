"""This app's own after-commit event: deliveries were recorded and can be sent (``core.events``)."""

from __future__ import annotations

from django.dispatch import Signal

deliveries_ready = Signal()
