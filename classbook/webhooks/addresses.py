"""Where a webhook may send (SSRF safety): https only, to public addresses only, by default.

A school administrator types the URL, and the server then makes requests to it: without these rules
the URL could reach the server's own services (``http://127.0.0.1:6379``), the cloud's metadata
(``http://169.254.169.254``) or the school's internal network. So:

- the scheme is ``https``; ``http`` only to a loopback address and only with
  ``WEBHOOKS_ALLOW_HTTP_LOOPBACK`` (tests and development);
- no user name or password in the URL;
- every address the host name resolves to must be public (not private, loopback, link-local,
  multicast, reserved or unspecified) unless ``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`` (an on-premise
  integration in the school's own network), loopback again only with ``WEBHOOKS_ALLOW_HTTP_LOOPBACK``;
- the check is made when the subscription is saved and again before every delivery, and the
  connection goes to the address that was checked (no second DNS lookup an attacker could answer
  differently).
"""

from __future__ import annotations

import contextvars
import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from classbook.core.errors import DomainError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(DomainError):
    code = "unsafe_url"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string


def parse(url: str) -> Target:
    """The URL's parts, or ``UnsafeURL`` for what is never allowed whatever it resolves to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(_("Enter a valid URL."), field="url") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeURL(_("The URL must start with https://."), field="url")
    if parts.username or parts.password:
        raise UnsafeURL(_("The URL must not contain a user name or password."), field="url")
    if parts.fragment:
        raise UnsafeURL(_("The URL must not contain a fragment (#...)."), field="url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80), path)


def _ip(raw: object) -> IPAddress:
    """An address as the socket layer gives it (``getaddrinfo``, ``getpeername``), without an IPv6 scope (``%eth0``)."""
    return ipaddress.ip_address(str(raw).split("%", 1)[0])


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_address(address: IPAddress, scheme: str) -> None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    loopback_ok = getattr(settings, "WEBHOOKS_ALLOW_HTTP_LOOPBACK", False)
    if address.is_loopback:
        if loopback_ok:
            return
        raise UnsafeURL(_("Webhooks cannot be sent to this server itself."), field="url")
    if scheme != "https":
        raise UnsafeURL(_("The URL must start with https://."), field="url")
    if address.is_global and not address.is_multicast:
        return
    private_ok = getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
    if private_ok and address.is_private and not (address.is_link_local or address.is_unspecified):
        return
    raise UnsafeURL(_("Webhooks can only be sent to public internet addresses."), field="url")


def check_static(url: str) -> Target:
    """What can be checked without DNS: the scheme, credentials, and an address given as a literal."""
    target = parse(url)
    literal = _literal(target.host)
    if literal is not None:
        _check_address(literal, target.scheme)
    elif target.host == "localhost" or target.host.endswith((".localhost", ".local", ".internal")):
        raise UnsafeURL(_("Webhooks can only be sent to public internet addresses."), field="url")
    elif target.scheme != "https":
        raise UnsafeURL(_("The URL must start with https://."), field="url")
    return target


def resolve(target: Target) -> list[IPAddress]:
    """Every address of the host, each checked; ``UnsafeURL`` if any is refused or none is found."""
    literal = _literal(target.host)
    if literal is not None:
        _check_address(literal, target.scheme)
        return [literal]
    try:
        infos = socket.getaddrinfo(target.host, target.port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise UnsafeURL(_("The host name of the URL could not be found."), code="dns_failed", field="url") from exc
    found = [_ip(info[4][0]) for info in infos]
    if not found:
        raise UnsafeURL(_("The host name of the URL could not be found."), code="dns_failed", field="url")
    for address in found:
        _check_address(address, target.scheme)
    return found


def _public_or_allowed(address: IPAddress) -> bool:
    """The webhooks' address rule without the scheme: public, or loopback/private where the settings allow."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return bool(getattr(settings, "WEBHOOKS_ALLOW_HTTP_LOOPBACK", False))
    if address.is_global and not address.is_multicast:
        return True
    private_ok = getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", False)
    return bool(private_ok and address.is_private and not (address.is_link_local or address.is_unspecified))


def check_outbound(url: str, *, field: str) -> str:
    """Another address a school types for the server to call (the signing certificate's timestamp authority):
    ``http`` or ``https`` (the timestamp protocol is usually plain http: its answer is signed), no user name or
    password, and every address the host name resolves to public, under the same settings as webhooks. A name
    that does not resolve now is accepted (it is checked again before each call). The cleaned URL, or
    ``UnsafeURL`` on ``field``."""
    refused = UnsafeURL(_("The server may only call public internet addresses."), field=field)
    try:
        target = parse(url)
    except UnsafeURL as exc:
        raise UnsafeURL(exc.message, field=field) from exc
    literal = _literal(target.host)
    if literal is None and (target.host == "localhost" or target.host.endswith((".localhost", ".local", ".internal"))):
        raise refused
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = socket.getaddrinfo(target.host, target.port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return url.strip()
        found = [_ip(info[4][0]) for info in infos]
    if not all(_public_or_allowed(address) for address in found):
        raise refused
    return url.strip()


def check(url: str) -> Target:
    """The check when a subscription is saved: static rules, then every resolved address.

    A name that does not resolve now is accepted (the receiver may not be online yet); it is resolved
    and checked again before every delivery.
    """
    target = check_static(url)
    try:
        resolve(target)
    except UnsafeURL as exc:
        if exc.code != "dns_failed":
            raise
    return target


# --- Calls made by libraries (pyHanko's timestamp and revocation clients) ------------------------------------
# ``check_outbound`` checks an address before the call, but the library then resolves the name again and
# follows redirects itself: a name that answers a public address to the check and 169.254.169.254 to the call
# (DNS rebinding), or a public address that redirects inside, would slip through. So while
# ``public_connections_only`` is active, every connection urllib3 opens (requests, hence those clients) is
# checked on the socket it actually connected, by the same rule.
_public_only: contextvars.ContextVar[bool] = contextvars.ContextVar("classbook_public_only", default=False)
_install_lock = threading.Lock()
_installed = False


class RefusedConnection(OSError):
    """A connection made under ``public_connections_only`` reached an address the outbound rule refuses."""


@contextmanager
def public_connections_only() -> Iterator[None]:
    """For the block, and the threads and tasks it starts (``asyncio.to_thread`` copies the context): urllib3
    connections to an address ``check_outbound`` would refuse are closed at once and fail as ``OSError``."""
    _install()
    token = _public_only.set(True)
    try:
        yield
    finally:
        _public_only.reset(token)


def _install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        from urllib3.util import connection

        original = connection.create_connection

        def create_connection(address, *args, **kwargs):  # type: ignore[no-untyped-def]
            sock = original(address, *args, **kwargs)
            if _public_only.get():
                peer = _ip(sock.getpeername()[0])
                if not _public_or_allowed(peer):
                    sock.close()
                    raise RefusedConnection(f"{address[0]} connected to {peer}: not a public address")
            return sock

        connection.create_connection = create_connection  # urllib3.connection calls it through the module
        _installed = True
