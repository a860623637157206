"""Signers: what turns a PDF into a signed PDF (issue 12).

``Signer`` is the interface every signer implements. Archives and every other caller only ever see it
(through ``classbook.signing.services.sign_pdf``), so a Ukrainian qualified signature (КЕП, ДСТУ 4145,
made by an external signer or a КНЕДП's cloud service) is a new class here and one entry in
``services.SIGNERS``, without touching the archives (docs/signing.md, "Adding a qualified signer").

``Pkcs12Signer`` signs with a key from a PKCS#12 file: PAdES baseline B-B (CAdES detached signature,
``ETSI.CAdES.detached`` sub-filter, signing certificate attribute, SHA-256), or B-T when a timestamp
authority is configured. The signature is an incremental update: the original bytes (a PDF/A-3b archive)
are kept unchanged in front of it, the form of signature PDF/A-2 and PDF/A-3 allow (they refer to PAdES).
"""

from __future__ import annotations

from io import BytesIO
from typing import Protocol, runtime_checkable

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

# A timestamp authority gets this long to answer.
TSA_TIMEOUT_SECONDS = 10


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
    update carrying the signature) or raises; ``describe`` says, for people, what signs (shown on the
    settings page and recorded in the audit log)."""

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes: ...

    def describe(self) -> str: ...


class Pkcs12Signer:
    """PAdES-B-B (B-T with a timestamp authority) with the key of a PKCS#12 file, through pyHanko.

    ``timestamper`` replaces the HTTP client of ``tsa_url`` (tests pass pyHanko's ``DummyTimeStamper``).
    """

    def __init__(
        self,
        pkcs12: bytes,
        password: str,
        *,
        tsa_url: str = "",
        timestamper: TimeStamper | None = None,
    ) -> None:
        self._pkcs12 = pkcs12
        self._password = password
        self.tsa_url = tsa_url
        self._timestamper = timestamper

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
        return "PAdES-B-T" if self.timestamper() is not None else "PAdES-B-B"

    def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
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
        signers.PdfSigner(meta, self._signer(), timestamper=self.timestamper()).sign_pdf(writer, output=out)
        return out.getvalue()

    def describe(self) -> str:
        cert = self._signer().signing_cert
        return f"{self.level}: {cert.subject.human_friendly if cert is not None else '-'}"
