"""Who reads, builds, verifies and destroys archives (issue 12, R6.7, R6.8).

- The administration (director, deputies, administrators) reads every archive of the school, downloads its
  files, sees the builds, starts a build ("build now") and runs the verification.
- A class teacher reads (and downloads) the archives of their own class only: the class's journal is
  theirs to keep; they neither build nor verify.
- A destruction act is drafted by the director or an administrator and confirmed by the director only.
- The school's archive settings (time zone, the days, retention terms) are changed by those who manage the
  school's settings.
- Subject teachers, the secretary, students, parents, an education authority's viewers and another school's
  people never see the school's archives (404); anonymous users are sent to the login (the API: 401).
"""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.archive.models import ArchiveBuild, ArchiveRecord, DestructionAct
from classbook.people.models import Role

ADMINISTRATION = frozenset({Role.DIRECTOR, Role.DEPUTY, Role.ADMIN})


def manages_archives(ctx: SchoolContext) -> bool:
    """The administration, acting in its own role (never an authority's read-only viewer)."""
    return bool(ctx.roles & ADMINISTRATION)


def may_read_archives(ctx: SchoolContext) -> bool:
    """The archive list (page and API): the administration and class teachers."""
    return manages_archives(ctx) or (Role.TEACHER in ctx.roles and ctx.is_class_teacher)


def archive_records(ctx: SchoolContext) -> QuerySet[ArchiveRecord]:
    """The school's archives the user reads: all for the administration, their class's for a class teacher."""
    qs = ArchiveRecord.objects.filter(school=ctx.school)
    if manages_archives(ctx):
        return qs
    if Role.TEACHER in ctx.roles and ctx.homeroom_class_ids:
        return qs.filter(school_class_id__in=ctx.homeroom_class_ids)
    return qs.none()


def may_build_archives(ctx: SchoolContext) -> bool:
    return manages_archives(ctx)


def archive_builds(ctx: SchoolContext) -> QuerySet[ArchiveBuild]:
    """The school's builds (their progress): the administration's."""
    qs = ArchiveBuild.objects.filter(school=ctx.school)
    return qs if manages_archives(ctx) else qs.none()


def may_verify_archives(ctx: SchoolContext) -> bool:
    return manages_archives(ctx)


def may_draft_destruction(ctx: SchoolContext) -> bool:
    return bool(ctx.roles & {Role.DIRECTOR, Role.ADMIN})


def may_confirm_destruction(ctx: SchoolContext) -> bool:
    """Only the director confirms what is destroyed (the act is the director's)."""
    return Role.DIRECTOR in ctx.roles


def destruction_acts(ctx: SchoolContext) -> QuerySet[DestructionAct]:
    qs = DestructionAct.objects.filter(school=ctx.school)
    return qs if may_draft_destruction(ctx) else qs.none()


def may_change_archive_settings(ctx: SchoolContext) -> bool:
    return ctx.has(Perm.MANAGE_SCHOOL_SETTINGS) and not ctx.is_read_only
