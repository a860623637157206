"""Send every pending notification delivery whose (retry) time has come. Run it every minute or two
(systemd timer or cron, docs/notifications.md): it catches retries with a backend that cannot defer
tasks, deliveries whose worker died, and tasks a dead worker left running or that failed on a lost database
connection (``notifications/worker.py``); and it asks the SMS provider for delivery reports."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from classbook.notifications import tasks, worker


class Command(BaseCommand):
    help = "Send pending notification deliveries that are due (retries included)."

    def handle(self, *args: Any, **options: Any) -> None:
        recovered = worker.reclaim()
        if any(recovered.values()):
            self.stdout.write(f"tasks run again: {recovered['reclaimed'] + recovered['retried']}")
        # Run here, not taken from the queue: no process trusted it, so it needs no follow-up (``drain_journal``).
        drained = tasks.drain_journal.call(True)
        if drained:
            self.stdout.write(f"journal changes notified from the outbox: {drained}")
        counts = tasks.retry_due.call()
        self.stdout.write(f"sent {counts['sent']}, to retry {counts['retry']}, skipped {counts['skipped']}")
        reports = tasks.poll_sms_reports.call()
        if reports["asked"]:
            self.stdout.write(f"SMS/Viber reports asked {reports['asked']}, final {reports['final']}")
