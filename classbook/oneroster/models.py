"""OneRoster 1.2 interop (issue 13): stable sourcedIds and the platform clients of the REST provider.

A Classbook object's sourcedId is derived (UUID 5 of the school's org id and the object's kind and key), so
nothing is written when a school is exported; an import keeps the sourcedIds (and dateLastModified) of the
file it read in ``SourcedId``, so a re-export of an imported school carries the same identifiers.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned

# The OAuth 2.0 scopes of OneRoster 1.2 this provider serves (read-only).
SCOPE_ROSTER_CORE = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly"
SCOPE_ROSTER = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
SCOPE_ROSTER_DEMOGRAPHICS = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-demographics.readonly"
SCOPE_GRADEBOOK = "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.readonly"
SCOPES = (SCOPE_ROSTER_CORE, SCOPE_ROSTER, SCOPE_ROSTER_DEMOGRAPHICS, SCOPE_GRADEBOOK)


class SourcedId(SchoolOwned):
    """The sourcedId an import gave a Classbook object (``kind`` + ``key``, e.g. ``class`` + ``12``)."""

    kind = models.CharField(max_length=24)
    key = models.CharField(max_length=64)
    sourced_id = models.CharField(max_length=255)
    # dateLastModified as the imported file said; used while the object has not changed since ``recorded_at``.
    source_modified = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["school", "kind", "key"], name="sourcedid_unique_object"),
            models.UniqueConstraint(fields=["school", "sourced_id"], name="sourcedid_unique_id"),
        ]


class Client(SchoolOwned):
    """A learning platform registered by the director: OAuth 2.0 client credentials for one school.

    Only a hash of the secret is stored (shown once, when registered).
    """

    name = models.CharField(_("name"), max_length=120)
    client_id = models.CharField(max_length=64, db_index=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("OneRoster client")
        verbose_name_plural = _("OneRoster clients")
        constraints = [
            models.UniqueConstraint(fields=["school", "client_id"], name="oneroster_client_unique_id"),
            models.UniqueConstraint(
                fields=["school", "name"], condition=Q(revoked_at__isnull=True), name="oneroster_client_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AccessToken(models.Model):
    """A bearer token issued to a client; only its hash is stored; it expires."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]
