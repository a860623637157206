"""Delete the records of who looked at the diary (R9.2) older than ``DIARY_VIEWS_KEPT_DAYS`` (400 days).
Run it once a day (systemd timer or cron, docs/deployment.md); the usage report never reads further back."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from classbook.diary import services


class Command(BaseCommand):
    help = "Delete diary view records older than the usage report covers."

    def handle(self, *args: Any, **options: Any) -> None:
        pruned = services.prune_diary_views()
        self.stdout.write(f"deleted {pruned} diary view records older than {services.DIARY_VIEWS_KEPT_DAYS} days")
