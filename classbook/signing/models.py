"""The school's signing certificate (issue 12, R6.7).

An administrator uploads the school's PKCS#12 file with its password; both are stored encrypted at rest
(``classbook.signing.keystore``). One certificate is active per school; a replaced or removed certificate
stays as history (``is_active`` false), because archives signed with it must still be recognised as the
school's own when they are verified years later. The public part (the certificate and its chain, PEM) is
kept in the clear for that verification.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.models import SchoolOwned

# A certificate expiring within this many days is announced on the settings page.
EXPIRY_WARNING_DAYS = 30


class SigningCertificate(SchoolOwned):
    """A PKCS#12 file of a school: the key that signs its archives, and the certificate's public metadata."""

    is_active = models.BooleanField(_("active"), default=True)
    pkcs12_encrypted = models.BinaryField()
    password_encrypted = models.BinaryField()
    chain_pem = models.TextField()  # the certificate first, then the other certificates of the file
    subject = models.CharField(pgettext_lazy("certificate", "subject"), max_length=500)
    issuer = models.CharField(_("issuer"), max_length=500)
    serial = models.CharField(_("serial number"), max_length=100)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    fingerprint = models.CharField(_("SHA-256 fingerprint"), max_length=64, db_index=True)
    tsa_url = models.URLField(_("timestamp authority URL"), max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")
        constraints = [
            models.UniqueConstraint(
                fields=["school"], condition=Q(is_active=True), name="signing_one_active_certificate"
            ),
        ]
        indexes = [models.Index(fields=["school", "-uploaded_at"], name="signing_cert_history")]

    def __str__(self) -> str:
        return self.subject

    def days_left(self, now: dt.datetime | None = None) -> int:
        return (self.valid_until - (now or timezone.now())).days

    def is_usable(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.is_active and self.valid_from <= now < self.valid_until

    def expires_soon(self, now: dt.datetime | None = None) -> bool:
        return self.is_active and self.days_left(now) < EXPIRY_WARNING_DAYS
