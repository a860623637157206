"""Reasons of absence reported by parents and marks flagged by students and parents (R2.8, R2.11).

A report or a flag is a request, never a change of the journal by itself: the class teacher (for a
report) or the teacher of the journal (for a flag) decides, and only their decision changes the journal,
through the journal's audited services. The request keeps who asked, when, who decided, when and how.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned
from classbook.journal.models import AbsenceReasonKind


def document_path(instance: AbsenceReport, filename: str) -> str:
    # Stored under a random name: the original name is kept in the row, never trusted as a path.
    return f"absence-reports/{instance.school_id}/{uuid.uuid4().hex}"


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the class teacher")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class AbsenceReport(SchoolOwned):
    """A parent's report of the reason why their child is or was absent on some days (R2.11)."""

    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="absence_reports")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True)
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    kind = models.CharField(_("kind of reason"), max_length=14, choices=AbsenceReasonKind.choices)
    text = models.CharField(_("reason"), max_length=300)
    document = models.FileField(upload_to=document_path, max_length=255, blank=True)
    document_name = models.CharField(_("file name"), max_length=200, blank=True)
    # Verified from the file's bytes at upload (classbook.core.uploads), never the uploader's content type.
    document_type = models.CharField(max_length=100, blank=True)
    document_size = models.PositiveIntegerField(default=0)
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    excused = models.BooleanField(_("excused"), default=False)
    decision_comment = models.CharField(_("comment"), max_length=500, blank=True)
    applied_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("absence report")
        verbose_name_plural = _("absence reports")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["school", "status", "-reported_at"]),
            models.Index(fields=["student", "start"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="absencereport_range"),
            models.CheckConstraint(condition=~Q(text=""), name="absencereport_has_text"),
        ]

    def __str__(self) -> str:
        return f"{self.student} {self.start:%d.%m}–{self.end:%d.%m}"


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the teacher")
    CONFIRMED = "confirmed", _("Confirmed as it is")
    CORRECTED = "corrected", _("Corrected")


class MarkFlag(SchoolOwned):
    """A student or parent says a mark looks wrong; the teacher of the journal answers (R2.11)."""

    mark = models.ForeignKey("journal.Mark", on_delete=models.PROTECT, related_name="flags")
    # Copied from the mark so the teacher's and the class teacher's lists filter without joins.
    assignment = models.ForeignKey("schools.TeachingAssignment", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="mark_flags")
    flagged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    flagged_at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(_("comment"), max_length=500)
    value_when_flagged = models.CharField(max_length=32)
    status = models.CharField(_("status"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(_("answer"), max_length=500, blank=True)
    new_value = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("flagged mark")
        verbose_name_plural = _("flagged marks")
        ordering = ["-flagged_at", "-id"]
        indexes = [
            models.Index(fields=["assignment", "status"]),
            models.Index(fields=["student", "-flagged_at"]),
            models.Index(fields=["school", "status", "-flagged_at"]),
        ]
        constraints = [
            # One open flag per mark: a second one would only ask the same question again.
            models.UniqueConstraint(fields=["mark"], condition=Q(status="open"), name="markflag_one_open"),
            models.CheckConstraint(condition=~Q(comment=""), name="markflag_has_comment"),
        ]
