"""Writing the administrative audit log (namespaced actions, as pretix's log_action)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from classbook.core.models import AuditEntry


def subject_of(obj: models.Model | None, data: dict[str, Any] | None) -> int | None:
    """The id of the person an entry is about: the account itself, the owner of a membership, code, token
    or student record (their ``user`` field), else the ``"user"`` named in ``data``; None if no one."""
    if obj is not None:
        if obj._meta.label == settings.AUTH_USER_MODEL:
            return int(obj.pk)
        user_id = getattr(obj, "user_id", None)
        if isinstance(user_id, int):
            return user_id
    user = (data or {}).get("user")
    return user if isinstance(user, int) and not isinstance(user, bool) else None


def log_action(
    action: str,
    *,
    actor: Any,
    school: Any = None,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record ``action`` (e.g. ``"people.activation_code.issued"``) by ``actor``.

    Give every new action a label in ``classbook.audit.labels`` so the audit log page names it.
    """
    return AuditEntry.objects.create(
        school=school,
        actor=actor if getattr(actor, "pk", None) else None,
        subject_id=subject_of(obj, data),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
    )
