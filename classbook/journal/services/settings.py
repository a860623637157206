"""The school's journal rules, work types and attendance codes (R2.2, R2.5-R2.8)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from classbook.core.audit import log_action
from classbook.core.errors import DomainError
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    JournalPolicy,
    Mark,
    WorkType,
)
from classbook.journal.rules import policy_for
from classbook.people.models import User

# --- The school's journal rules, work types and attendance codes (R2.2, R2.5-R2.8) ------------------


def _config_audit(action: str, *, acting_user: User, obj: Any, data: dict[str, Any]) -> None:
    log_action(f"journal.{obj._meta.model_name}.{action}", actor=acting_user, school=obj.school, obj=obj, data=data)


def _config_snapshot(obj: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: str(getattr(obj, name)) for name in fields}


def _save_config(*, acting_user: User, obj: Any, fields: dict[str, Any]) -> Any:
    old = _config_snapshot(obj, fields) if obj.pk else {}
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    new = _config_snapshot(obj, fields)
    changed = sorted(k for k in new if old.get(k) != new[k])
    _config_audit(
        "updated" if old else "created",
        acting_user=acting_user,
        obj=obj,
        data={"old": {k: old.get(k) for k in changed}, "new": {k: new[k] for k in changed}},
    )
    return obj


@transaction.atomic
def update_journal_policy(*, acting_user: User, school: Any, fields: dict[str, Any]) -> JournalPolicy:
    """Change the school's journal rules: correction window and roles, accumulation, averages (R2.6, R2.7)."""
    policy = JournalPolicy.objects.select_for_update().get(pk=policy_for(school.pk).pk)
    return _save_config(acting_user=acting_user, obj=policy, fields=fields)


@transaction.atomic
def save_work_type(*, acting_user: User, school: Any, work_type: WorkType | None, fields: dict[str, Any]) -> WorkType:
    """Create or change a work type of the school (R2.5); weights feed the weighted average (R2.6)."""
    obj = WorkType(school=school) if work_type is None else WorkType.objects.select_for_update().get(pk=work_type.pk)
    return _save_config(acting_user=acting_user, obj=obj, fields=fields)


@transaction.atomic
def save_attendance_code(
    *, acting_user: User, school: Any, code: AttendanceCode | None, fields: dict[str, Any]
) -> AttendanceCode:
    """Create or change an attendance code of the school and its meaning (R2.8)."""
    obj = AttendanceCode(school=school) if code is None else AttendanceCode.objects.select_for_update().get(pk=code.pk)
    return _save_config(acting_user=acting_user, obj=obj, fields=fields)


@transaction.atomic
def delete_work_type(*, acting_user: User, work_type: WorkType) -> None:
    """Delete a work type no mark uses; one in use is refused: marks keep their meaning (legal record)."""
    if Mark.objects.filter(work_type=work_type).exists():
        raise DomainError(
            _("“%(name)s” is used by marks and cannot be deleted. Switch off “in use” instead.")
            % {"name": work_type.name},
            code="in_use",
        )
    _config_audit("deleted", acting_user=acting_user, obj=work_type, data={"code": work_type.code})
    work_type.delete()


@transaction.atomic
def delete_attendance_code(*, acting_user: User, code: AttendanceCode) -> None:
    """Delete an attendance code nobody was ever marked with; one in use is refused (legal record)."""
    if Attendance.objects.filter(code=code).exists():
        raise DomainError(
            _("“%(code)s” is used in the journal and cannot be deleted. Switch off “in use” instead.")
            % {"code": code.code},
            code="in_use",
        )
    _config_audit("deleted", acting_user=acting_user, obj=code, data={"code": code.code})
    code.delete()
