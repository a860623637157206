"""The signature of a delivery: HMAC-SHA256 over ``"<timestamp>.<body>"``, hex, in one header.

``X-Classbook-Signature: t=1764739200,v1=5f2c…[,v1=…]`` — one ``v1`` per secret that signs now (two
during a secret rotation). The receiver recomputes the HMAC with its secret, compares in constant time,
and refuses a timestamp older than a few minutes (replays). ``verify`` is what docs/api.md shows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets
import time

HEADER = "X-Classbook-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a public prefix, not a secret
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + _secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def header_value(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets)])


def verify(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and is recent (the receiving side's check)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body)
    return any(hmac.compare_digest(expected, v.strip()) for k, v in parts if k.strip() == "v1")
