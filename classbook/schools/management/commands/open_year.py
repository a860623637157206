"""Operators: open the next school year of a school (R4.3) — the same service as the wizard's page.

    python manage.py open_year --school lyceum-1 --by deputy.login --dry-run
    python manage.py open_year --school lyceum-1 --by deputy.login \
        --name 2027/2028 --start 2027-09-01 --end 2028-06-30 --first-classes "1-А,1-Б" --hold-back 123,456

Dates, name, final level and first-year classes default to last year's shifted by a year. ``--by`` names an
administrator, director or deputy of the school: the opening is recorded in their name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from classbook.core.errors import DomainError
from classbook.people.models import User
from classbook.schools import opening
from classbook.schools.models import School


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("Write dates as YYYY-MM-DD: %(value)s") % {"value": value}) from None


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}) from None


def _ids(value: str) -> frozenset[int]:
    try:
        return frozenset(int(v) for v in value.replace(" ", "").split(",") if v)
    except ValueError:
        raise CommandError(_("Write student ids separated by commas.")) from None


class Command(BaseCommand):
    help = "Open the next school year from the previous one (classes promoted, students, workload, timetable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--school", required=True, help="The school's address name")
        parser.add_argument("--by", required=True, help="Login of the administrator, director or deputy acting")
        parser.add_argument("--name", help="For example 2027/2028 (default: last year's name plus one)")
        parser.add_argument("--start", type=_date, help="First day, YYYY-MM-DD")
        parser.add_argument("--end", type=_date, help="Last day, YYYY-MM-DD")
        parser.add_argument("--final-level", type=int, help="Classes of this level graduate (default: the highest)")
        parser.add_argument("--first-classes", help="Comma-separated names of new empty first-level classes")
        parser.add_argument("--hold-back", type=_ids, default=frozenset(), help="Comma-separated ids of students")
        parser.add_argument(
            "--hold-back-file", help="A UTF-8 text file: one student per line, personal file number or full name"
        )
        parser.add_argument(
            "--days-file", help="A UTF-8 text file of days to add or move: one a line, DD.MM.YYYY[ - DD.MM.YYYY] Name"
        )
        parser.add_argument("--no-timetable", action="store_true", help="Do not copy the weekly timetable")
        parser.add_argument("--dry-run", action="store_true", help="Only show what would be created")

    def handle(self, *args: Any, **opts: Any) -> None:
        school = School.objects.filter(slug=opts["school"], is_active=True).first()
        if school is None:
            raise CommandError(_("There is no active school “%(slug)s”.") % {"slug": opts["school"]})
        user = User.objects.filter(username=opts["by"], is_active=True).first()
        if user is None:
            raise CommandError(_("There is no active user “%(login)s”.") % {"login": opts["by"]})
        if not opening.may_open_year(user, school):
            raise CommandError(_("Only the administration may open a school year."))
        defaults = opening.defaults(school)
        first = opts["first_classes"]
        start, end = opts["start"] or defaults.get("start"), opts["end"] or defaults.get("end")
        if start is None or end is None:  # no --start/--end and no previous year to follow
            raise CommandError(_("Enter the first and the last day of the new year."))
        data = opening.OpeningInput(
            name=opts["name"] or defaults.get("name", ""),
            start=start,
            end=end,
            final_level=opts["final_level"],
            first_classes=None if first is None else tuple(n.strip() for n in first.split(",") if n.strip()),
            held_back=opts["hold_back"],
            copy_timetable=not opts["no_timetable"],
        )
        began = time.monotonic()
        try:
            if opts["hold_back_file"]:
                listed = opening.held_back_from_list(
                    school=school, start=data.start, text=_read(opts["hold_back_file"])
                )
                data = dataclasses.replace(data, held_back=data.held_back | listed)
            if opts["days_file"]:
                data = dataclasses.replace(data, day_changes=opening.day_changes_from_text(_read(opts["days_file"])))
            if opts["dry_run"]:
                plan = opening.plan_opening(acting_user=user, school=school, data=data)
            else:
                result = opening.open_year(acting_user=user, school=school, data=data)
                plan = result.plan
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        self._report(plan)
        if opts["dry_run"]:
            self.stdout.write(_("Dry run: nothing was written."))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Opened %(name)s in %(seconds).1f s: %(counts)s")
                    % {
                        "name": result.year.name,
                        "seconds": time.monotonic() - began,
                        "counts": ", ".join(f"{k} {v}" for k, v in result.counts.items()),
                    }
                )
            )

    def _report(self, plan: opening.OpeningPlan) -> None:
        out = self.stdout.write
        out(
            _("From %(source)s to %(name)s (%(start)s - %(end)s)")
            % {
                "source": plan.source.name,
                "name": plan.input.name,
                "start": plan.input.start,
                "end": plan.input.end,
            }
        )
        for c in plan.classes:
            origin = c.source_name or c.kind
            out(f"  {origin:>12} -> {c.name:<10} {len(c.students):>3}")
        if plan.graduating:
            out(_("Graduating: %(classes)s") % {"classes": ", ".join(f"{n} ({k})" for n, k in plan.graduating)})
        if plan.held_back:
            out(_("Held back: %(names)s") % {"names": ", ".join(f"{s.name} -> {s.to_class}" for s in plan.held_back)})
        if plan.left:
            out(_("Left the school, not carried: %(n)s") % {"n": len(plan.left)})
        for p in plan.periods:
            out(f"  {p.name}: {p.start} - {p.end} ({p.why})")
        for d in plan.holidays:
            out(f"  {d.name}: {d.start} - {d.end} ({d.why})")
        for line in plan.assignments_skipped:
            out(_("Not copied: %(line)s") % {"line": line})
        out(
            _("Periods %(p)s, holidays %(h)s, assignments %(a)s, timetable entries %(e)s")
            % {"p": len(plan.periods), "h": len(plan.holidays), "a": plan.assignments, "e": plan.entries}
        )
