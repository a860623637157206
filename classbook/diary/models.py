"""What the students' and parents' diary shows, configurable per school (R5.1, R5.2)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class DiaryPolicy(SchoolOwned):
    """The diary settings of one school; one row per school, the defaults below when there is none.

    Whether averages are weighted by work type is not a diary setting: it is the school's one rule, the
    journal rules' ``weighted_averages`` (``journal.stats.weighted_averages``; the diary's own switch was
    merged into it by migration diary 0002)."""

    show_average = models.BooleanField(
        _("show the average mark per subject"),
        default=True,
        help_text=_("Students and parents see their average mark of each subject in the period."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("diary settings")
        verbose_name_plural = _("diary settings")
        constraints = [models.UniqueConstraint(fields=["school"], name="diarypolicy_one_per_school")]

    def __str__(self) -> str:
        return str(self.school)
