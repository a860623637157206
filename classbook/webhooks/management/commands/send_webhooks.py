"""Send every pending webhook delivery whose (retry) time has come. Run it every minute or two (systemd
timer or cron, docs/api.md "Webhooks"), beside ``send_notifications``: it catches retries with a task
backend that cannot defer and deliveries whose worker died; and prunes the delivery log
(``WEBHOOKS_LOG_DAYS``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from classbook.webhooks import services, tasks


class Command(BaseCommand):
    help = "Send pending webhook deliveries that are due (retries included)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = tasks.retry_due.call()
        pruned = services.prune_log()
        self.stdout.write(
            f"sent {counts['sent']}, to retry {counts['retry']}, skipped {counts['skipped']}, pruned {pruned}"
        )
