"""Checking a Classbook webhook on the receiving side (the code docs/api.md shows)."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Classbook-Signature"


def verify_signature(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """Whether ``header`` (``t=<unix time>,v1=<hex>[,v1=<hex>]``) signs the raw ``body`` with ``secret``,
    made at most ``tolerance`` seconds ago. Compare the raw bytes, before any JSON parsing."""
    parts = [p.strip().split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    signed = stamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")
