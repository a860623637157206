"""Operate the archives (issue 12): ``manage.py archive verify [--school SLUG]`` checks every archive file's
SHA-256, each school's hash chain and the signatures, and prints exactly what is wrong; it exits with
status 1 when anything is."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classbook.archive import verify
from classbook.schools.models import School


class Command(BaseCommand):
    help = "Archives: `verify` checks files, the hash chain and the signatures of every school's archives."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--school", help="only this school (its address name)")

    def handle(self, *args: Any, **options: Any) -> None:
        schools = School.objects.order_by("pk")
        if options["school"]:
            schools = schools.filter(slug=options["school"])
            if not schools.exists():
                raise CommandError(f"no school {options['school']!r}")
        wrong = 0
        for school in schools:
            result = verify.verify(school)
            for problem in result.problems:
                where = f"archive {problem.sequence}" if problem.sequence is not None else "chain"
                line = f"{school.slug}: {where}: {problem.what}: {problem.message}"
                if problem.expected or problem.found:
                    line += f" (expected {problem.expected}, found {problem.found})"
                self.stdout.write(line)
            wrong += len(result.problems)
            if result.records:
                self.stdout.write(
                    f"{school.slug}: {result.records} archives, {result.files} files, "
                    f"{result.signatures} signatures, {result.destroyed} destroyed, {len(result.problems)} problems"
                )
        self.stdout.write(f"archive problems: {wrong}")
        if wrong:
            raise SystemExit(1)
