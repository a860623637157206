"""Reading and checking an uploaded PKCS#12 file (issue 12).

``read_pkcs12`` opens the file with its password and refuses, each with its own translated error, what
cannot sign a school's archives: a file that is not PKCS#12, a wrong password, no private key or no
certificate, a certificate that is expired or not yet valid, a key whose certificate forbids signing
(key usage without digitalSignature and nonRepudiation), a key of a kind pyHanko cannot sign with (e.g.
ДСТУ 4145, which needs the external signer, docs/signing.md), or a file that is too large.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import IO

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from classbook.core.errors import DomainError

# The kinds of key pyHanko signs with.
_SIGNING_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)


class CertificateError(DomainError):
    code = "invalid_certificate"


@dataclass(frozen=True)
class CertificateInfo:
    """The public metadata of a checked PKCS#12 file and its chain (PEM, the certificate first)."""

    subject: str
    issuer: str
    serial: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    fingerprint: str
    chain_pem: str


def _name(name: x509.Name) -> str:
    return name.rfc4514_string()


def _spki(public_key: object) -> bytes:
    return public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


# A key-derivation count above this is refused before any password is tried: the counts are the file's own, and
# a crafted file asking for 2**31 rounds would hold a worker's CPU for hours (usual files: 2,048 to 600,000).
MAX_KDF_ITERATIONS = 1_000_000


def _iterations(pfx: asn1_pkcs12.Pfx) -> list[int]:
    """Every key-derivation count readable without the password: the MAC's, the encrypted parts' and the
    shrouded keys' of the parts that are not encrypted."""
    counts = [pfx["mac_data"]["iterations"].native] if pfx["mac_data"].native else []
    for info in pfx.authenticated_safe:
        if info["content_type"].native == "encrypted_data":
            algorithm = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
            counts.append(algorithm.kdf_iterations)
        elif info["content_type"].native == "data":
            for bag in asn1_pkcs12.SafeContents.load(info["content"].native):
                if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                    counts.append(bag["bag_value"]["encryption_algorithm"].kdf_iterations)
    return [int(c) for c in counts if c is not None]


def _is_pkcs12(data: bytes) -> bool:
    """The file parses as a PKCS#12 structure (before any password is tried) whose key derivations are of a
    sane cost (``MAX_KDF_ITERATIONS``)."""
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        pfx["auth_safe"]["content_type"].native  # noqa: B018 - forces parsing of the outer structure
        return all(count <= MAX_KDF_ITERATIONS for count in _iterations(pfx))
    except (ValueError, TypeError, KeyError):
        return False


def _load(data: bytes, password: str) -> pkcs12.PKCS12KeyAndCertificates:
    if len(data) > settings.SIGNING_MAX_UPLOAD_BYTES:
        raise CertificateError(
            _("The file is too large for a certificate (at most %(size)s KB).")
            % {"size": settings.SIGNING_MAX_UPLOAD_BYTES // 1024},
            code="file_too_large",
            field="file",
        )
    if not data or not _is_pkcs12(data):
        raise CertificateError(
            _("This is not a PKCS#12 file (.p12 or .pfx) with a certificate and its key."),
            code="not_pkcs12",
            field="file",
        )
    try:
        return pkcs12.load_pkcs12(data, password.encode() if password else None)
    except ValueError as exc:
        raise CertificateError(
            _("The password does not open this certificate file."), code="wrong_password", field="password"
        ) from exc
    except Exception as exc:
        raise CertificateError(
            _("The file uses an algorithm Classbook cannot read (for example ДСТУ 4145 keys)."),
            code="unsupported_key",
            field="file",
        ) from exc


def _check_validity(cert: x509.Certificate, now: dt.datetime) -> None:
    if now < cert.not_valid_before_utc:
        raise CertificateError(
            _("The certificate is not valid yet: it becomes valid on %(date)s.")
            % {"date": date_format(timezone.localtime(cert.not_valid_before_utc), "DATE_FORMAT")},
            code="not_yet_valid",
            field="file",
        )
    if now >= cert.not_valid_after_utc:
        raise CertificateError(
            _("The certificate expired on %(date)s.")
            % {"date": date_format(timezone.localtime(cert.not_valid_after_utc), "DATE_FORMAT")},
            code="expired",
            field="file",
        )


def _check_key_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return  # no restriction: the key may sign
    if not (usage.digital_signature or usage.content_commitment):
        raise CertificateError(
            _("The certificate does not allow its key to sign documents (key usage)."),
            code="key_usage",
            field="file",
        )


def read_pkcs12(data: bytes, password: str, *, now: dt.datetime | None = None) -> CertificateInfo:
    """Check the file as described in the module's docstring; the certificate's metadata, or a
    ``CertificateError`` saying what is wrong (its ``code`` tells the API client which check failed)."""
    loaded = _load(data, password)
    if loaded.key is None:
        raise CertificateError(
            _("The file holds no private key: export the certificate together with its key."),
            code="no_private_key",
            field="file",
        )
    if loaded.cert is None:
        raise CertificateError(_("The file holds no certificate."), code="no_certificate", field="file")
    cert = loaded.cert.certificate
    key = loaded.key
    if not isinstance(key, _SIGNING_KEYS):
        raise CertificateError(
            _("The file uses an algorithm Classbook cannot read (for example ДСТУ 4145 keys)."),
            code="unsupported_key",
            field="file",
        )
    if _spki(key.public_key()) != _spki(cert.public_key()):
        raise CertificateError(
            _("The private key in the file does not belong to its certificate."), code="key_mismatch", field="file"
        )
    _check_validity(cert, now or timezone.now())
    _check_key_usage(cert)
    chain = [cert, *(c.certificate for c in loaded.additional_certs)]
    return CertificateInfo(
        subject=_name(cert.subject),
        issuer=_name(cert.issuer),
        serial=format(cert.serial_number, "X"),
        valid_from=cert.not_valid_before_utc,
        valid_until=cert.not_valid_after_utc,
        fingerprint=fingerprint(cert),
        chain_pem="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain),
    )


def read_upload(file: IO[bytes]) -> bytes:
    """The uploaded file's bytes, one byte more than the limit at most (enough for ``read_pkcs12`` to refuse
    it as too large without reading a huge upload into memory)."""
    return file.read(settings.SIGNING_MAX_UPLOAD_BYTES + 1)
