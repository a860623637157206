"""The roster's own records: the book of certificates issued and parents' requests to change data (R7.3, R7.6).

People, enrolments and guardian links live in ``classbook.people``; these rows refer to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from classbook.core.models import SchoolOwned


class DocumentKind(models.TextChoices):
    """Documents about education a school issues and records in its book (книга обліку і видачі свідоцтв)."""

    PRIMARY = "primary", _("Certificate of primary education")
    BASIC = "basic", _("Certificate of basic secondary education")
    COMPLETE = "complete", _("Certificate of complete general secondary education")
    DUPLICATE = "duplicate", _("Duplicate of a document about education")
    ACADEMIC_RECORD = "academic_record", _("Academic record (certificate of studies)")


class IssuedDocument(SchoolOwned):
    """One line of the book of certificates issued (R7.3): what was issued to whom and who received it.

    Lines are never deleted: a mistake is corrected by ``roster.services.correct_issued_document``, which keeps
    the old values in the audit log, and the line's ``version`` rises with each correction.
    """

    kind = models.CharField(_("document"), max_length=20, choices=DocumentKind.choices)
    series = models.CharField(_("series"), max_length=10)
    number = models.CharField(_("number"), max_length=20)
    issued_on = models.DateField(_("date of issue"))
    student = models.ForeignKey(
        "people.Student", verbose_name=_("student"), on_delete=models.PROTECT, related_name="issued_documents"
    )
    # Who took the document: the student themselves (both empty) or a guardian (the link's person, or a name).
    received_by_guardian = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_by_name = models.CharField(_("received by"), max_length=255, blank=True)
    receipt_signed = models.BooleanField(_("receipt signed"), default=False)
    remarks = models.CharField(_("remarks"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["issued_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["school", "series", "number"], name="issueddocument_unique_number"),
        ]
        indexes = [models.Index(fields=["school", "issued_on"]), models.Index(fields=["student"])]

    @property
    def received_by_student(self) -> bool:
        return not self.received_by_name


class ChangeTarget(models.TextChoices):
    STUDENT = "student", _("the child's data")
    GUARDIAN = "guardian", _("my own data")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")


CHANGE_FIELD_LABELS = {
    "last_name": _("Last name"),
    "first_name": _("First name"),
    "patronymic": _("Patronymic"),
    "address": _("Address"),
    "phone": _("Phone"),
    "email": _("E-mail"),
}


class ChangeRequest(SchoolOwned):
    """A parent reports new personal data (R7.6, seed 004 §4.4.2): the child's or their own.

    The values are applied only when the class teacher or the secretary accepts (``roster.services``);
    a rejection keeps the reason. ``student`` is always the child the request is made for — for the parent's
    own data too, so the child's class teacher is the one who reviews it.
    """

    student = models.ForeignKey("people.Student", on_delete=models.PROTECT, related_name="change_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    target = models.CharField(_("whose data"), max_length=10, choices=ChangeTarget.choices)
    changes = models.JSONField(_("new values"), default=dict)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(_("reason of the rejection"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("request to change personal data")
        verbose_name_plural = _("requests to change personal data")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False), name="changerequest_decided"
            ),
        ]
        indexes = [
            models.Index(fields=["school", "status"]),
            models.Index(fields=["requested_by", "created_at"]),
        ]

    def change_lines(self) -> list[tuple[str, str]]:
        """The new values with their translated field names, for the pages."""
        return [(str(CHANGE_FIELD_LABELS.get(k, k)), str(v)) for k, v in (self.changes or {}).items()]
