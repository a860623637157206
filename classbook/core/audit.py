"""Writing the administrative audit log (namespaced actions, as pretix's log_action)."""

from __future__ import annotations

from typing import Any

from django.db import models

from classbook.core.models import AuditEntry


def log_action(
    action: str,
    *,
    actor: Any,
    school: Any = None,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record ``action`` (e.g. ``"people.activation_code.issued"``) by ``actor``."""
    return AuditEntry.objects.create(
        school=school,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )
