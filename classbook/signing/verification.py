"""Checking the signatures of a PDF with pyHanko's validator (issue 12).

``check_pdf`` reads every signature of the file and answers one ``SignatureReport``: whether the file is
signed, intact (the signed bytes are unchanged and nothing but signature-related updates follows them),
cryptographically valid, trusted (the signer's chain ends in a trust root) or only self-consistent, who
signed, when, whether a timestamp authority vouches for that time, and, in one translated sentence, what
is wrong. Nothing is fetched from the network (archives are checked offline and decades later), and the
certificate is checked as of the signing time (the timestamp's when there is one), not today: a school's
certificate of 2026 has long expired when its 2026 archive is read in 2040.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from io import BytesIO

from asn1crypto import x509 as asn1_x509
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.generic_cms import extract_tst_data_iter
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus
from pyhanko_certvalidator import ValidationContext

# What pyHanko answers for a certificate used outside its validity period.
_OUT_OF_VALIDITY = frozenset(
    {
        AdESIndeterminate.EXPIRED,
        AdESIndeterminate.NOT_YET_VALID,
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
        AdESFailure.NOT_YET_VALID,
    }
)

# Given the signer's certificate, the trust roots to check its chain against.
TrustRoots = Callable[[asn1_x509.Certificate], Iterable[asn1_x509.Certificate]]


@dataclass(frozen=True)
class SignatureReport:
    """What a PDF's signatures are worth. ``problem`` is empty when the file is signed, intact, valid and
    trusted; otherwise one translated sentence for people (the archive's verification page prints it)."""

    signed: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    signer_subject: str = ""
    signing_time: dt.datetime | None = None
    timestamped: bool = False
    signatures: int = 0
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.signed and self.intact and self.valid and self.trusted

    @property
    def message(self) -> str:
        """One sentence: the problem, or who signed and when."""
        if self.problem:
            return self.problem
        when = date_format(timezone.localtime(self.signing_time), "DATETIME_FORMAT") if self.signing_time else "-"
        return _("Signed by %(signer)s on %(when)s; the file is intact and the signature is valid.") % {
            "signer": self.signer_subject,
            "when": when,
        }


def _unsigned(problem: str) -> SignatureReport:
    return SignatureReport(signed=False, problem=problem)


def _damaged(subject: str, count: int) -> SignatureReport:
    return SignatureReport(
        signed=True,
        signer_subject=subject,
        signatures=count,
        problem=_("The signature is damaged: the file was altered after it was signed."),
    )


def _moment(sig: EmbeddedPdfSignature) -> dt.datetime:
    """The time the certificate must have been valid at: the timestamp's, else the signer's own claim."""
    tst = next(extract_tst_data_iter(sig.signer_info, signed=False), None)
    if tst is not None:
        gen_time: dt.datetime = tst["encap_content_info"]["content"].parsed["gen_time"].native
        return gen_time
    return sig.self_reported_timestamp or timezone.now()


def _validate(sig: EmbeddedPdfSignature, roots: list[asn1_x509.Certificate]) -> PdfSignatureStatus:
    moment = _moment(sig)
    context = ValidationContext(
        trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=moment, best_signature_time=moment
    )
    return validate_pdf_signature(sig, signer_validation_context=context)


def _changed_after(status: PdfSignatureStatus, is_last: bool) -> bool:
    """Something other than signature-related updates follows the signed bytes (an earlier signature
    may be followed by a later one: that is form filling)."""
    level = status.modification_level
    if level is None:
        return True
    allowed = ModificationLevel.LTA_UPDATES if is_last else ModificationLevel.FORM_FILLING
    return level > allowed


def _problem(status: PdfSignatureStatus, changed: bool) -> str:
    """The first thing wrong with one signature, or ""."""
    if not status.intact:
        return _("The signature is damaged: the file was altered after it was signed.")
    if not status.valid:
        return _("The signature does not match its certificate: it is not valid.")
    if changed:
        return _("The file was changed after it was signed: the signed version is not the one shown.")
    if status.revocation_details is not None:
        return _("The signer's certificate was revoked.")
    if status.trust_problem_indic in _OUT_OF_VALIDITY:
        return _("The signer's certificate was not valid at the signing time.")
    if status.timestamp_validity is not None and not status.timestamp_validity.intact:
        return _("The signature's timestamp is damaged.")
    if not status.trusted:
        return _(
            "The signature is intact and valid, but its certificate is not from a qualified provider or a "
            "certificate Classbook knows: it proves the file is unchanged, not who signed it."
        )
    return ""


def _report(status: PdfSignatureStatus, count: int, changed: bool) -> SignatureReport:
    ts = status.timestamp_validity
    return SignatureReport(
        signed=True,
        intact=status.intact and not changed,
        valid=status.valid,
        trusted=status.trusted,
        signer_subject=status.signing_cert.subject.human_friendly,
        signing_time=ts.timestamp if ts is not None else status.signer_reported_dt,
        timestamped=ts is not None and ts.intact and ts.valid,
        signatures=count,
        problem=_problem(status, changed),
    )


def check_pdf(pdf: bytes, trust_roots: TrustRoots) -> SignatureReport:
    """The report of the file's signatures: the first that has a problem, else the last (the newest)."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:
        return _unsigned(_("The file is not a readable PDF."))
    if not signatures:
        return _unsigned(_("The file is not signed."))
    report = SignatureReport(signed=False)
    for index, sig in enumerate(signatures):
        subject = ""
        try:
            cert = sig.signer_cert
            subject = cert.subject.human_friendly
            status = _validate(sig, list(trust_roots(cert)))
        except Exception:
            return _damaged(subject, len(signatures))
        report = _report(status, len(signatures), _changed_after(status, index == len(signatures) - 1))
        if report.problem:
            return report
    return report
