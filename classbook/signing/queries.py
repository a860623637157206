"""What the certificate page and API read (issue 12): the active certificate and the history, without the
encrypted file and password (they never leave ``services``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.access.signing import signing_certificates
from classbook.signing.models import SigningCertificate

HISTORY = 20  # the newest retired certificates shown


@dataclass(frozen=True)
class CertificatePage:
    active: SigningCertificate | None
    history: list[SigningCertificate]


def certificates(ctx: SchoolContext) -> QuerySet[SigningCertificate]:
    """Every certificate of the school, the retired ones too (the API's list)."""
    return signing_certificates(ctx).defer("pkcs12_encrypted", "password_encrypted")


def certificate_page(ctx: SchoolContext) -> CertificatePage:
    """One query: the active certificate and the newest retired ones, with who uploaded and retired them."""
    rows = list(
        signing_certificates(ctx)
        .select_related("uploaded_by", "retired_by")
        .defer("pkcs12_encrypted", "password_encrypted")
        .order_by("-is_active", "-uploaded_at", "-id")[: HISTORY + 1]
    )
    active = rows[0] if rows and rows[0].is_active else None
    return CertificatePage(active=active, history=[r for r in rows if not r.is_active][:HISTORY])
