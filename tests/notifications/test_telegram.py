"""Telegram: linking a chat with a one-time code through the bot's webhook (secret header checked),
then notifications sent through the Bot API — here a real HTTP server on localhost standing in for it."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.test import override_settings

from classbook.journal import services as jservices
from classbook.journal.models import Lesson
from classbook.notifications.models import Delivery, Status, TelegramLink
from tests.notifications.conftest import IN_TIME

SECRET = "webhook-secret-123"


class BotApi(BaseHTTPRequestHandler):
    calls: list[tuple[str, dict]] = []
    fail = False

    def do_POST(self):
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        BotApi.calls.append((self.path, payload))
        body = json.dumps({"ok": not BotApi.fail, "description": "Too Many Requests"}).encode()
        self.send_response(429 if BotApi.fail else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bot_api():
    BotApi.calls = []
    BotApi.fail = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), BotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with override_settings(
        TELEGRAM_BOT_TOKEN="123:abc",
        TELEGRAM_BOT_USERNAME="classbook_school_bot",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_API_URL=f"http://127.0.0.1:{server.server_address[1]}",
        TELEGRAM_TIMEOUT=3,
    ):
        yield BotApi
    server.shutdown()
    server.server_close()
    thread.join()


def webhook(client, text: str, chat_id: int = 555, secret: str | None = SECRET):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret} if secret is not None else {}
    update = {"update_id": 1, "message": {"message_id": 1, "chat": {"id": chat_id, "type": "private"}, "text": text}}
    return client.post(
        "/notifications/telegram/webhook/", json.dumps(update), content_type="application/json", **headers
    )


def test_link_a_chat_and_receive_notifications(world, journal, family, committed, as_user, bot_api, client):
    parent = as_user(world.parent)
    answer = parent.post("/api/v1/me/telegram")
    assert answer.status_code == 200, answer.content
    code = answer.json()["code"]
    assert answer.json()["url"] == f"https://t.me/classbook_school_bot?start={code}"

    # Without the secret header, or with a wrong one: refused, nothing linked.
    assert webhook(client, f"/start {code}", secret=None).status_code == 403
    assert webhook(client, f"/start {code}", secret="wrong").status_code == 403
    assert not TelegramLink.objects.filter(chat_id__isnull=False).exists()
    # A wrong code links nothing and says so.
    assert webhook(client, "/start nonsense", chat_id=777).status_code == 200
    assert bot_api.calls[-1][1]["chat_id"] == 777
    assert not TelegramLink.objects.filter(chat_id=777).exists()

    assert webhook(client, f"/start {code}").status_code == 200
    assert TelegramLink.objects.get(user=world.parent).chat_id == 555
    assert bot_api.calls[-1][0] == "/bot123:abc/sendMessage"
    # The code is used up: another chat cannot take it.
    webhook(client, f"/start {code}", chat_id=888)
    assert TelegramLink.objects.get(user=world.parent).chat_id == 555
    assert parent.get("/api/v1/me/telegram").json()["linked"] is True

    bot_api.calls.clear()
    with time_machine.travel(IN_TIME), committed():
        jservices.record_attendance(
            acting_user=world.teacher,
            lesson=Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk),
            student=world.student,
            text="н",
            expected_version=0,
        )
    sent = [payload for path, payload in bot_api.calls if path.endswith("/sendMessage")]
    assert [p["chat_id"] for p in sent] == [555]
    assert "was marked “н”" in sent[0]["text"]
    assert Delivery.objects.get(channel="telegram").status == Status.SENT

    # Unlinking stops it.
    assert parent.delete("/api/v1/me/telegram").json()["linked"] is False


def test_a_refusing_bot_api_is_retried(world, journal, family, committed, as_user, bot_api, client):
    code = as_user(world.parent).post("/api/v1/me/telegram").json()["code"]
    webhook(client, f"/start {code}")
    bot_api.fail = True
    with time_machine.travel(IN_TIME), committed():
        jservices.record_attendance(
            acting_user=world.teacher,
            lesson=Lesson.objects.select_related("assignment", "school").get(pk=journal.lesson.pk),
            student=world.student,
            text="н",
            expected_version=0,
        )
    delivery = Delivery.objects.get(channel="telegram")
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert "429" in delivery.last_error or "Too Many" in delivery.last_error


def test_linking_needs_the_bot_configured(world, as_user, client):
    answer = as_user(world.parent).post("/api/v1/me/telegram")
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "telegram_off"
    assert webhook(client, "/start x").status_code == 403


def test_the_webhook_ignores_what_it_does_not_understand(world, bot_api, client):
    headers = {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": SECRET}
    url = "/notifications/telegram/webhook/"
    assert client.post(url, "not json", content_type="application/json", **headers).status_code == 200
    assert client.post(url, json.dumps({"edited_message": {}}), content_type="application/json", **headers).json() == {
        "ok": True
    }
    assert webhook(client, "hello").status_code == 200
    assert client.get(url, **headers).status_code == 405
    assert bot_api.calls == []
