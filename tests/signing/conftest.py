"""Test certificates made once per session with ``cryptography`` (a CA, a leaf it issued, an expired leaf,
a leaf whose key usage forbids signing, a self-signed one, a TSA), each as a PKCS#12 file with its
password, and one WeasyPrint PDF/A-3b document to sign."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

PASSWORD = "s3cret-пароль"
NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    p12: bytes  # the key, the certificate and the CA, encrypted with PASSWORD

    def asn1_cert(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    def asn1_key(self) -> asn1_keys.PrivateKeyInfo:
        der = self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return asn1_keys.PrivateKeyInfo.load(der)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.COUNTRY_NAME, "UA")])


def _usage(sign: bool, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign and not ca,
        key_encipherment=not sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    cn: str,
    issuer: Issued | None,
    *,
    start: dt.datetime,
    end: dt.datetime,
    sign: bool = True,
    ca: bool = False,
    tsa: bool = False,
) -> Issued:
    # pyHanko's DummyTimeStamper signs with RSA only.
    key = rsa.generate_private_key(65537, 2048) if tsa else ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(_usage(sign, ca), critical=True)
    )
    if tsa:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    extra = [issuer.cert] if issuer else None
    p12 = pkcs12.serialize_key_and_certificates(
        cn.encode(), key, cert, extra, serialization.BestAvailableEncryption(PASSWORD.encode())
    )
    return Issued(cert, key, p12)


@dataclass(frozen=True)
class Certs:
    ca: Issued
    leaf: Issued  # "Школа 1", issued by the CA, valid
    other: Issued  # another school's, issued by the same CA
    expired: Issued
    not_yet_valid: Issued
    no_signing: Issued  # key usage: key encipherment only
    self_signed: Issued
    soon: Issued  # expires in 10 days and a few hours
    tsa: Issued


def make_certs() -> Certs:
    year = dt.timedelta(days=365)
    ca = _issue("Test CA", None, start=NOW - 2 * year, end=NOW + 10 * year, ca=True)
    return Certs(
        ca=ca,
        leaf=_issue("Школа 1", ca, start=NOW - year, end=NOW + year),
        other=_issue("Школа 2", ca, start=NOW - year, end=NOW + year),
        expired=_issue("Old school", ca, start=NOW - 2 * year, end=NOW - dt.timedelta(days=1)),
        not_yet_valid=_issue("Future school", ca, start=NOW + dt.timedelta(days=3), end=NOW + year),
        no_signing=_issue("Encrypting only", ca, start=NOW - year, end=NOW + year, sign=False),
        self_signed=_issue("Self-made", None, start=NOW - year, end=NOW + year),
        soon=_issue("Expiring school", ca, start=NOW - year, end=NOW + dt.timedelta(days=10, hours=3)),
        tsa=_issue("Test TSA", ca, start=NOW - year, end=NOW + 5 * year, tsa=True),
    )


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on a free loopback port in a thread for the ``with`` block; yields the origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="session")
def certs() -> Certs:
    return make_certs()


@pytest.fixture(scope="session")
def pdfa() -> bytes:
    """A small PDF/A-3b document made as the archives make theirs (WeasyPrint)."""
    from weasyprint import HTML

    html = "<html lang='uk'><body><h1>Журнал 5-А</h1><p>Математика: 12, 11, н.</p></body></html>"
    # WeasyPrint 70 leaves its sRGB ICC profile file open for PDF/A output (a ResourceWarning when collected).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string=html).write_pdf(pdf_variant="pdf/a-3b")
        gc.collect()
    return pdf


@pytest.fixture
def tsa_url(certs) -> Iterator[str]:
    """A tiny RFC 3161 timestamp authority on 127.0.0.1: pyHanko's DummyTimeStamper answering over HTTP, so
    the signer's real HTTP client (``RequestsHTTPTimeStamper``) is what talks to it."""
    dummy = DummyTimeStamper(tsa_cert=certs.tsa.asn1_cert(), tsa_key=certs.tsa.asn1_key())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            answer = dummy.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serving(Handler) as origin:
        yield f"{origin}/tsa"


def crl_der(certs: Certs) -> bytes:
    """The test CA's CRL (nothing revoked), valid from an hour ago for a week."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(certs.ca.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=7))
    )
    return builder.sign(certs.ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def leaf_naming(certs: Certs, crl_url: str) -> bytes:
    """A school's PKCS#12 (leaf and CA) whose certificate names ``crl_url`` as its CRL distribution point."""
    key = ec.generate_private_key(ec.SECP256R1())
    point = x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("Школа з CRL"))
        .issuer_name(certs.ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(True), critical=True)
        .add_extension(x509.CRLDistributionPoints([point]), critical=False)
        .sign(certs.ca.key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        b"crl", key, cert, [certs.ca.cert], serialization.BestAvailableEncryption(PASSWORD.encode())
    )


@pytest.fixture
def crl_url(certs) -> Iterator[str]:
    """The test CA's CRL distribution point on 127.0.0.1 (counts its requests in ``served``)."""
    crl = crl_der(certs)
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(crl)))
            self.end_headers()
            self.wfile.write(crl)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with _serving(Handler) as origin:
        yield f"{origin}/ca.crl"


@pytest.fixture
def school(certs):
    """A school whose administrator uploaded the conftest leaf (a certificate naming no revocation service)."""
    from classbook.signing import services
    from tests import factories as f

    school = f.SchoolFactory(slug="lyceum-1", name="Ліцей № 1")
    admin = f.make_member(school, "admin", username="admin")
    services.upload_certificate(acting_user=admin, school=school, data=certs.leaf.p12, password=PASSWORD)
    return school
