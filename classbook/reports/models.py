"""How a school defines the figures of its progress reports (R6.1): one row per school.

The definitions of успішність / успеваемость and якість знань / качество знаний differ between countries
and schools; ``docs/reports.md`` gives every formula and its source. A school without a row uses the
defaults of :meth:`ReportSettings.defaults_for` (not saved until someone changes them).
"""

from __future__ import annotations

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
