"""OneRoster operations that change state or hand data out (issue 13): clients, tokens, export, import.

Every write is audited (``oneroster.*`` actions); a client's secret and a token are shown once and stored
as SHA-256 hashes (random 256-bit values: a slow hash adds nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError
from classbook.oneroster import csvzip, gradebook, imports, rows
from classbook.oneroster.models import SCOPES, AccessToken, Client
from classbook.oneroster.spec import GRADEBOOK_FILES, ROSTER_FILES
from classbook.people.models import User
from classbook.schools.models import School

TOKEN_LIFETIME = dt.timedelta(hours=1)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class Registered:
    client: Client
    secret: str  # shown once


@transaction.atomic
def register_client(*, acting_user: User, school: School, name: str, scopes: list[str]) -> Registered:
    """The director registers a learning platform for the school with the scopes it may ask for."""
    name = (name or "").strip()[:120]
    if not name:
        raise DomainError(_("Enter a name."), field="name")
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise DomainError(_("Choose scopes from the OneRoster 1.2 list."), field="scopes")
    if Client.objects.filter(school=school, name=name, revoked_at__isnull=True).exists():
        raise ConflictError(_("A client with this name is already registered."), field="name")
    secret = secrets.token_urlsafe(32)
    client = Client.objects.create(
        school=school,
        name=name,
        client_id=secrets.token_urlsafe(18),
        secret_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        created_by=acting_user,
    )
    log_action(
        "oneroster.client.registered",
        actor=acting_user,
        school=school,
        obj=client,
        data={"name": name, "scopes": client.scopes},
    )
    return Registered(client, secret)


@transaction.atomic
def revoke_client(*, acting_user: User, client: Client) -> Client:
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.revoked_at is not None:
        raise ConflictError(_("This client is already revoked."))
    client.revoked_at = timezone.now()
    client.save(update_fields=["revoked_at"])
    AccessToken.objects.filter(client=client).delete()
    log_action(
        "oneroster.client.revoked", actor=acting_user, school=client.school, obj=client, data={"name": client.name}
    )
    return client


def authenticate_client(client_id: str, secret: str) -> Client | None:
    client = Client.objects.filter(client_id=client_id, revoked_at__isnull=True).select_related("school").first()
    if client is None or not hmac.compare_digest(client.secret_hash, _hash(secret)):
        return None
    return client


@dataclass(frozen=True)
class Issued:
    token: str
    scopes: list[str]
    expires_in: int


def issue_token(client: Client, requested: list[str]) -> Issued:
    """A bearer token for the scopes asked (all the client's scopes when none is asked); a scope the client
    was not registered for refuses the request (OAuth ``invalid_scope``)."""
    scopes = requested or list(client.scopes)
    if any(s not in client.scopes for s in scopes):
        raise DomainError(_("The client is not registered for this scope."), code="invalid_scope")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    AccessToken.objects.filter(client=client, expires_at__lt=now).delete()
    AccessToken.objects.create(
        client=client, token_hash=_hash(token), scopes=sorted(scopes), expires_at=now + TOKEN_LIFETIME
    )
    return Issued(token, sorted(scopes), int(TOKEN_LIFETIME.total_seconds()))


def token_of(bearer: str) -> AccessToken | None:
    """The live token for a bearer value (None when unknown, expired or of a revoked client)."""
    if not bearer:
        return None
    token = AccessToken.objects.filter(token_hash=_hash(bearer)).select_related("client__school").first()
    if token is None or token.expires_at <= timezone.now() or token.client.revoked_at is not None:
        return None
    return token


def export_package(
    *, acting_user: User | None, school: School, since: dt.datetime | None = None, gradebook: bool = True
) -> bytes:
    """The school as a OneRoster 1.2 CSV zip, bulk or (``since``) delta; audited (personal data leaves)."""
    names = ROSTER_FILES + (GRADEBOOK_FILES if gradebook else ())
    files = rows.build(school, since=since, files=names)
    data = csvzip.write_zip(files, delta=since is not None)
    log_action(
        "oneroster.exported",
        actor=acting_user,
        school=school,
        data={"since": since.isoformat() if since else None, "files": {n: len(r) for n, r in files.items()}},
    )
    return data


def import_package(*, acting_user: User, school: School, data: bytes) -> imports.ImportResult:
    return imports.import_package(acting_user=acting_user, school=school, data=data)


def import_gradebook(*, acting_user: User, school: School, data: bytes) -> imports.ImportResult:
    """A package's gradebook (categories, lineItems, results) into the journals of the school's classes and
    students, all or nothing, through the journal's write services (``gradebook.import_gradebook``)."""
    return gradebook.import_gradebook(acting_user=acting_user, school=school, data=data)
