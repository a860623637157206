"""SSRF safety of webhook URLs: https to public addresses only, unless a setting says otherwise; checked
when the webhook is saved and again before each delivery (a name that later resolves inward is refused)."""

from __future__ import annotations

import socket

import pytest

from classbook.webhooks import addresses, sender, services
from classbook.webhooks.models import Subscription

REFUSED = [
    ("http://93.184.215.14/hook", "unsafe_url"),  # plain http to the internet
    ("ftp://93.184.215.14/hook", "unsafe_url"),
    ("https://user:pw@93.184.215.14/hook", "unsafe_url"),
    ("https://127.0.0.1/hook", "unsafe_url"),  # this server
    ("https://[::1]/hook", "unsafe_url"),
    ("https://localhost/hook", "unsafe_url"),
    ("https://10.0.0.5/hook", "unsafe_url"),  # private networks
    ("https://192.168.1.1/hook", "unsafe_url"),
    ("https://172.16.0.1/hook", "unsafe_url"),
    ("https://169.254.169.254/latest/meta-data/", "unsafe_url"),  # cloud metadata (link-local)
    ("https://[fe80::1]/hook", "unsafe_url"),
    ("https://[::ffff:10.0.0.1]/hook", "unsafe_url"),  # IPv4-mapped private
    ("https://0.0.0.0/hook", "unsafe_url"),
    ("https://224.0.0.1/hook", "unsafe_url"),  # multicast
    ("https://100.64.0.1/hook", "unsafe_url"),  # carrier-grade NAT
    ("https://hooks.internal/x", "unsafe_url"),
    ("https://93.184.215.14:99999/hook", "unsafe_url"),  # a port out of range
    ("https:///hook", "unsafe_url"),
]


@pytest.mark.parametrize(("url", "code"), REFUSED)
def test_unsafe_urls_are_refused_when_saved(world, url, code):
    with pytest.raises(addresses.UnsafeURL) as caught:
        services.create_subscription(acting_user=world.admin, school=world.school, url=url, events=["mark.changed"])
    assert caught.value.code == code
    assert caught.value.field == "url"
    assert not Subscription.objects.exists()


def test_a_public_https_address_is_accepted(world):
    sub, _secret = services.create_subscription(
        acting_user=world.admin, school=world.school, url="https://93.184.215.14/hook", events=["mark.changed"]
    )
    assert sub.url == "https://93.184.215.14/hook"


def test_loopback_http_needs_the_setting(world, settings):
    url = "http://127.0.0.1:8123/hook"
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = False
    with pytest.raises(addresses.UnsafeURL):
        addresses.check(url)
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    assert addresses.check(url).port == 8123
    # The setting is for this machine only: http to anything else is still refused.
    with pytest.raises(addresses.UnsafeURL):
        addresses.check("http://10.0.0.5/hook")


def test_private_addresses_need_their_setting_and_link_local_never(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    assert addresses.check("https://10.0.0.5/hook").host == "10.0.0.5"
    with pytest.raises(addresses.UnsafeURL):
        addresses.check("https://169.254.169.254/hook")
    with pytest.raises(addresses.UnsafeURL):
        addresses.check("http://10.0.0.5/hook")  # still https only


def _resolving_to(monkeypatch, address: str) -> None:
    def fake(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(addresses.socket, "getaddrinfo", fake)


def test_a_name_resolving_to_a_private_address_is_refused_when_saved(world, monkeypatch):
    _resolving_to(monkeypatch, "10.1.2.3")
    with pytest.raises(addresses.UnsafeURL):
        addresses.check("https://hooks.example.org/x")


def test_a_name_that_resolves_inward_later_is_refused_at_delivery(monkeypatch):
    # DNS rebinding: public when saved, this server when sent. Nothing is sent.
    _resolving_to(monkeypatch, "127.0.0.1")
    result = sender.post("https://hooks.example.org/x", b"{}", {})
    assert (result.ok, result.status) == (False, None)
    assert "this server" in result.error


def test_a_name_that_does_not_resolve_is_accepted_when_saved_and_fails_at_delivery(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror("no such host")

    monkeypatch.setattr(addresses.socket, "getaddrinfo", fail)
    assert addresses.check("https://not-yet-online.example.org/x").host == "not-yet-online.example.org"
    result = sender.post("https://not-yet-online.example.org/x", b"{}", {})
    assert not result.ok
    assert "could not be found" in result.error
