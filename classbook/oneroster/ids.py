"""Stable sourcedIds and dateLastModified for a school's objects (docs/oneroster.md, "Identifiers").

A sourcedId is the one an import recorded (``SourcedId``), else UUID 5 of the school's org id and the object's
kind and key: the same object always has the same id, and exporting writes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Max
from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.oneroster.models import SourcedId
from classbook.schools.models import School

# The namespace of Classbook's derived ids (UUID 5 of the URL below); never change it, ids would all move.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://classbook.invalid/oneroster/v1p2")


def format_datetime(value: dt.datetime) -> str:
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@dataclass
class _Recorded:
    sourced_id: str
    source_modified: dt.datetime | None
    recorded_at: dt.datetime


class Ids:
    """The identifiers and modification times of one school's objects, loaded in two queries."""

    def __init__(self, school: School) -> None:
        self.school = school
        self._recorded = {
            (r.kind, r.key): _Recorded(r.sourced_id, r.source_modified, r.recorded_at)
            for r in SourcedId.objects.filter(school=school)
        }
        org = self._recorded.get(("org", "school"))
        self.org = org.sourced_id if org else str(uuid.uuid5(NAMESPACE, f"school:{school.pk}"))
        self._namespace = uuid.uuid5(NAMESPACE, f"org:{self.org}")
        self._audit: dict[tuple[str, str], dt.datetime] | None = None
        self.created = school.created_at

    def sid(self, kind: str, key: object) -> str:
        recorded = self._recorded.get((kind, str(key)))
        return recorded.sourced_id if recorded else str(uuid.uuid5(self._namespace, f"{kind}:{key}"))

    def audit_time(self, object_type: str, object_id: object) -> dt.datetime | None:
        """The last audited change of an object (``core.audit`` entries of this school)."""
        if self._audit is None:
            rows = (
                AuditEntry.objects.filter(school=self.school)
                .exclude(object_id="")
                .values("object_type", "object_id")
                .annotate(last=Max("at"))
            )
            self._audit = {(r["object_type"], r["object_id"]): r["last"] for r in rows}
        return self._audit.get((object_type, str(object_id)))

    def modified(self, kind: str, key: object, *times: dt.datetime | None) -> dt.datetime:
        """dateLastModified: the latest of ``times``; the imported file's own date while nothing changed since
        the import; the school's creation when nothing is known."""
        known = [t for t in times if t is not None]
        latest = max(known) if known else None
        recorded = self._recorded.get((kind, str(key)))
        if recorded and recorded.source_modified and (latest is None or latest <= recorded.recorded_at):
            return recorded.source_modified
        return latest or self.created


def now() -> dt.datetime:
    return timezone.now()
