"""Encryption at rest of the schools' PKCS#12 files and passwords (issue 12).

Fernet (AES-128-CBC with HMAC-SHA256) with a key derived by HKDF-SHA256 from ``SIGNING_KEY``, or from
``SECRET_KEY`` when no dedicated key is set. A dedicated key lets an operator rotate ``SECRET_KEY`` (sessions,
tokens) without touching the certificates, and keep the certificates' key out of the web settings if they
wish. Rotation: the old value goes into ``SIGNING_KEY_FALLBACKS`` (still decrypts), the new one into
``SIGNING_KEY`` (encrypts), then ``manage.py signing_rotate_key`` re-encrypts every row (docs/signing.md).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

__all__ = ["InvalidToken", "decrypt", "encrypt", "rotate"]

_INFO = b"classbook.signing.keystore.v1"


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    current = settings.SIGNING_KEY or settings.SECRET_KEY
    return MultiFernet([_fernet(current), *(_fernet(old) for old in settings.SIGNING_KEY_FALLBACKS)])


def encrypt(data: bytes) -> bytes:
    return _keys().encrypt(data)


def decrypt(token: bytes | memoryview) -> bytes:
    """The plain bytes; ``InvalidToken`` when no configured key opens them (a lost or wrong key)."""
    return _keys().decrypt(bytes(token))


def rotate(token: bytes | memoryview) -> bytes:
    """The same plain bytes encrypted with the current key."""
    return _keys().rotate(bytes(token))
