"""``manage.py demo_logins``: where to go and which logins to try in the demo school."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from classbook.demo import generator
from classbook.demo.logins import find_demo_logins
from classbook.schools.models import School


class Command(BaseCommand):
    help = "Print the demo school's addresses and its logins (role, username, password, what to look at)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", default=generator.DEFAULT_SLUG, help="Address name of the demo school.")

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(
                _("There is no school %(slug)s. Create it first: python manage.py seed_demo")
                % {"slug": options["school"]}
            )
        logins = find_demo_logins(school)
        out = self.stdout
        out.write(_("Demo school: %(name)s") % {"name": school.name})
        out.write(_("  Log in:        /accounts/login/"))
        out.write(_("  School page:   /s/%(slug)s/") % {"slug": school.slug})
        out.write(_("  API (JSON):    /api/v1/docs"))
        out.write("")
        rows = [(_("Role"), _("Username"), _("Password"), _("What to look at"))]
        rows += [(str(login.role), login.username, login.password, str(login.hint)) for login in logins]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for i, row in enumerate(rows):
            out.write("  ".join(cell.ljust(widths[j]) if j < 3 else cell for j, cell in enumerate(row)).rstrip())
            if i == 0:
                out.write("  ".join("-" * w for w in [*widths, len(rows[0][3])]))
        if not logins:
            out.write(_("No demo logins found in this school."))
