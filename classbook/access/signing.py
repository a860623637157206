"""Who may manage a school's signing certificate (issue 12).

- The school's administrators and its director: the certificate signs the school's archives in the
  school's name (R6.7), a decision of the school's management.
- Nobody else of the school (deputy, secretary, teacher, student, parent: 403), never a read-only
  authority viewer, never another school's administrator or director (404: the school is not theirs).
- A certificate of another school is 404 (``signing_certificates`` is scoped by school).
"""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.people.models import Role
from classbook.signing.models import SigningCertificate

MANAGERS = frozenset({Role.ADMIN, Role.DIRECTOR})


def may_manage_signing(ctx: SchoolContext) -> bool:
    """The certificate page and API, reading and writing alike."""
    return bool(ctx.roles & MANAGERS) and not ctx.is_read_only


def signing_certificates(ctx: SchoolContext) -> QuerySet[SigningCertificate]:
    """The school's certificates (the active one and the history) for those who manage them; nothing for
    anybody else (deny by default)."""
    if not may_manage_signing(ctx):
        return SigningCertificate.objects.none()
    return SigningCertificate.objects.filter(school=ctx.school)
