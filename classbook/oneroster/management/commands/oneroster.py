"""OneRoster 1.2 for operators (issue 13): ``manage.py oneroster export --school SLUG --output FILE [--since T]``
writes the school's package; ``manage.py oneroster check FILE`` runs the column-level checker on any package
(ours or another system's) and prints every problem; it exits with status 1 when there is one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from classbook.core.errors import DomainError
from classbook.oneroster import csvzip, services, spec
from classbook.schools.models import School


class Command(BaseCommand):
    help = "OneRoster 1.2: `export` a school's CSV package, `check` a package against the 1.2 CSV binding."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "check"])
        parser.add_argument("file", nargs="?", help="check: the zip to check")
        parser.add_argument("--school", help="export: the school's address name")
        parser.add_argument("--output", help="export: where to write the zip")
        parser.add_argument("--since", help="export: a delta of the changes after this UTC time (ISO 8601)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options)
        else:
            self._check(options["file"])

    def _export(self, options: dict[str, Any]) -> None:
        school = School.objects.filter(slug=options["school"] or "").first()
        if school is None or not options["output"]:
            raise CommandError("give --school (an existing school's address name) and --output")
        since = parse_datetime(options["since"]) if options["since"] else None
        if options["since"] and (since is None or since.tzinfo is None):
            raise CommandError("--since must be an ISO 8601 time with its zone, e.g. 2026-11-01T00:00:00Z")
        data = services.export_package(acting_user=None, school=school, since=since)
        Path(options["output"]).write_bytes(data)
        self.stdout.write(f"{school.slug}: {'delta' if since else 'bulk'} package written, {len(data)} bytes")

    def _check(self, name: str | None) -> None:
        if not name:
            raise CommandError("give the zip to check")
        try:
            problems = spec.check_package(csvzip.read_zip(Path(name).read_bytes()))
        except (OSError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        for problem in problems:
            self.stdout.write(str(problem))
        self.stdout.write(f"{name}: {len(problems)} problems")
        if problems:
            raise SystemExit(1)
