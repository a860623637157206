"""Apply the signed orders whose day has come and close the ended school years (run it daily, e.g. at 00:30)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classbook.records import services
from classbook.schools.models import School


class Command(BaseCommand):
    help = "Apply signed orders whose effective day has come; close years that ended once a later year exists."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="the school's address name (default: every school)")

    def handle(self, *args: Any, **options: Any) -> None:
        school = None
        if options["school"]:
            school = School.objects.filter(slug=options["school"]).first()
            if school is None:
                raise CommandError(f"No school {options['school']!r}.")
        applied, failed = services.apply_due_orders(school=school)
        closed = services.close_ended_years(school=school)
        self.stdout.write(f"{applied} orders applied, {failed} failed, {closed} enrolments of ended years closed.")
