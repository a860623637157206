"""Who may open and change the administration area of a school's calendar and structure (R1.7, R4.4).

- Directors, deputies, administrators and education-authority viewers read every section.
- Writes need the section's permission (``Perm.MANAGE_SCHOOL_SETTINGS``, ``MANAGE_CALENDAR``,
  ``MANAGE_STRUCTURE``); read-only authority viewers never write.
- Teachers, secretaries, students and parents do not open the area (403).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.core.collation import name_order
from classbook.people.models import Membership, Role, User
from classbook.schools.models import ScaleValue

AREA_PERMS: tuple[Perm, ...] = (Perm.MANAGE_SCHOOL_SETTINGS, Perm.MANAGE_CALENDAR, Perm.MANAGE_STRUCTURE)


def may_read_area(ctx: SchoolContext) -> bool:
    """Those who manage any part of the calendar or structure, and authority viewers (control)."""
    return ctx.is_authority_viewer or any(ctx.has(p) for p in AREA_PERMS)


def may_write(ctx: SchoolContext, perm: Perm) -> bool:
    return ctx.has(perm) and not ctx.is_read_only


def may_manage_school_settings(ctx: SchoolContext) -> bool:
    """School settings and policies (the diary's averages among them): ``MANAGE_SCHOOL_SETTINGS``, not read-only."""
    return may_write(ctx, Perm.MANAGE_SCHOOL_SETTINGS)


# Opening a school year creates the calendar, the classes and the workload, and copies the timetable.
OPEN_YEAR_PERMS: tuple[Perm, ...] = (Perm.MANAGE_CALENDAR, Perm.MANAGE_STRUCTURE, Perm.MANAGE_TIMETABLE)


def may_open_year(ctx: SchoolContext) -> bool:
    """The year-opening wizard, its API and its command: every permission it writes under, not read-only."""
    return not ctx.is_read_only and all(ctx.has(p) for p in OPEN_YEAR_PERMS)


def teachers(ctx: SchoolContext) -> QuerySet[User]:
    """Current teachers of the school: the only people who may be class teachers or teach an assignment."""
    if not may_read_area(ctx):
        return User.objects.none()
    member_ids = (
        Membership.objects.filter(school=ctx.school, role=Role.TEACHER, is_active=True)
        .exclude(until__lt=timezone.localdate())
        .values("user_id")
    )
    return User.objects.filter(pk__in=member_ids, is_active=True).order_by(*name_order())


def scale_values(ctx: SchoolContext) -> QuerySet[ScaleValue]:
    """Values of the school's marking scales (reference data every member may read)."""
    return ScaleValue.objects.filter(school=ctx.school)
