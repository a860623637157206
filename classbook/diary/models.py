"""What the students' and parents' diary shows, configurable per school (R5.1, R5.2)."""

from __future__ import annotations

from django.conf import settings
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


class DiaryView(SchoolOwned):
    """Somebody looked at a student's diary on a day (R9.2: "how many parents actually look").

    One row per viewer, student and day, whatever the number of pages opened: no time of day, no page, no
    address — the least that answers the question. Written by ``services.record_view`` with one
    ``INSERT … ON CONFLICT DO NOTHING``; the student's own looks and their parents' only (a class teacher's
    preview is not a look). Rows older than ``services.DIARY_VIEWS_KEPT_DAYS`` are deleted by
    ``manage.py prune_diary_views`` (docs/reports.md, "Usage").
    """

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    student = models.ForeignKey("people.Student", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    as_parent = models.BooleanField(help_text="False: the student's own diary; True: a parent's look at a child's.")

    class Meta:
        verbose_name = _("diary view")
        verbose_name_plural = _("diary views")
        constraints = [
            models.UniqueConstraint(fields=["school", "viewer", "student", "day"], name="diaryview_one_per_day")
        ]
        indexes = [models.Index(fields=["school", "day"], name="diaryview_school_day")]

    def __str__(self) -> str:
        return f"{self.viewer_id} → {self.student_id} {self.day}"
