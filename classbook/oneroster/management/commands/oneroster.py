"""OneRoster 1.2 for operators (issue 13): ``manage.py oneroster export --school SLUG --output FILE [--since T]``
writes the school's package; ``manage.py oneroster check FILE`` runs the column-level checker on any package
(ours or another system's) and prints every problem; it exits with status 1 when there is one.
``manage.py oneroster import-gradebook FILE --school SLUG --user LOGIN`` imports a package's gradebook into the
school's journals as that user (the director or an administrator), all or nothing, printing every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime

from classbook.core.errors import DomainError
from classbook.oneroster import csvzip, services, spec
from classbook.oneroster.imports import ImportRefused
from classbook.people.models import User
from classbook.schools.models import School


class Command(BaseCommand):
    help = (
        "OneRoster 1.2: `export` a school's CSV package, `check` a package against the 1.2 CSV binding, "
        "`import-gradebook` a package's marks into the school's journals."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["export", "check", "import-gradebook"])
        parser.add_argument("file", nargs="?", help="check: the zip to check")
        parser.add_argument("--school", help="export: the school's address name")
        parser.add_argument("--output", help="export: where to write the zip")
        parser.add_argument("--user", help="import-gradebook: the login of the director or administrator importing")
        parser.add_argument("--since", help="export: a delta of the changes after this UTC time (ISO 8601)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "export":
            self._export(options)
        elif options["action"] == "import-gradebook":
            self._import_gradebook(options)
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

    def _import_gradebook(self, options: dict[str, Any]) -> None:
        school = School.objects.filter(slug=options["school"] or "").first()
        user = User.objects.filter(username=options["user"] or "").first()
        if school is None or user is None or not options["file"]:
            raise CommandError("give the zip, --school (an existing school's address name) and --user (a login)")
        try:
            result = services.import_gradebook(acting_user=user, school=school, data=Path(options["file"]).read_bytes())
        except ImportRefused as exc:
            for error in exc.errors:
                self.stdout.write(f"{error.file}.csv:{error.row}: {error.message}")
            raise CommandError(f"{len(exc.errors)} problems; nothing was imported") from exc
        except (OSError, DomainError) as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{name}: {n}" for name, n in sorted(result.counts.items()))
        self.stdout.write(f"{school.slug}: gradebook imported ({counts})")

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
