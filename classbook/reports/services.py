"""Changing the school's report settings (R6.1): the one write of the reports app."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from classbook.core.audit import log_action
from classbook.core.errors import DomainError
from classbook.people.models import User
from classbook.reports.models import QualitySettings, RateBasis, ReportSettings
from classbook.schools.models import School

SETTING_FIELDS = ("basis", "not_attested_fails", "include_departed", "show_sou")


@transaction.atomic
def update_report_settings(*, acting_user: User, school: School, fields: dict[str, Any]) -> ReportSettings:
    """Change how the school defines success, quality and the СОУ in its progress reports (R6.1).

    The row is created on the first change (until then the defaults apply); the audit entry
    ``reports.settings.updated`` keeps the old and the new values of what changed. Only the caller's
    access rule decides who may call this (``access.reports.may_change_report_settings``).
    """
    unknown = set(fields) - set(SETTING_FIELDS)
    if unknown:
        raise DomainError(_("Unknown report setting."), code="unknown_setting")
    if "basis" in fields and fields["basis"] not in RateBasis.values:
        raise DomainError(_("Choose what the rates are shares of."), code="invalid_basis", field="basis")
    obj = ReportSettings.objects.select_for_update().filter(school=school).first()
    obj = obj or ReportSettings.defaults_for(school.pk, school.country)
    old = _apply(obj, SETTING_FIELDS, fields)
    _save_audited(obj, SETTING_FIELDS, old, "reports.settings.updated", acting_user, school)
    return obj


def _apply(obj: Model, names: tuple[str, ...], fields: dict[str, Any]) -> dict[str, Any]:
    """Set ``fields`` on the school's settings row ``obj``; the values of ``names`` before, for the audit."""
    old = {name: getattr(obj, name) for name in names}
    for name, value in fields.items():
        setattr(obj, name, value)
    return old


def _save_audited(
    obj: Model, names: tuple[str, ...], old: dict[str, Any], action: str, acting_user: User, school: School
) -> None:
    """Validate and save a school's settings row; the audit entry keeps the old and new values of what changed."""
    obj.full_clean()
    obj.save()
    new = {name: getattr(obj, name) for name in names}
    changed = sorted(k for k in names if old[k] != new[k])
    log_action(
        action,
        actor=acting_user,
        school=school,
        obj=obj,
        data={"old": {k: old[k] for k in changed}, "new": {k: new[k] for k in changed}},
    )


QUALITY_FIELDS = ("w_topic", "w_homework", "w_register", "w_timely", "w_accumulation", "w_remarks")


@transaction.atomic
def update_quality_settings(*, acting_user: User, school: School, fields: dict[str, Any]) -> QualitySettings:
    """Change the weights of the school's journal-keeping quality indicator (R6.11, 002).

    Created on the first change; the audit entry ``reports.quality.updated`` keeps the old and the new weights
    of what changed. Who may call it: ``access.reports.may_change_quality_formula``.
    """
    unknown = set(fields) - set(QUALITY_FIELDS)
    if unknown:
        raise DomainError(_("Unknown report setting."), code="unknown_setting")
    for name, value in fields.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise DomainError(_("A weight is a whole number from 0 to 100."), code="invalid_weight", field=name)
    obj = QualitySettings.objects.select_for_update().filter(school=school).first() or QualitySettings(school=school)
    old = _apply(obj, QUALITY_FIELDS, fields)
    if not any(getattr(obj, name) for name in QUALITY_FIELDS):
        raise DomainError(_("At least one weight must be above 0."), code="invalid_weight")
    _save_audited(obj, QUALITY_FIELDS, old, "reports.quality.updated", acting_user, school)
    return obj
