"""Who keeps and reads the school's documents and its catalogue of resources (R8.3).

- The school's administration (administrator, director, deputy) and its secretary (who keeps the orders,
  R7.5) manage both: add documents, upload versions, choose the audience; add and change resources.
  There is no librarian role; the secretary keeps the library's lines. A read-only authority viewer
  manages nothing and reads neither.
- A document is read by the managers (all of the school's documents, published or not) and by people
  one of whose roles is in its audience: administration (administrator, director, deputy, secretary),
  teachers, students, parents. A document without a version is not shown to readers.
- Every version of a document a person may read is readable (the history of a regulation is public to
  those it is published to); versions of other documents answer 404.
- The catalogue (rooms and resources) is read by the school's staff.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.documents.models import AUDIENCE_FLAGS, Audience, Document, DocumentVersion, Resource
from classbook.people.models import Role

MANAGER_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY, Role.SECRETARY})
ADMINISTRATION_ROLES = MANAGER_ROLES

_ROLE_AUDIENCE: dict[str, str] = {
    Role.ADMIN: Audience.ADMINISTRATION,
    Role.DIRECTOR: Audience.ADMINISTRATION,
    Role.DEPUTY: Audience.ADMINISTRATION,
    Role.SECRETARY: Audience.ADMINISTRATION,
    Role.TEACHER: Audience.TEACHERS,
    Role.STUDENT: Audience.STUDENTS,
    Role.PARENT: Audience.PARENTS,
}


def may_manage_documents(ctx: SchoolContext) -> bool:
    """Add documents, upload versions and choose who reads them: the administration and the secretary."""
    return bool(ctx.roles & MANAGER_ROLES) and not ctx.is_read_only


def may_open_documents(ctx: SchoolContext) -> bool:
    """The documents page and its link: everyone with a role in the school (documents may be published to them)."""
    return bool(ctx.roles)


def may_read_catalogue(ctx: SchoolContext) -> bool:
    """The catalogue of rooms and resources: the school's staff."""
    return ctx.is_staff_member


def may_manage_catalogue(ctx: SchoolContext) -> bool:
    """Add, change and remove resources: the administration and the secretary."""
    return bool(ctx.roles & MANAGER_ROLES) and not ctx.is_read_only


def audiences_of(ctx: SchoolContext) -> frozenset[str]:
    """The audience groups the person belongs to by their roles here."""
    return frozenset(_ROLE_AUDIENCE[r] for r in ctx.roles if r in _ROLE_AUDIENCE)


def readable_documents(ctx: SchoolContext) -> QuerySet[Document]:
    """Documents of the school the person may read: every one for managers; for others the documents with a
    version published to one of their audience groups; nothing for a read-only viewer."""
    qs = Document.objects.filter(school=ctx.school).select_related("current_version")
    if may_manage_documents(ctx):
        return qs
    groups = audiences_of(ctx)
    if not groups:
        return Document.objects.none()
    cond = Q(pk__in=[])
    for group in groups:
        cond |= Q(**{AUDIENCE_FLAGS[group]: True})
    return qs.filter(cond, current_version__isnull=False)


def managed_documents(ctx: SchoolContext) -> QuerySet[Document]:
    """Documents the person may change: the school's, for its managers; nothing for anyone else."""
    if not may_manage_documents(ctx):
        return Document.objects.none()
    return Document.objects.filter(school=ctx.school).select_related("current_version")


def readable_versions(ctx: SchoolContext) -> QuerySet[DocumentVersion]:
    """Versions of the documents the person may read (404 for the rest)."""
    return DocumentVersion.objects.filter(
        school=ctx.school, document__in=readable_documents(ctx).values("pk")
    ).select_related("uploaded_by")


def catalogue(ctx: SchoolContext) -> QuerySet[Resource]:
    """The school's resources, for its staff; nothing for anyone else."""
    if not may_read_catalogue(ctx):
        return Resource.objects.none()
    return Resource.objects.filter(school=ctx.school).select_related("room")


def managed_resources(ctx: SchoolContext) -> QuerySet[Resource]:
    if not may_manage_catalogue(ctx):
        return Resource.objects.none()
    return Resource.objects.filter(school=ctx.school).select_related("room")
