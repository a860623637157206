"""Operators: create a school (tenant) with its first administrator and print the administrator's activation code.

    python manage.py create_school --slug lyceum-5 --name "Ліцей № 5" --country UA \
        --admin-last-name Коваленко --admin-first-name Олена
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from classbook.core.errors import DomainError
from classbook.people.credentials import issue_activation_codes
from classbook.people.models import Role
from classbook.roster.services import add_staff_member
from classbook.schools.models import Country, School
from classbook.schools.services import create_school


class Command(BaseCommand):
    help = "Create a school with its standard scales and first administrator; prints the activation code."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--slug", required=True, help="Address name used in URLs, e.g. lyceum-5")
        parser.add_argument("--name", required=True)
        parser.add_argument("--country", default="UA", choices=[c.value for c in Country])
        parser.add_argument("--admin-last-name", required=True)
        parser.add_argument("--admin-first-name", required=True)
        parser.add_argument("--admin-patronymic", default="")
        parser.add_argument("--admin-email", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        if School.objects.filter(slug=opts["slug"]).exists():
            raise CommandError(_("A school with the address name “%(slug)s” exists already.") % {"slug": opts["slug"]})
        try:
            with transaction.atomic():
                school = create_school(acting_user=None, slug=opts["slug"], name=opts["name"], country=opts["country"])
                admin = add_staff_member(
                    acting_user=None,
                    school=school,
                    data={
                        "last_name": opts["admin_last_name"],
                        "first_name": opts["admin_first_name"],
                        "patronymic": opts["admin_patronymic"],
                        "email": opts["admin_email"],
                    },
                    roles=[Role.ADMIN],
                )
                # Nobody in the school may issue the first administrator's code: the operator does (no actor).
                (issued,) = issue_activation_codes(acting_user=None, school=school, users=[admin])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            _(
                "Created school %(slug)s; administrator %(username)s activates at /accounts/activate/ "
                "with code %(code)s (valid until %(until)s)."
            )
            % {
                "slug": school.slug,
                "username": admin.username,
                "code": issued.code,
                "until": f"{issued.expires_at:%Y-%m-%d}",
            }
        )
