"""Changes to the diary's settings (R5.1): one function per action, audited."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from classbook.access import structure
from classbook.core.audit import log_action
from classbook.core.errors import PermissionDeniedError
from classbook.diary.models import DiaryPolicy, DiaryView

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


# --- Who looks at the diary (R9.2) ------------------------------------------------------------------

DIARY_VIEWS_KEPT_DAYS = 400  # a school year and a summer: the usage report covers at most that
_SECONDS_A_DAY = 24 * 3600  # the key names the day, so a longer life only keeps a dead key a little longer


def record_view(ctx: SchoolContext, student_id: int) -> None:
    """Note that the user looked at the student's diary today — one ``INSERT … ON CONFLICT DO NOTHING`` the
    first time a day, one cache read after that.

    Every door of the diary calls this once the student is known to be readable (the pages' and the API's
    ``_person``): the student's own look, or a parent's at their child's; a class teacher's preview is not
    counted. Not audited: it changes nothing in the school's record, and one row a day is all it keeps.
    """
    if student_id == ctx.own_student_id:
        as_parent = False
    elif student_id in ctx.child_student_ids:
        as_parent = True
    else:
        return
    day = timezone.localdate()
    # Noted once a day: after the row is written the cache remembers it, and the day's next looks cost one
    # cache read instead of a transaction (three statements) on the primary. A cache that forgot (restarted,
    # evicted, down) only means the upsert runs again: it is idempotent.
    noted = f"diary:viewed:{ctx.user.pk}:{student_id}:{int(as_parent)}:{day.isoformat()}"
    if cache.get(noted):
        return
    row = DiaryView(school_id=ctx.school.pk, viewer_id=ctx.user.pk, student_id=student_id, day=day, as_parent=as_parent)
    DiaryView.objects.bulk_create([row], ignore_conflicts=True)
    cache.set(noted, 1, timeout=_SECONDS_A_DAY)


def prune_diary_views(today: dt.date | None = None) -> int:
    """Delete the diary views older than ``DIARY_VIEWS_KEPT_DAYS`` (every school); the number deleted."""
    first_kept = (today or timezone.localdate()) - dt.timedelta(days=DIARY_VIEWS_KEPT_DAYS)
    deleted, _per_model = DiaryView.objects.filter(day__lt=first_kept).delete()
    return deleted
