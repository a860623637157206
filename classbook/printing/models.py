"""Printed copies of the journal and their verification codes (issue 12, R6.6).

Every PDF Classbook prints is recorded: the short code printed on each of its pages, the SHA-256 of the
file, who printed it, when and what it holds (class, subjects, days, sections). Someone holding a printed
copy enters the code on the verification page and sees what was printed, when and by whom.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class PrintKind(models.TextChoices):
    JOURNAL = "journal", _("Class journal")
    SUMMARY = "summary", _("Summary sheet")


class PrintedCopy(SchoolOwned):
    """One printed (downloaded) PDF of a class journal or summary sheet; append-only."""

    code = models.CharField(_("verification code"), max_length=16)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=PrintKind.choices)
    school_class = models.ForeignKey(
        "schools.SchoolClass", verbose_name=_("class"), on_delete=models.PROTECT, related_name="+"
    )
    # Null: printed by the system (the archive helper's weekly copy), not by a person.
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    printed_at = models.DateTimeField(_("printed at"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    # What the copy holds: subject names, sections and the period's name, as printed (JSON of plain values).
    contents = models.JSONField(_("contents"), default=dict)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    certified = models.BooleanField(_("certified copy"), default=False)
    certifier_position = models.CharField(_("position of the certifier"), max_length=120, blank=True)
    certifier_name = models.CharField(_("name of the certifier"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("printed copy")
        verbose_name_plural = _("printed copies")
        ordering = ["-printed_at", "-id"]
        indexes = [models.Index(fields=["school", "-printed_at"])]
        constraints = [
            models.UniqueConstraint(fields=["school", "code"], name="printedcopy_unique_code"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="printedcopy_dates"),
            models.CheckConstraint(condition=~Q(code=""), name="printedcopy_has_code"),
        ]

    def __str__(self) -> str:
        return self.code
