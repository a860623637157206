"""Queue the archives that are due (R6.7): weekly copies on Friday evenings, semester archives after each
semester, the year archive on the school's deadline. Idempotent; run it every 15 minutes (systemd timer
or cron, docs/deployment.md and docs/archive.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classbook.archive import schedule
from classbook.schools.models import School


class Command(BaseCommand):
    help = "Queue the weekly, semester and year archives that are due and not queued yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="only this school (its address name)")

    def handle(self, *args: Any, **options: Any) -> None:
        schools = School.objects.filter(is_active=True).order_by("pk")
        if options["school"]:
            schools = schools.filter(slug=options["school"])
            if not schools.exists():
                raise CommandError(f"no active school {options['school']!r}")
        queued = [build for school in schools for build in schedule.queue_due(school)]
        for build in queued:
            self.stdout.write(f"queued: {build.school.slug} {build.kind} {build.start}..{build.end}")
        self.stdout.write(f"archives queued: {len(queued)}")
