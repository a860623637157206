"""Operators: issue an activation code that no school user may issue (R1.2; issue 9).

    python manage.py issue_activation_code --username o.kovalenko --school lyceum-5

For staff of several schools, Django superusers, education-authority viewers, or any person whose roles
no one administrator covers (``access/codes.py``). The code resets the person's password and two-factor
login when used: hand it over in person. Audited with no actor and ``"via": "operator command"``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from classbook.core.errors import DomainError
from classbook.people.credentials import issue_activation_codes
from classbook.people.models import User
from classbook.schools.models import School


class Command(BaseCommand):
    help = "Issue an activation code for one person as the platform operator; prints the code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="The person's username")
        parser.add_argument("--school", required=True, help="Address name of the school the code belongs to")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(_("No person with the username “%(username)s”.") % {"username": opts["username"]})
        school = School.objects.filter(slug=opts["school"], is_active=True).first()
        if school is None:
            raise CommandError(_("No active school with the address name “%(slug)s”.") % {"slug": opts["school"]})
        try:
            (issued,) = issue_activation_codes(acting_user=None, school=school, users=[user])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            _(
                "Activation code for %(username)s at %(school)s: %(code)s (valid until %(until)s). "
                "It replaces their password and two-factor login: hand it over in person."
            )
            % {
                "username": user.username,
                "school": school.slug,
                "code": issued.code,
                "until": f"{issued.expires_at:%Y-%m-%d}",
            }
        )
