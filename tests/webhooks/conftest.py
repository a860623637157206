"""A real HTTP receiver for webhook tests: ``http.server`` in a thread on 127.0.0.1 that records every
request, checks its signature with the subscription's secret (as an integrator would, with
``signing.verify``) and answers what the test asks for (200, 500, a redirect, a large body, a delay)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from classbook.webhooks import services, signing
from classbook.webhooks.models import SUBSCRIBABLE, Subscription
from tests.journal.conftest import IN_TIME, LESSON_DAY, journal  # noqa: F401 - fixtures reused here
from tests.notifications.conftest import committed  # noqa: F401 - fixture reused here

__all__ = ["IN_TIME", "LESSON_DAY"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    secrets: list[str] = field(default_factory=list)  # any of them verifying counts
    answers: list[int] = field(default_factory=list)  # statuses to answer in turn, then ``default``
    default: int = 200
    body_size: int = 0  # bytes of answer body to send
    delay: float = 0.0
    location: str = ""  # with a 3xx answer
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_status(self) -> int:
        with self.lock:
            return self.answers.pop(0) if self.answers else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            header = self.headers.get(signing.HEADER, "")
            verified = any(signing.verify(secret, header, body) for secret in receiver.secrets)
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body, verified))
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.next_status()
            try:
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(receiver.body_size))
                self.end_headers()
                if receiver.body_size:
                    self.wfile.write(b"x" * receiver.body_size)
            except OSError:
                pass  # the client went away (a timeout, a capped read): what the test is about

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.WEBHOOKS_ALLOW_HTTP_LOOPBACK = True
    settings.WEBHOOKS_TIMEOUT = 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    rec = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/classbook")
    server.RequestHandlerClass = _handler(rec)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def subscribe(world, receiver):
    """``subscribe(events=None, school=None)``: a webhook of ``world.school`` (or another school) to the receiver."""

    def make(events: list[str] | None = None, school: Any = None, admin: Any = None) -> Subscription:
        sub, secret = services.create_subscription(
            acting_user=admin or world.admin,
            school=school or world.school,
            url=receiver.url,
            events=events or [str(e) for e in SUBSCRIBABLE],
        )
        receiver.secrets.append(secret)
        return sub

    return make
