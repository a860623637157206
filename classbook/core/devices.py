"""Which device a request comes from, coarsely: a browser and system label and the address's network.

Used by the sessions page (R1.5) and by the login audit, which records a login from a device and
network the account has not used before as ``people.login.new_device``.
"""

from __future__ import annotations

import ipaddress

_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("YaBrowser", "Yandex Browser"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)

# A home or school connection keeps its /24 (IPv4) or /48 (IPv6) while the last digits change.
_IPV4_PREFIX = 24
_IPV6_PREFIX = 48


def device_label(user_agent: str) -> str:
    """A short, human name for a browser's user agent ("Firefox, Windows"), or "" when unknown."""
    browser = next((name for key, name in _BROWSERS if key in user_agent), "")
    system = next((name for key, name in _SYSTEMS if key in user_agent), "")
    return ", ".join(p for p in (browser, system) if p)


def network_of(ip: str | None) -> str:
    """The address's network ("203.0.113.0/24"), or "" when there is no valid address."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    prefix = _IPV4_PREFIX if address.version == 4 else _IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def device_key(user_agent: str, ip: str | None) -> str:
    """What "the same device" means for the login audit: the same browser and system from the same network."""
    return f"{device_label(user_agent) or '?'}@{network_of(ip) or '?'}"
