"""Shared model pieces: the tenant-owned base class and the general audit log."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class SchoolOwned(models.Model):
    """Every school-owned row carries its school (the tenant), indexed.

    The ``access`` module scopes querysets by this field; the architecture test
    checks that views and API modules never query these models directly.
    """

    school = models.ForeignKey("schools.School", on_delete=models.PROTECT, related_name="+", db_index=True)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """Append-only record of an administrative action (who, when, what, old and new values).

    Journal changes (marks, attendance) have their own, finer audit trail in the journal app.
    """

    school = models.ForeignKey("schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["school", "-at"]), models.Index(fields=["object_type", "object_id"])]
        ordering = ["-at", "-id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit entries are append-only")
