"""``manage.py seed_demo``: create the demo school (deterministic from ``--seed``)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from classbook.demo import generator
from classbook.schools.models import slug_validator


def _int_option(value: Any, name: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise CommandError(
            _("%(option)s must be a whole number, not “%(value)s”.") % {"option": name, "value": value}
        ) from None
    if not low <= number <= high:
        raise CommandError(
            _("%(option)s must be between %(low)s and %(high)s, not %(value)s.")
            % {"option": name, "low": low, "high": high, "value": number}
        )
    return number


class Command(BaseCommand):
    help = (
        "Create a realistic demo school (students, parents, teachers, classes, curriculum) deterministically "
        "from --seed. It never deletes anything: for a fresh demo delete var/classbook.sqlite3 and migrate again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Parsed as text and validated here, so a bad value gives our translated message, not argparse's.
        parser.add_argument("--seed", default="1", help="Random seed: the same seed gives the same data (default 1).")
        parser.add_argument("--students", default="1000", help="Students per school (default 1000).")
        parser.add_argument("--scale", default="1", help="Number of schools: SLUG, SLUG-2, ... (benchmarks).")
        parser.add_argument("--school", default=generator.DEFAULT_SLUG, help="Address name of the school (demo).")
        parser.add_argument(
            "--last-year-journal",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Also fill the closed year 2025/2026 lesson by lesson (default: only with --scale above 1).",
        )
        parser.add_argument(
            "--jobs",
            default="auto",
            help="Processes building the schools side by side on PostgreSQL (default: one per CPU, at most 4).",
        )
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if the school already exists.")
        parser.add_argument(
            "--fresh", action="store_true", help="Not supported: explains how to start from an empty database."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["fresh"]:
            raise CommandError(
                _(
                    "seed_demo never deletes data. For a fresh demo stop the server, delete var/classbook.sqlite3 "
                    "(or drop the PostgreSQL database), then run migrate and seed_demo again."
                )
            )
        seed = _int_option(options["seed"], "--seed", 0, 2**63 - 1)
        students = _int_option(options["students"], "--students", 1, generator.MAX_STUDENTS)
        scale = _int_option(options["scale"], "--scale", 1, generator.MAX_SCALE)
        jobs = (
            min(os.cpu_count() or 1, 4)
            if str(options["jobs"]).strip() == "auto"
            else _int_option(options["jobs"], "--jobs", 1, 16)
        )
        slug = str(options["school"]).strip()
        try:
            # Room for the "-N" suffix of the extra schools.
            slug_validator(f"{slug}-{scale}" if scale > 1 else slug)
        except ValidationError:
            raise CommandError(
                _(
                    "“%(slug)s” is not a valid school address name: "
                    "use 2-46 lowercase latin letters, digits and hyphens."
                )
                % {"slug": slug}
            ) from None
        opts = generator.DemoOptions(
            seed=seed, students=students, scale=scale, slug=slug, last_year_journal=options["last_year_journal"]
        )

        existing = generator.existing_slugs(opts)
        if existing:
            if options["if_empty"]:
                self.stdout.write(
                    _("The demo school %(slug)s already exists; nothing to do.") % {"slug": ", ".join(existing)}
                )
                return
            raise CommandError(
                _(
                    "A school with the address name %(slug)s already exists. Use --if-empty to keep it, another "
                    "--school, or delete var/classbook.sqlite3 for a fresh demo."
                )
                % {"slug": ", ".join(existing)}
            )

        summary = generator.generate(opts, jobs=jobs)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Created school %(schools)s: %(students)d students, %(classes)d classes, %(staff)d staff, "
                    "%(parents)d parents in %(seconds).1f s"
                )
                % {
                    "schools": ", ".join(summary.schools),
                    "students": summary.students,
                    "classes": summary.classes,
                    "staff": summary.staff,
                    "parents": summary.parents,
                    "seconds": summary.seconds,
                }
            )
        )
