"""Signing a WeasyPrint PDF/A-3b with the school's certificate and reading the signature back with
pyHanko's validator: intact, valid, trusted for the school's own archives, tampering detected."""

from __future__ import annotations

import socket
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from classbook.signing import services
from classbook.signing.signers import Pkcs12Signer, Signer
from tests import factories as f
from tests.signing.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_sign_pdf_makes_a_pades_signature_pyhanko_validates_against_the_ca(school, certs, pdfa):
    signed = services.sign_pdf(school, pdfa, reason="Архів 5-А, 2026/2027")
    assert signed is not None
    assert signed.startswith(pdfa)  # an incremental update: the PDF/A bytes are untouched
    reader, original = PdfFileReader(BytesIO(signed)), PdfFileReader(BytesIO(pdfa))
    # The PDF/A identification and the producer are untouched, so /Info and XMP still agree.
    xmp = reader.root["/Metadata"].get_object().data
    assert xmp == original.root["/Metadata"].get_object().data and b'pdfaid:part="3"' in xmp
    assert reader.trailer_view["/Info"]["/Producer"] == original.trailer_view["/Info"]["/Producer"]
    sig = reader.embedded_signatures[0]
    assert sig.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert sig.sig_object["/Reason"] == "Архів 5-А, 2026/2027"
    assert sig.sig_object["/Location"] == "Ліцей № 1"
    status = validate_pdf_signature(sig, ValidationContext(trust_roots=[certs.ca.asn1_cert()]))
    assert status.intact and status.valid and status.trusted
    assert status.signing_cert.subject.human_friendly == "Common Name: Школа 1, Country: UA"

    report = services.verify_pdf(signed)
    assert report.ok, report.problem
    assert (report.signed, report.intact, report.valid, report.trusted) == (True, True, True, True)
    assert "Школа 1" in report.signer_subject
    assert report.signing_time is not None and not report.timestamped
    assert services.verify_pdf(signed, school=school).trusted


def test_one_byte_changed_after_signing_is_detected(school, pdfa):
    signed = bytearray(services.sign_pdf(school, pdfa, reason="Архів"))
    signed[len(pdfa) // 2] ^= 0x01  # inside the signed PDF/A bytes
    report = services.verify_pdf(bytes(signed))
    assert report.signed and not report.intact and not report.ok
    assert "altered after it was signed" in report.problem


def test_an_update_appended_after_signing_is_detected(school, pdfa):
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = services.sign_pdf(school, pdfa, reason="Архів")
    writer = IncrementalPdfFileWriter(BytesIO(signed))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    report = services.verify_pdf(out.getvalue())
    assert report.signed and not report.ok
    assert "changed after it was signed" in report.problem


def test_unsigned_and_unreadable_files_are_reported(pdfa):
    assert services.verify_pdf(pdfa).problem == "The file is not signed."
    bad = services.verify_pdf(b"not a pdf at all")
    assert not bad.signed and bad.problem == "The file is not a readable PDF."


def test_a_certificate_classbook_does_not_know_is_valid_but_not_trusted(certs, pdfa, db):
    signed = Pkcs12Signer(certs.self_signed.p12, PASSWORD).sign(pdfa, reason="x", location="y").content
    report = services.verify_pdf(signed)
    assert report.signed and report.intact and report.valid and not report.trusted
    assert "not from a qualified provider" in report.problem


def test_the_school_trusts_only_its_own_certificate(school, certs, pdfa, settings):
    signed = services.sign_pdf(school, pdfa, reason="x")
    other = f.SchoolFactory(slug="gymnasium-2")
    assert not services.verify_pdf(signed, school=other).trusted
    # A configured root (a provider's CA) is trusted for everyone.
    path = settings.BASE_DIR / "var" / "test-signing-ca.pem"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(
        certs.ca.cert.public_bytes(__import__("cryptography").hazmat.primitives.serialization.Encoding.PEM)
    )
    settings.SIGNING_TRUST_ROOTS = [str(path)]
    try:
        assert services.verify_pdf(signed, school=other).trusted
        # A certificate of the same CA used after it expired is not passed as valid.
        late = Pkcs12Signer(certs.expired.p12, PASSWORD).sign(pdfa, reason="x", location="y").content
        report = services.verify_pdf(late)
        assert report.intact and report.valid and not report.trusted
        assert report.problem == "The signer's certificate was not valid at the signing time."
    finally:
        path.unlink()


def test_no_usable_certificate_means_no_signature(school, pdfa, db):
    assert services.sign_pdf(f.SchoolFactory(slug="no-cert"), pdfa, reason="x") is None


def test_a_timestamp_authority_makes_it_pades_b_t(school, certs, pdfa, settings, tsa_url):
    settings.SIGNING_TSA_URL = tsa_url
    signer = services.signer_for(school)
    assert isinstance(signer, Signer) and signer.describe().startswith("PAdES-B-T")
    signed = services.sign_pdf(school, pdfa, reason="x")
    report = services.verify_pdf(signed)
    assert report.ok and report.timestamped, report.problem
    tst = PdfFileReader(BytesIO(signed)).embedded_signatures[0].signer_info["unsigned_attrs"]
    assert tst[0]["type"].native == "signature_time_stamp_token"


def test_a_timestamp_authority_that_does_not_answer_fails_the_signing(school, pdfa, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.SIGNING_TSA_URL = f"http://127.0.0.1:{port}/tsa"
    with pytest.raises(services.SigningFailed, match="could not be signed"):
        services.sign_pdf(school, pdfa, reason="x")
