"""Send the daily digests (one per person and channel per day; running it again the same day sends
nothing new). Run once a day, in the evening (docs/notifications.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from classbook.notifications import services


class Command(BaseCommand):
    help = "Send today's notification digests (idempotent per person, channel and day)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--day", help="The digest's day, YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = dt.date.fromisoformat(options["day"]) if options["day"] else None
        except ValueError as exc:
            raise CommandError("--day must be YYYY-MM-DD") from exc
        counts = services.send_digests(day)
        self.stdout.write(f"sent {counts['sent']}, failed {counts['failed']}, already sent {counts['skipped']}")
