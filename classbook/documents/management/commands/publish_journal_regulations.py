"""Operators: publish the journal regulations in schools created before the documents app (R8.3).

    python manage.py publish_journal_regulations [--school lyceum-5]

A school that has them already is left as it is; new schools get them when they are created.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from classbook.documents.models import Document
from classbook.documents.services import REGULATIONS_KEY, publish_journal_regulations
from classbook.schools.models import School


class Command(BaseCommand):
    help = "Publish the regulations on the electronic journal in schools that do not have them yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", help="Only this school (its address name)")

    def handle(self, *args: Any, **opts: Any) -> None:
        schools = School.objects.filter(is_active=True).order_by("slug")
        if opts["school"]:
            schools = schools.filter(slug=opts["school"])
            if not schools.exists():
                raise CommandError(f"No active school {opts['school']!r}.")
        have = set(Document.objects.filter(system_key=REGULATIONS_KEY).values_list("school_id", flat=True))
        added = 0
        for school in schools:
            if school.pk not in have:
                publish_journal_regulations(school=school)
                added += 1
        self.stdout.write(f"Journal regulations published in {added} school(s); {len(have)} had them already.")
