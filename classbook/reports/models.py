"""How a school defines the figures of its progress reports (R6.1): one row per school.

The definitions of успішність / успеваемость and якість знань / качество знаний differ between countries
and schools; ``docs/reports.md`` gives every formula and its source. A school without a row uses the
defaults of :meth:`ReportSettings.defaults_for` (not saved until someone changes them).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class RateBasis(models.TextChoices):
    """What success and quality rates are shares of."""

    STUDENTS = "students", _("Students (a student counts once, by their lowest grade)")
    GRADES = "grades", _("Grades (every period grade counts once)")


class GroupBy(models.TextChoices):
    """What one line of the progress report is (not stored: a filter)."""

    CLASS = "class", _("Class")
    YEAR_LEVEL = "year_level", _("Year level")
    SUBJECT = "subject", _("Subject")
    TEACHER = "teacher", _("Teacher")
    SCHOOL = "school", _("Whole school")


class ReportSettings(SchoolOwned):
    """The school's definitions of the progress report's rates (R6.1); see docs/reports.md."""

    basis = models.CharField(
        _("rates are shares of"), max_length=10, choices=RateBasis.choices, default=RateBasis.STUDENTS
    )
    not_attested_fails = models.BooleanField(
        _("“н/а” counts as a failing grade"),
        default=True,
        help_text=_("Otherwise students (grades) “not attested” are left out of the rates, like exempt ones."),
    )
    include_departed = models.BooleanField(
        _("count students who left the class before the period ended"),
        default=False,
    )
    show_sou = models.BooleanField(
        _("show the degree of learning (СОУ)"),
        default=False,
        help_text=_("The Russian СОУ: 5 → 100 %, 4 → 64 %, 3 → 36 %, 2 → 16 %, н/а → 7 %."),
    )
    # R6.5: parents see their child's forecast in the diary only when the school switches it on (director or
    # deputy, ``reports.forecast_services.set_parent_forecast``, audited).
    forecast_for_parents = models.BooleanField(_("parents see their child's forecast"), default=False)

    class Meta:
        verbose_name = _("report settings")
        verbose_name_plural = _("report settings")
        constraints = [models.UniqueConstraint(fields=["school"], name="reportsettings_one_per_school")]

    def __str__(self) -> str:
        return f"report settings of school {self.school_id}"

    @classmethod
    def defaults_for(cls, school_id: int, country: str) -> ReportSettings:
        """The common defaults (not saved): the СОУ is shown in Russian-style schools."""
        return cls(school_id=school_id, show_sou=country == "RU")


def _weight(verbose: Any) -> models.PositiveSmallIntegerField[int, int]:
    return models.PositiveSmallIntegerField(verbose, default=1, validators=[MaxValueValidator(100)])


class QualitySettings(SchoolOwned):
    """The school's formula of the per-teacher journal-keeping quality indicator (R6.11, 002): the weight of
    each filling figure of ``reports.filling``; one row per school, the defaults (every weight 1) until
    somebody changes them (``reports.services.update_quality_settings``). docs/reports.md gives the formula."""

    w_topic = _weight(_("weight: lessons with a topic"))
    w_homework = _weight(_("weight: lessons with homework"))
    w_register = _weight(_("weight: registers taken"))
    w_timely = _weight(_("weight: marks entered on time"))
    w_accumulation = _weight(_("weight: students with enough marks"))
    w_remarks = _weight(_("weight: remarks fixed"))

    class Meta:
        verbose_name = _("journal-keeping quality formula")
        verbose_name_plural = _("journal-keeping quality formulas")
        constraints = [models.UniqueConstraint(fields=["school"], name="qualitysettings_one_per_school")]

    def __str__(self) -> str:
        return f"quality formula of school {self.school_id}"


class RunStatus(models.TextChoices):
    """Where a report built in the background is (``classbook/reports/runs.py``)."""

    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ReportRun(models.Model):
    """A long report built in the background (a whole school's or a year's export, the authority's comparison):
    who asked, which report with which filters, how far it got, and the file when it is ready.

    A run belongs to a school (the school's reports) or to an education authority (the comparison of its
    schools), never both; only the person who asked reads it (and, for a school's run, its director).
    The file is kept until ``expires_at``; ``manage.py prune_report_runs`` deletes older runs.
    """

    school = models.ForeignKey(
        "schools.School", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=True
    )
    authority = models.ForeignKey(
        "schools.EducationAuthority", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("report"), max_length=40)
    fmt = models.CharField(_("format"), max_length=8)
    params = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=200, blank=True)
    content = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(school__isnull=False) & models.Q(authority__isnull=True))
                | (models.Q(school__isnull=True) & models.Q(authority__isnull=False)),
                name="reportrun_school_or_authority",
            )
        ]

    def __str__(self) -> str:
        return f"report run {self.pk} ({self.kind}, {self.status})"

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0
