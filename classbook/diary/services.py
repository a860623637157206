"""Changes to the diary's settings (R5.1): one function per action, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from classbook.access import structure
from classbook.core.audit import log_action
from classbook.core.errors import PermissionDeniedError
from classbook.diary.models import DiaryPolicy

if TYPE_CHECKING:
    from classbook.access.context import SchoolContext
    from classbook.people.models import User


@transaction.atomic
def update_diary_policy(*, acting_user: User, ctx: SchoolContext, show_average: bool) -> DiaryPolicy:
    """Set whether students and parents see averages per subject (R5.1). Whether they are weighted is the
    school's one rule, set in the journal rules (``journal.stats.weighted_averages``).

    Only holders of the school-settings permission (not read-only viewers) may change it.
    """
    from django.utils.translation import gettext as _

    if ctx.user != acting_user or not structure.may_manage_school_settings(ctx):
        raise PermissionDeniedError(_("You may not change the school's settings."))
    school = ctx.school
    policy = DiaryPolicy.objects.select_for_update().filter(school=school).first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = DiaryPolicy.objects.create(school=school)
        except IntegrityError:  # created by a concurrent request in the meantime
            policy = DiaryPolicy.objects.select_for_update().get(school=school)
    old = {"show_average": policy.show_average}
    new = {"show_average": bool(show_average)}
    if old == new:
        return policy
    policy.show_average = new["show_average"]
    policy.full_clean()
    policy.save()
    log_action("diary.policy.changed", actor=acting_user, school=school, obj=policy, data={"old": old, "new": new})
    return policy
