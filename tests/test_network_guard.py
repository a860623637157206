"""The suite never leaves this machine (tests/conftest.py, _keep_off_the_network): a stray lookup or connection
fails at once, naming the test, wherever CI runs."""

import socket

import pytest

pytestmark = pytest.mark.engine_agnostic


def test_a_name_lookup_for_the_outside_fails_at_once_and_names_the_test():
    with pytest.raises(socket.gaierror, match="test_a_name_lookup_for_the_outside"):
        socket.getaddrinfo("crl.example.org", 80)


@pytest.mark.parametrize("address", [("192.0.2.1", 80), ("10.0.0.5", 443), ("2001:db8::1", 443, 0, 0)])
def test_a_connection_to_the_outside_fails_at_once(address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock, pytest.raises(OSError, match="stay on this machine"):
        sock.connect(address)


def test_this_machine_stays_reachable():
    assert socket.getaddrinfo("localhost", 80, proto=socket.IPPROTO_TCP)
    assert socket.getaddrinfo("127.0.0.1", 80, proto=socket.IPPROTO_TCP)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
