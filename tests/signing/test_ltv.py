"""PAdES B-LT: the revocation information the signer's chain names is fetched at signing time (here a CRL
of the test CA served on 127.0.0.1) and embedded in the document security store; when it cannot be had the
signature stays B-B/B-T and says why (docs/signing.md)."""

from __future__ import annotations

import socket
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext

from classbook.signing import services, signers
from classbook.signing.signers import B_B, B_LT, B_T, Pkcs12Signer
from tests import factories as f
from tests.signing.conftest import PASSWORD, crl_der, leaf_naming

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_unreachable(settings) -> None:
    signers._unreachable.clear()
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True  # the test CA's CRL is served on 127.0.0.1


def _dss(pdf: bytes) -> dict[str, int]:
    root = PdfFileReader(BytesIO(pdf)).root
    if "/DSS" not in root:
        return {}
    dss = root["/DSS"]
    return {key: len(dss[key]) for key in ("/Certs", "/CRLs", "/OCSPs") if key in dss}


def test_a_reachable_crl_and_a_timestamp_make_it_b_lt_validated_offline(certs, pdfa, tsa_url, crl_url):
    signer = Pkcs12Signer(leaf_naming(certs, crl_url), PASSWORD, tsa_url=tsa_url, revocation=True)
    signed = signer.sign(pdfa, reason="Архів", location="Ліцей")
    assert (signed.level, signed.not_lt) == (B_LT, "")
    assert signed.content.startswith(pdfa)  # incremental updates only
    assert _dss(signed.content)["/CRLs"] == 1
    reader, original = PdfFileReader(BytesIO(signed.content)), PdfFileReader(BytesIO(pdfa))
    # The PDF/A metadata is untouched by the second update too (/Info and XMP still agree).
    assert reader.trailer["/Info"]["/Producer"] == original.trailer["/Info"]["/Producer"]
    assert reader.root["/Metadata"].get_object().data == original.root["/Metadata"].get_object().data
    # pyHanko's validator with the CA as root, no network and a CRL required for a certificate that names one:
    # the CRL embedded in the file is enough (a fresh reader: the diff analysis reads every revision itself).
    fresh = PdfFileReader(BytesIO(signed.content))
    context = DocumentSecurityStore.read_dss(fresh).as_validation_context(
        {"trust_roots": [certs.ca.asn1_cert()], "allow_fetching": False, "revocation_mode": "hard-fail"}
    )
    status = validate_pdf_signature(fresh.embedded_signatures[0], context)
    assert status.bottom_line, status.pretty_print_details()
    # Without the file's data the same check cannot even start: pyHanko refuses hard-fail without revocation data.
    with pytest.raises(ValueError, match="no validation can happen"):
        ValidationContext(trust_roots=[certs.ca.asn1_cert()], allow_fetching=False, revocation_mode="hard-fail")
    report = services.verify_pdf(signed.content, school=None)
    assert report.intact and report.valid and report.timestamped, report.problem


def test_without_a_timestamp_authority_the_data_is_embedded_but_it_is_b_b(certs, pdfa, crl_url):
    signed = Pkcs12Signer(leaf_naming(certs, crl_url), PASSWORD, revocation=True).sign(pdfa, reason="x", location="y")
    assert (signed.level, signed.not_lt) == (B_B, "no_timestamp")
    assert _dss(signed.content)["/CRLs"] == 1


def test_a_crl_passed_in_needs_no_network(certs, pdfa, tsa_url):
    unreachable = "http://127.0.0.1:9/ca.crl"  # the discard port: nothing answers
    signer = Pkcs12Signer(leaf_naming(certs, unreachable), PASSWORD, tsa_url=tsa_url, revocation=True)
    signer._crls = [crl_der(certs)]
    signed = signer.sign(pdfa, reason="x", location="y")
    assert (signed.level, signed.not_lt) == (B_LT, "")


def test_an_unreachable_crl_leaves_it_b_t_and_is_not_asked_again(certs, pdfa, tsa_url, crl_url):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    p12 = leaf_naming(certs, f"http://127.0.0.1:{port}/ca.crl")
    signer = Pkcs12Signer(p12, PASSWORD, tsa_url=tsa_url, revocation=True, revocation_timeout=2)
    first = signer.sign(pdfa, reason="x", location="y")
    assert (first.level, first.not_lt) == (B_T, "revocation_unreachable")
    assert _dss(first.content) == {}
    assert services.verify_pdf(first.content).timestamped
    second = signer.sign(pdfa, reason="x", location="y")  # remembered: no second wait for the dead address
    assert (second.level, second.not_lt) == (B_T, "revocation_unreachable")


def test_a_chain_without_revocation_addresses_stays_b_b_and_says_so(school, certs, pdfa):
    signed = services.sign_pdf_with_level(school, pdfa, reason="x")  # the conftest leaf names no CRL/OCSP
    assert signed is not None and (signed.level, signed.not_lt) == (B_B, "no_revocation_info")
    assert str(services.NOT_LT_REASONS[signed.not_lt]).startswith("the certificate names no revocation")
    off = Pkcs12Signer(certs.leaf.p12, PASSWORD).sign(pdfa, reason="x", location="y")
    assert off.not_lt == "disabled"


def test_a_school_certificate_with_a_crl_signs_b_lt_through_the_service(certs, pdfa, tsa_url, crl_url, settings):
    settings.SIGNING_TSA_URL = tsa_url
    school = f.SchoolFactory(slug="crl-school")
    admin = f.make_member(school, "admin", username="crl-admin")
    services.upload_certificate(acting_user=admin, school=school, data=leaf_naming(certs, crl_url), password=PASSWORD)
    signed = services.sign_pdf_with_level(school, pdfa, reason="x")
    assert signed is not None and signed.level == B_LT
    assert services.verify_pdf(signed.content, school=school).ok


@pytest.mark.parametrize("address", ["http://169.254.169.254/latest/meta-data", "http://10.0.0.5/ca.crl"])
def test_a_certificate_naming_an_internal_address_is_not_fetched(certs, pdfa, tsa_url, address, settings):
    """The school uploads the certificate, so the CRL address in it is the school's to choose: the server does not
    call a link-local or private address for it (SSRF), and the signature says why it is not B-LT."""
    signed = Pkcs12Signer(leaf_naming(certs, address), PASSWORD, tsa_url=tsa_url, revocation=True).sign(
        pdfa, reason="x", location="y"
    )
    assert (signed.level, signed.not_lt) == (B_T, "address_refused")


def test_loopback_is_refused_unless_the_installation_allows_it(certs, pdfa, tsa_url, crl_url, settings):
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    signed = Pkcs12Signer(leaf_naming(certs, crl_url), PASSWORD, revocation=True).sign(pdfa, reason="x", location="y")
    assert signed.not_lt == "address_refused"
    # the timestamp authority's connection too (its address is checked when saved; this is where it lands)
    with pytest.raises(TimestampRequestError):
        Pkcs12Signer(certs.leaf.p12, PASSWORD, tsa_url=tsa_url).sign(pdfa, reason="x", location="y")


def _rebinding(monkeypatch, port: int) -> None:
    """``crl.example.org`` answers a public address to the check and 127.0.0.1 to the call (DNS rebinding)."""
    from types import SimpleNamespace

    from classbook.webhooks import addresses

    public = [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("93.184.216.34", port))]
    checked = SimpleNamespace(getaddrinfo=lambda *args, **kwargs: public, IPPROTO_TCP=socket.IPPROTO_TCP)
    monkeypatch.setattr(addresses, "socket", checked)
    resolve = socket.getaddrinfo

    def rebound(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        return resolve("127.0.0.1" if host == "crl.example.org" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)


@pytest.mark.parametrize("loopback_allowed", [False, True])
def test_a_name_that_rebinds_to_an_internal_address_is_refused_where_it_connects(
    certs, pdfa, crl_url, settings, monkeypatch, loopback_allowed
):
    """The address check passes (a public answer), the library's own lookup then answers 127.0.0.1: the
    connection is refused where it landed. Where the installation allows loopback the same fetch works, so the
    refusal is the rule's, not a failed set-up."""
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = loopback_allowed
    port = int(crl_url.rsplit(":", 1)[1].split("/", 1)[0])
    _rebinding(monkeypatch, port)
    p12 = leaf_naming(certs, f"http://crl.example.org:{port}/ca.crl")
    signed = Pkcs12Signer(p12, PASSWORD, revocation=True, revocation_timeout=2).sign(pdfa, reason="x", location="y")
    assert signed.not_lt == ("no_timestamp" if loopback_allowed else "revocation_unreachable")


def test_the_connection_rule_holds_in_the_threads_the_signing_starts_and_only_there(crl_url, settings):
    """pyHanko's clients run requests in ``asyncio.to_thread``: the rule follows them there, and nothing outside
    the signing is affected."""
    import asyncio

    import requests

    from classbook.webhooks import addresses

    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    with addresses.public_connections_only(), pytest.raises(requests.ConnectionError, match="not a public address"):
        asyncio.run(asyncio.to_thread(requests.get, crl_url, timeout=5))
    assert requests.get(crl_url, timeout=5).status_code == 200
