"""Who registers OneRoster clients, exports and imports, and what a platform's token may read (issue 13).

- The director registers and revokes the school's platform clients (docs/oneroster.md); the administration
  (director, administrators) exports the school as OneRoster CSV and imports a package into it.
- A platform reads through a bearer token of a client of one school: it sees that school only, and only the
  services its scopes name (roster-core for the core rostering endpoints — ``roster.readonly`` includes it —,
  roster-demographics for demographics, gradebook for the gradebook). Deputies, teachers, the secretary,
  students, parents, another school's people and authority viewers manage nothing here.
"""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.oneroster.models import (
    SCOPE_GRADEBOOK,
    SCOPE_ROSTER,
    SCOPE_ROSTER_CORE,
    SCOPE_ROSTER_DEMOGRAPHICS,
    AccessToken,
    Client,
)
from classbook.people.models import Role

# What each kind of endpoint needs: any one of the listed scopes.
NEEDS = {
    "roster-core": (SCOPE_ROSTER_CORE, SCOPE_ROSTER),
    "roster-demographics": (SCOPE_ROSTER_DEMOGRAPHICS, SCOPE_ROSTER),
    "gradebook": (SCOPE_GRADEBOOK,),
}


def may_manage_oneroster_clients(ctx: SchoolContext) -> bool:
    return Role.DIRECTOR in ctx.roles and not ctx.is_authority_viewer


def may_exchange_oneroster(ctx: SchoolContext) -> bool:
    """Export the school as OneRoster CSV, import a package into it."""
    return bool(ctx.roles & {Role.DIRECTOR, Role.ADMIN}) and not ctx.is_authority_viewer


def oneroster_clients(ctx: SchoolContext) -> QuerySet[Client]:
    qs = Client.objects.filter(school=ctx.school)
    return qs if may_manage_oneroster_clients(ctx) else qs.none()


def token_may_read(token: AccessToken, service: str) -> bool:
    """Whether a live token's scopes cover an endpoint of ``service`` (a key of ``NEEDS``)."""
    return any(scope in token.scopes for scope in NEEDS[service])
