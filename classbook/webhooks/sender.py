"""One HTTP POST of a delivery, with the SSRF rules of ``addresses``: to the checked address only, a
timeout on connecting and on the whole exchange, no redirect followed (a 3xx is a failure), and at
most ``WEBHOOKS_MAX_RESPONSE_BYTES`` of the answer read (and thrown away: only the status counts)."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from django.conf import settings

from classbook.webhooks import addresses


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None
    error: str


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to by now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name (SNI), not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _read_capped(response: http.client.HTTPResponse, limit: int, deadline: float) -> None:
    left = limit
    while left > 0 and time.monotonic() < deadline:
        chunk = response.read(min(left, 8192))
        if not chunk:
            return
        left -= len(chunk)


def post(url: str, body: bytes, headers: dict[str, str]) -> Result:
    """POST ``body`` to ``url``; never raises for the network or the receiver, returns what happened."""
    timeout = float(getattr(settings, "WEBHOOKS_TIMEOUT", 10))
    limit = int(getattr(settings, "WEBHOOKS_MAX_RESPONSE_BYTES", 65536))
    try:
        target = addresses.parse(url)
        address = str(addresses.resolve(target)[0])
    except addresses.UnsafeURL as exc:
        return Result(False, None, str(exc.message))
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target.host, target.port, address, timeout)
    deadline = time.monotonic() + timeout
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        _read_capped(response, limit, deadline)
        status = response.status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return Result(False, None, f"{type(exc).__name__}: {exc}"[:300])
    finally:
        connection.close()
    if 200 <= status < 300:
        return Result(True, status, "")
    return Result(False, status, f"HTTP {status}")
