"""Switching the forecast on or off for parents (R6.5): the one write of the forecast."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from classbook.access.journal import school_roles
from classbook.access.reports import may_switch_parent_forecast_roles
from classbook.core.audit import log_action
from classbook.core.errors import PermissionDeniedError
from classbook.people.models import User
from classbook.reports.models import ReportSettings
from classbook.schools.models import School

ACTION = "reports.forecast.parents_switched"


@transaction.atomic
def set_parent_forecast(*, acting_user: User, school: School, shown: bool) -> ReportSettings:
    """Show parents their child's forecast in the diary, or stop showing it (default: not shown).

    Only the school's director or a deputy (``access.reports.may_switch_parent_forecast_roles``, checked here
    again for every caller); the audit entry ``reports.forecast.parents_switched`` keeps the old and new value.
    Setting the same value again writes nothing.
    """
    if not may_switch_parent_forecast_roles(school_roles(acting_user, school.pk)):
        raise PermissionDeniedError(_("Only the director or a deputy may decide whether parents see the forecast."))
    found = ReportSettings.objects.select_for_update().filter(school=school).first()
    obj = found or ReportSettings.defaults_for(school.pk, school.country)
    old = obj.forecast_for_parents
    if found is not None and old == shown:
        return obj
    obj.forecast_for_parents = shown
    obj.save()
    log_action(ACTION, actor=acting_user, school=school, obj=obj, data={"old": old, "new": shown})
    return obj
