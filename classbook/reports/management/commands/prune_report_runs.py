"""Delete the reports built in the background whose time is over (a day after they were built). Run it daily
(systemd timer or cron, docs/reports.md "Long reports")."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from classbook.reports import runs


class Command(BaseCommand):
    help = "Delete expired background report runs and their files."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"report runs deleted: {runs.prune()}")
