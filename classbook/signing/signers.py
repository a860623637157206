"""Signers: what turns a PDF into a signed PDF (issue 12).

``Signer`` is the interface every signer implements. Archives and every other caller only ever see it
(through ``classbook.signing.services.sign_pdf``), so a Ukrainian qualified signature (КЕП, ДСТУ 4145,
made by an external signer or a КНЕДП's cloud service) is a new class here and one entry in
``services.SIGNERS``, without touching the archives (docs/signing.md, "Adding a qualified signer").

``Pkcs12Signer`` signs with a key from a PKCS#12 file: PAdES baseline B-B (CAdES detached signature,
``ETSI.CAdES.detached`` sub-filter, signing certificate attribute, SHA-256), or B-T when a timestamp
authority is configured, and **B-LT** when, besides the timestamp, the revocation information the certificate
chain names (CRL distribution points, OCSP) is reachable at signing time: the chain, the CRLs and the OCSP
answers are then embedded in the document security store (``/DSS``) of a second incremental update, so the
signature can be checked after the certificate has expired or its issuer has gone. Otherwise the signature
stays B-B/B-T and ``SignedPdf.not_lt`` says why (``NOT_LT``). The signature is an incremental update: the
original bytes (a PDF/A-3b archive) are kept unchanged in front of it, the form of signature PDF/A-2 and
PDF/A-3 allow (they refer to PAdES).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Protocol, runtime_checkable

from asn1crypto import x509 as asn1_x509
from django.utils.translation import gettext_lazy
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import PathBuildingError
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from classbook.core.errors import DomainError
from classbook.webhooks import addresses

logger = logging.getLogger(__name__)

# A timestamp authority gets this long to answer.
TSA_TIMEOUT_SECONDS = 10

B_B, B_T, B_LT = "PAdES-B-B", "PAdES-B-T", "PAdES-B-LT"

# Why a signature is not B-LT (``SignedPdf.not_lt``): the code, and for people the reason (the archive list
# shows it).
NOT_LT = {
    "disabled": gettext_lazy("revocation information is not fetched (SIGNING_REVOCATION is off)"),
    "no_revocation_info": gettext_lazy("the certificate names no revocation service (CRL or OCSP)"),
    "no_root": gettext_lazy("the certificate's chain does not end in a known root"),
    "revocation_unreachable": gettext_lazy("the revocation service did not answer at signing time"),
    "address_refused": gettext_lazy("the certificate names a revocation address the server may not call"),
    "no_timestamp": gettext_lazy("validation data embedded, but without a timestamp authority it is not B-LT"),
    "not_supported": gettext_lazy("the signer does not embed validation data"),
}

# A certificate whose revocation information did not answer is not asked again for this long (a year archive
# signs 66 documents; a dead CRL address must not cost a timeout each).
_unreachable: dict[str, float] = {}


def _named_urls(chain: Iterable[asn1_x509.Certificate]) -> list[str]:
    """Every address the chain's certificates ask a validator to fetch: CRLs, delta CRLs, OCSP, issuers."""
    urls: list[str] = []
    for cert in chain:
        for point in [*cert.crl_distribution_points, *cert.delta_crl_distribution_points]:
            if point.url:
                urls.append(point.url)
        urls.extend(cert.ocsp_urls)
        for access in cert.authority_information_access_value or []:
            if (
                access["access_method"].native == "ca_issuers"
                and access["access_location"].name == "uniform_resource_identifier"
            ):
                urls.append(access["access_location"].native)
    return urls


def _may_call(url: str) -> bool:
    """The webhooks' outbound rule: a certificate is uploaded by a school, so the addresses it names are the
    school's too (no ``http://169.254.169.254/`` as a CRL address: SSRF)."""
    try:
        addresses.check_outbound(url, field="certificate")
    except DomainError:
        return False
    return True


@dataclass(frozen=True)
class SignedPdf:
    """A signed PDF and what its signature is: ``level`` one of ``B_B``, ``B_T``, ``B_LT``; ``not_lt`` empty
    for B-LT, else the reason (a key of ``NOT_LT``) why the validation data is not embedded or not enough."""

    content: bytes
    level: str
    not_lt: str = ""


class _MetadataKeepingWriter(IncrementalPdfFileWriter):
    """An incremental writer that leaves the document's metadata alone.

    pyHanko appends itself to the ``/Info`` producer and writes a fresh XMP packet on every save; for a
    PDF/A file that breaks the rule that the ``/Info`` entries and the XMP metadata agree (the producer
    then differs) and drops WeasyPrint's XMP properties. The signature does not need either update, so the
    archive's metadata stays exactly as WeasyPrint made it (tested in tests/signing/test_sign_verify.py).
    """

    def _update_meta(self) -> None:
        return None


@runtime_checkable
class Signer(Protocol):
    """Signs PDFs for one school. ``sign`` returns the signed PDF (the input followed by an incremental
    update carrying the signature) with its PAdES level, or raises; ``describe`` says, for people, what signs
    (shown on the settings page and recorded in the audit log)."""

    def sign(self, pdf: bytes, *, reason: str, location: str) -> SignedPdf: ...

    def describe(self) -> str: ...


class Pkcs12Signer:
    """PAdES-B-B (B-T with a timestamp authority, B-LT with the revocation information embedded too) with the
    key of a PKCS#12 file, through pyHanko.

    ``tsa_chosen_by_school``: every connection to ``tsa_url`` must land on an address the outbound rule allows
    (False for the installation's ``SIGNING_TSA_URL``). ``timestamper`` replaces the HTTP client of ``tsa_url``
    (tests pass pyHanko's ``DummyTimeStamper``).
    With ``revocation`` the signer fetches the chain's revocation information (``revocation_timeout`` seconds
    a request) and embeds it (B-LT); ``crls`` are CRLs (DER) given instead of, or besides, fetched ones;
    ``trust_roots`` are roots besides the self-signed certificates of the PKCS#12 file.
    """

    def __init__(
        self,
        pkcs12: bytes,
        password: str,
        *,
        tsa_url: str = "",
        tsa_chosen_by_school: bool = True,
        timestamper: TimeStamper | None = None,
        revocation: bool = False,
        revocation_timeout: int = 5,
        retry_seconds: int = 600,
        crls: Sequence[bytes] = (),
        trust_roots: Iterable[asn1_x509.Certificate] = (),
    ) -> None:
        self._pkcs12 = pkcs12
        self._password = password
        self.tsa_url = tsa_url
        self.tsa_chosen_by_school = tsa_chosen_by_school
        self._timestamper = timestamper
        self.revocation = revocation
        self.revocation_timeout = revocation_timeout
        self.retry_seconds = retry_seconds
        self._crls = list(crls)
        self._trust_roots = list(trust_roots)

    def _signer(self) -> signers.SimpleSigner:
        passphrase = self._password.encode() if self._password else None
        return signers.SimpleSigner.load_pkcs12_data(self._pkcs12, other_certs=[], passphrase=passphrase)

    def timestamper(self) -> TimeStamper | None:
        if self._timestamper is not None:
            return self._timestamper
        if self.tsa_url:
            return RequestsHTTPTimeStamper(self.tsa_url, timeout=TSA_TIMEOUT_SECONDS)
        return None

    @property
    def level(self) -> str:
        """The level without the revocation information (B-LT when that is reachable too: ``sign``)."""
        return B_T if self.timestamper() is not None else B_B

    def sign(self, pdf: bytes, *, reason: str, location: str) -> SignedPdf:
        signer = self._signer()
        timestamper = self.timestamper()
        # pyHanko's timestamp and revocation clients resolve names and follow redirects themselves: a connection
        # to an address the school chose is checked where it landed (DNS rebinding, a redirect inside:
        # webhooks/addresses.py). The installation's own timestamp authority (SIGNING_TSA_URL) is the operator's.
        with addresses.public_connections_only() if self.tsa_chosen_by_school else contextlib.nullcontext():
            signed = self._sign(pdf, signer, timestamper, reason=reason, location=location)
        level = B_T if timestamper is not None else B_B
        assert signer.signing_cert is not None  # load_pkcs12_data refuses a file without one
        chain = [signer.signing_cert, *signer.cert_registry]
        roots = [c for c in [*chain, *self._trust_roots] if c.self_signed == "maybe" or c.self_signed == "yes"]
        not_lt = self._why_not_lt(chain, roots)
        if not_lt:
            return SignedPdf(signed, level, not_lt)
        try:
            with addresses.public_connections_only():  # the addresses the uploaded certificate names
                with_info = self._embed_validation_info(signed, chain, roots)
        except PathBuildingError:
            logger.warning("no validation path for %s", signer.signing_cert.subject.human_friendly, exc_info=True)
            return SignedPdf(signed, level, "no_root")
        except Exception:  # a CRL/OCSP address that does not answer, or answers what cannot be used
            logger.warning("revocation information not collected; signing without it", exc_info=True)
            _unreachable[signer.signing_cert.sha256.hex()] = time.monotonic()
            return SignedPdf(signed, level, "revocation_unreachable")
        if with_info is None:
            return SignedPdf(signed, level, "no_revocation_info")
        if timestamper is None:
            return SignedPdf(with_info, level, "no_timestamp")
        return SignedPdf(with_info, B_LT)

    def _why_not_lt(self, chain: list[asn1_x509.Certificate], roots: list[asn1_x509.Certificate]) -> str:
        if not self.revocation:
            return "disabled"
        if not self._crls and not any(c.crl_distribution_points or c.ocsp_urls for c in chain if c not in roots):
            return "no_revocation_info"
        if not roots:
            return "no_root"
        if any(not _may_call(url) for url in _named_urls(chain)):
            return "address_refused"
        failed = _unreachable.get(chain[0].sha256.hex())
        if failed is not None and time.monotonic() - failed < self.retry_seconds:
            return "revocation_unreachable"
        return ""

    def _embed_validation_info(
        self, signed: bytes, chain: list[asn1_x509.Certificate], roots: list[asn1_x509.Certificate]
    ) -> bytes | None:
        """``signed`` with the validation data of its signature (and of its timestamp) in a ``/DSS``, appended
        as an incremental update that keeps the document's metadata; None when no revocation data was found
        (a chain that names none). Raises when an address the chain names does not answer ("hard-fail")."""
        context = ValidationContext(
            trust_roots=roots,
            other_certs=chain,
            crls=self._crls,
            allow_fetching=True,
            revocation_mode="hard-fail",
            fetcher_backend=RequestsFetcherBackend(per_request_timeout=self.revocation_timeout),
        )
        embedded = PdfFileReader(BytesIO(signed), strict=False).embedded_signatures[-1]
        paths = asyncio.run(_collect(embedded, context))
        writer = _MetadataKeepingWriter(BytesIO(signed), strict=False)
        dss = DocumentSecurityStore.supply_dss_in_writer(
            writer, embedded.pkcs7_content.hex().encode("ascii"), validation_context=context, paths=paths
        )
        if not dss.crls and not dss.ocsps:
            return None
        out = BytesIO()
        writer.write(out)
        return out.getvalue()

    def _sign(
        self,
        pdf: bytes,
        signer: signers.SimpleSigner,
        timestamper: TimeStamper | None,
        *,
        reason: str,
        location: str,
    ) -> bytes:
        writer = _MetadataKeepingWriter(BytesIO(pdf), strict=False)
        # A fresh field name per signature: a signed archive can be countersigned later.
        name = f"Signature{len(list(fields.enumerate_sig_fields(writer.prev))) + 1}"
        meta = signers.PdfSignatureMetadata(
            field_name=name,
            reason=reason or None,
            location=location or None,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
        )
        out = BytesIO()
        signers.PdfSigner(meta, signer, timestamper=timestamper).sign_pdf(writer, output=out)
        return out.getvalue()

    def describe(self) -> str:
        cert = self._signer().signing_cert
        return f"{self.level}: {cert.subject.human_friendly if cert is not None else '-'}"


async def _collect(embedded: Any, context: ValidationContext) -> list[Any]:
    """The validation paths of the signature and its timestamp (revocation data fetched into ``context``),
    releasing the context's HTTP session inside the loop that opened it."""
    try:
        return list(await collect_validation_info(embedded, context))
    finally:
        await context.aclose()
