"""Who sees a report built in the background (``reports.ReportRun``) and who compares an authority's schools.

A run holds a finished report file: exactly what its requester could read when they asked. So:

- a school's run is read (its state, its file) by the person who asked, as long as they still read that
  school's reports (``may_read_reports``), and by the school's director; nobody else — not another teacher,
  not the deputy, not another school's people (404: not even its existence);
- an authority's run (the comparison of its schools) is read by the viewer who asked, as long as they are
  still a viewer of that authority;
- anonymous users never (the pages send them to the login, the API answers 401).

The authority's comparison (issue 11) is open to the viewers of an education authority
(``people.AuthorityViewer``), over the active schools the authority oversees and no other; a director,
a teacher or anyone without a viewer row for that authority gets 404. The comparison carries school-level
aggregates only (no names, no contact details), so ``VIEW_CONTACTS`` is not needed for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from classbook.access.context import SchoolContext
from classbook.access.reports import may_read_reports
from classbook.people.models import AuthorityViewer, Role
from classbook.reports.models import ReportRun
from classbook.schools.models import EducationAuthority, School

if TYPE_CHECKING:
    from classbook.people.models import User


def _signed_in(user: User | AnonymousUser) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


# --- A school's runs ------------------------------------------------------------------------------------


def may_start_school_run(ctx: SchoolContext) -> bool:
    """Whoever reads the school's reports may have one built in the background (the report's own filters
    and access rules apply again when it is built)."""
    return may_read_reports(ctx)


def school_runs(ctx: SchoolContext) -> QuerySet[ReportRun]:
    """The school's runs the user reads: their own (while they read reports), every run for the director."""
    qs = ReportRun.objects.filter(school=ctx.school)
    if Role.DIRECTOR in ctx.roles:
        return qs
    if not may_read_reports(ctx):
        return qs.none()
    return qs.filter(requested_by=ctx.user)


def may_read_school_run(ctx: SchoolContext, run: ReportRun) -> bool:
    """The same rule as ``school_runs`` for one run already read."""
    if run.school_id != ctx.school.pk:
        return False
    if Role.DIRECTOR in ctx.roles:
        return True
    return run.requested_by_id == ctx.user.pk and may_read_reports(ctx)


# --- The authority's comparison -------------------------------------------------------------------------


def viewer_authorities(user: User | AnonymousUser) -> QuerySet[EducationAuthority]:
    """The education authorities the user views (none for anonymous users and inactive accounts)."""
    if not _signed_in(user) or user.pk is None:
        return EducationAuthority.objects.none()
    return EducationAuthority.objects.filter(
        pk__in=AuthorityViewer.objects.filter(user_id=user.pk).values("authority_id")
    ).order_by("name")


def comparable_authorities(ctx: SchoolContext) -> list[EducationAuthority]:
    """The authorities whose comparison a school's reports page links: those of a viewer (no query for others)."""
    return list(viewer_authorities(ctx.user)) if ctx.is_authority_viewer else []


def authority_or_404(user: User | AnonymousUser, authority_id: int) -> EducationAuthority:
    """The authority the user views, else 404 (a director, a teacher, another authority's viewer)."""
    found = viewer_authorities(user).filter(pk=authority_id).first()
    if found is None:
        raise Http404
    return found


def compared_schools(user: User | AnonymousUser, authority: EducationAuthority) -> QuerySet[School]:
    """The active schools of ``authority`` when the user views it, else none: the only schools compared."""
    if not viewer_authorities(user).filter(pk=authority.pk).exists():
        return School.objects.none()
    return School.objects.filter(is_active=True, authorities=authority).order_by("name")


def authority_runs(user: User | AnonymousUser, authority: EducationAuthority) -> QuerySet[ReportRun]:
    """The authority's runs the user reads: those they asked for, while they view the authority."""
    if not _signed_in(user) or not viewer_authorities(user).filter(pk=authority.pk).exists():
        return ReportRun.objects.none()
    return ReportRun.objects.filter(Q(authority=authority) & Q(requested_by_id=user.pk))


def may_read_authority_run(user: User | AnonymousUser, run: ReportRun) -> bool:
    return bool(
        _signed_in(user)
        and run.authority_id is not None
        and run.requested_by_id == user.pk
        and viewer_authorities(user).filter(pk=run.authority_id).exists()
    )
