"""The school's signing certificate and the signing of PDFs (issue 12, R6.7).

Public functions for other apps (the archives sign and verify with these two, nothing else):

- ``sign_pdf(school, pdf, *, reason)``: the PDF signed by the school's signer (PAdES, an incremental
  update), or ``None`` when the school has no usable signer (no certificate, or it expired). A signer that
  fails (a timestamp authority that does not answer) raises ``SigningFailed``. ``sign_pdf_with_level`` is the
  same and says the signature's PAdES level (B-B, B-T, B-LT) and, when it is not B-LT, why
  (``NOT_LT_REASONS``).
- ``verify_pdf(pdf, *, school=None)``: a ``SignatureReport``. The trust roots are the PEM files of
  ``SIGNING_TRUST_ROOTS`` and the chain of any certificate a school uploaded that matches the signer's
  (only ``school``'s certificates when one is given): a school's own archives are trusted as its own.

The certificate itself: ``upload_certificate`` (a replacement retires the active one, which stays as
history), ``remove_certificate``, both for the school's administrators and director
(``classbook.access.signing``) and audited (``signing.certificate.*``, metadata only, never the password).

Signers are chosen by ``SIGNING_SIGNER`` from ``SIGNERS``: ``"pkcs12"`` signs with the uploaded file. A
qualified signer (КЕП through a КНЕДП's service) registers its factory with ``register_signer`` from its
app's ``ready()``; archives do not change (docs/signing.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.context import build_context
from classbook.access.signing import may_manage_signing
from classbook.core.audit import log_action
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.signing import keystore
from classbook.signing.certificates import CertificateInfo, read_pkcs12
from classbook.signing.models import SigningCertificate
from classbook.signing.signers import NOT_LT, Pkcs12Signer, SignedPdf, Signer
from classbook.signing.verification import SignatureReport, check_pdf
from classbook.webhooks import addresses

if TYPE_CHECKING:
    from classbook.people.models import User
    from classbook.schools.models import School

__all__ = [
    "NOT_LT_REASONS",
    "SIGNERS",
    "SignatureReport",
    "SignedPdf",
    "Signer",
    "SigningFailed",
    "active_certificate",
    "register_signer",
    "remove_certificate",
    "sign_pdf",
    "sign_pdf_with_level",
    "signer_for",
    "upload_certificate",
    "verify_pdf",
]

SignerFactory = Callable[["School"], Signer | None]
logger = logging.getLogger(__name__)


class SigningFailed(DomainError):
    code = "signing_failed"


# --- Signers -----------------------------------------------------------------------------------------


def active_certificate(school: School) -> SigningCertificate | None:
    return SigningCertificate.objects.filter(school=school, is_active=True).first()


def pkcs12_signer(school: School) -> Pkcs12Signer | None:
    """A signer with the school's active certificate while it is valid; None otherwise. The school's
    timestamp authority wins over ``SIGNING_TSA_URL``. With ``SIGNING_REVOCATION`` it embeds the revocation
    information its chain names when that answers (B-LT), the roots of ``SIGNING_TRUST_ROOTS`` completing
    the chains (a timestamp authority's too)."""
    cert = active_certificate(school)
    if cert is None or not cert.is_usable():
        return None
    tsa_url, chosen_by_school = _tsa_url(cert)
    return Pkcs12Signer(
        keystore.decrypt(cert.pkcs12_encrypted),
        keystore.decrypt(cert.password_encrypted).decode(),
        tsa_url=tsa_url,
        tsa_chosen_by_school=chosen_by_school,
        revocation=settings.SIGNING_REVOCATION,
        revocation_timeout=settings.SIGNING_REVOCATION_TIMEOUT,
        retry_seconds=settings.SIGNING_REVOCATION_RETRY_SECONDS,
        trust_roots=_configured_roots(tuple(settings.SIGNING_TRUST_ROOTS)),
    )


SIGNERS: dict[str, SignerFactory] = {"pkcs12": pkcs12_signer}


def register_signer(name: str, factory: SignerFactory) -> None:
    """Make a signer choosable by ``SIGNING_SIGNER = name`` (call it from an app's ``ready()``)."""
    SIGNERS[name] = factory


def signer_for(school: School) -> Signer | None:
    return SIGNERS[settings.SIGNING_SIGNER](school)


# Why a signature is not PAdES B-LT (``SignedPdf.not_lt``), for people.
NOT_LT_REASONS = NOT_LT


def sign_pdf(school: School, pdf: bytes, *, reason: str) -> bytes | None:
    """``pdf`` signed in the school's name (location: the school's name), or None without a usable signer."""
    signed = sign_pdf_with_level(school, pdf, reason=reason)
    return signed.content if signed is not None else None


def sign_pdf_with_level(school: School, pdf: bytes, *, reason: str) -> SignedPdf | None:
    """As ``sign_pdf``, with the signature's PAdES level and why it is not B-LT (``SignedPdf``)."""
    try:
        signer = signer_for(school)
    except keystore.InvalidToken as exc:
        raise SigningFailed(
            _("The school's certificate cannot be decrypted with the configured key: upload it again."),
            code="certificate_unreadable",
        ) from exc
    if signer is None:
        return None
    try:
        return signer.sign(pdf, reason=reason, location=school.name)
    except Exception as exc:
        raise SigningFailed(
            _("The document could not be signed: %(error)s") % {"error": exc}, code="signing_failed"
        ) from exc


# --- Verification -------------------------------------------------------------------------------------


@cache
def _configured_roots(paths: tuple[str, ...]) -> tuple[asn1_x509.Certificate, ...]:
    return tuple(cert for path in paths for cert in _pem_certificates(Path(path).read_bytes()))


def _pem_certificates(data: bytes) -> Iterable[asn1_x509.Certificate]:
    for _kind, _headers, der in pem.unarmor(data, multiple=True):
        yield asn1_x509.Certificate.load(der)


def _known_roots(school: School | None) -> Callable[[asn1_x509.Certificate], list[asn1_x509.Certificate]]:
    def roots(signer_cert: asn1_x509.Certificate) -> list[asn1_x509.Certificate]:
        found = SigningCertificate.objects.filter(fingerprint=signer_cert.sha256.hex())
        if school is not None:
            found = found.filter(school=school)
        own = [c for chain in found.values_list("chain_pem", flat=True) for c in _pem_certificates(chain.encode())]
        return [*_configured_roots(tuple(settings.SIGNING_TRUST_ROOTS)), *own]

    return roots


def verify_pdf(pdf: bytes, *, school: School | None = None) -> SignatureReport:
    """What the PDF's signatures are worth (``verification.SignatureReport``), checked offline."""
    return check_pdf(pdf, _known_roots(school))


# --- The certificate ------------------------------------------------------------------------------------


def _require_manager(acting_user: User, school: School) -> None:
    """The services re-check the rule the page and the API checked (access/signing.py)."""
    ctx = build_context(acting_user, school)
    if ctx is None or not may_manage_signing(ctx):
        raise PermissionDeniedError(_("Only the school's administrators and director manage its certificate."))


def _audit_data(cert: SigningCertificate | CertificateInfo) -> dict[str, Any]:
    return {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "serial": cert.serial,
        "valid_until": cert.valid_until.isoformat(),
        "fingerprint": cert.fingerprint,
    }


def _retire(cert: SigningCertificate, acting_user: User, now: dt.datetime) -> None:
    cert.is_active = False
    cert.retired_by = acting_user
    cert.retired_at = now
    cert.save(update_fields=["is_active", "retired_by", "retired_at"])


def _clean_tsa_url(url: str) -> str:
    """The school's timestamp authority: the server calls it, so it must be a public address like a webhook's
    (no ``http://169.254.169.254`` or ``http://127.0.0.1:6379`` typed by a school administrator: SSRF)."""
    url = (url or "").strip()
    if url and (len(url) > 500 or not url.startswith(("http://", "https://"))):
        raise DomainError(_("Enter the timestamp authority's http(s) address."), field="tsa_url")
    return addresses.check_outbound(url, field="tsa_url") if url else url


def _tsa_url(cert: SigningCertificate) -> tuple[str, bool]:
    """The school's timestamp authority, checked again before it is called (its name may resolve elsewhere now),
    and True; refused or none, the installation's ``SIGNING_TSA_URL`` and False (the operator's choice)."""
    if cert.tsa_url:
        try:
            return addresses.check_outbound(cert.tsa_url, field="tsa_url"), True
        except DomainError:
            logger.warning("signing: the timestamp authority of school %s is not a public address", cert.school_id)
    return str(settings.SIGNING_TSA_URL), False


@transaction.atomic
def upload_certificate(
    *, acting_user: User, school: School, data: bytes, password: str, tsa_url: str = ""
) -> SigningCertificate:
    """Check the PKCS#12 file (``certificates.read_pkcs12``: every refusal a translated error) and make it
    the school's active certificate; the one it replaces is retired and kept."""
    _require_manager(acting_user, school)
    info = read_pkcs12(data, password)
    tsa_url = _clean_tsa_url(tsa_url)
    now = timezone.now()
    old = SigningCertificate.objects.select_for_update().filter(school=school, is_active=True).first()
    if old is not None:
        _retire(old, acting_user, now)
    cert = SigningCertificate.objects.create(
        school=school,
        pkcs12_encrypted=keystore.encrypt(data),
        password_encrypted=keystore.encrypt(password.encode()),
        chain_pem=info.chain_pem,
        subject=info.subject,
        issuer=info.issuer,
        serial=info.serial,
        valid_from=info.valid_from,
        valid_until=info.valid_until,
        fingerprint=info.fingerprint,
        tsa_url=tsa_url,
        uploaded_by=acting_user,
        uploaded_at=now,
    )
    data_ = {"new": _audit_data(cert), "tsa_url": tsa_url}
    if old is not None:
        data_["old"] = _audit_data(old)
    action = "signing.certificate.replaced" if old is not None else "signing.certificate.uploaded"
    log_action(action, actor=acting_user, school=school, obj=cert, data=data_)
    return cert


@transaction.atomic
def remove_certificate(*, acting_user: User, school: School) -> SigningCertificate:
    """Retire the school's active certificate (kept as history: archives signed with it stay the school's)."""
    _require_manager(acting_user, school)
    cert = SigningCertificate.objects.select_for_update().filter(school=school, is_active=True).first()
    if cert is None:
        raise DomainError(_("The school has no signing certificate."), code="not_found")
    _retire(cert, acting_user, timezone.now())
    log_action("signing.certificate.removed", actor=acting_user, school=school, obj=cert, data=_audit_data(cert))
    return cert


@transaction.atomic
def rotate_key() -> int:
    """Re-encrypt every stored file and password with the current ``SIGNING_KEY`` (after a rotation)."""
    count = 0
    for cert in SigningCertificate.objects.select_for_update().iterator():
        cert.pkcs12_encrypted = keystore.rotate(cert.pkcs12_encrypted)
        cert.password_encrypted = keystore.rotate(cert.password_encrypted)
        cert.save(update_fields=["pkcs12_encrypted", "password_encrypted"])
        count += 1
    return count
