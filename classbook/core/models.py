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
    ``subject`` is the person the entry is about (the account logged in, the person given a role or a
    code); ``core.audit.log_action`` fills it in so the log can be filtered by person on an index.
    Entries without a school (logins, a person's own two-factor or token changes) are shown to a
    school's readers of the log when their subject is a current member of that school
    (``access.scopes.audit_entries_of_members``).
    """

    school = models.ForeignKey("schools.School", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        # The audit log pages newest first on (at, id) keyset cursors; every filter has an index that
        # starts with the school and ends with (at, id), so a page reads 51 index entries, not the table.
        # The action index uses the pattern operator class on PostgreSQL so "people.%" prefixes use it
        # whatever the database collation (other databases ignore ``opclasses``).
        indexes = [
            models.Index(fields=["school", "at", "id"], name="audit_school_at"),
            models.Index(fields=["school", "actor", "at", "id"], name="audit_school_actor_at"),
            models.Index(fields=["school", "subject", "at", "id"], name="audit_school_subject_at"),
            models.Index(
                fields=["school", "action", "at", "id"],
                name="audit_school_action_at",
                opclasses=["int8_ops", "varchar_pattern_ops", "timestamptz_ops", "int8_ops"],
            ),
            models.Index(fields=["object_type", "object_id"]),
        ]
        ordering = ["-at", "-id"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit entries are append-only")
