"""Changing the school's report settings (R6.1): the one write of the reports app."""

from __future__ import annotations

from typing import Any

from django.db import transaction
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
    found = ReportSettings.objects.select_for_update().filter(school=school).first()
    obj = found or ReportSettings.defaults_for(school.pk, school.country)
    old = {name: getattr(obj, name) for name in SETTING_FIELDS}
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    new = {name: getattr(obj, name) for name in SETTING_FIELDS}
    changed = sorted(k for k in SETTING_FIELDS if old[k] != new[k])
    log_action(
        "reports.settings.updated",
        actor=acting_user,
        school=school,
        obj=obj,
        data={"old": {k: old[k] for k in changed}, "new": {k: new[k] for k in changed}},
    )
    return obj


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
    found = QualitySettings.objects.select_for_update().filter(school=school).first()
    obj = found or QualitySettings(school=school)
    old = {name: getattr(obj, name) for name in QUALITY_FIELDS}
    for name, value in fields.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
            raise DomainError(_("A weight is a whole number from 0 to 100."), code="invalid_weight", field=name)
        setattr(obj, name, value)
    if not any(getattr(obj, name) for name in QUALITY_FIELDS):
        raise DomainError(_("At least one weight must be above 0."), code="invalid_weight")
    obj.full_clean()
    obj.save()
    new = {name: getattr(obj, name) for name in QUALITY_FIELDS}
    changed = sorted(k for k in QUALITY_FIELDS if old[k] != new[k])
    log_action(
        "reports.quality.updated",
        actor=acting_user,
        school=school,
        obj=obj,
        data={"old": {k: old[k] for k in changed}, "new": {k: new[k] for k in changed}},
    )
    return obj
