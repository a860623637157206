"""SMS and Viber through TurboSMS (R5.5): a real HTTP server on localhost plays the provider's API (bearer
token, ``message/send.json`` with ``sequence_id``, ``message/status.json``), including its outages, a
refused token, a refused number and the school's monthly cost limit. Nothing of our own code is mocked."""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.notifications import services, sms
from classbook.notifications.models import Delivery, Kind, PhoneOptIn, PhoneSettings, PhoneUsage, Status

TOKEN = "turbo-token-0123456789"
NUMBER = "380671234567"


class Provider(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ProviderApi)
        self.mode = "ok"  # ok | 5xx | slow
        self.calls: list[tuple[str, str, dict]] = []
        self.sent: list[dict] = []  # messages the "operator" really sent
        self.answers: dict[str, list] = {}  # sequence_id -> the first answer (the request executes once)
        self.refused_numbers: set[str] = set()
        self.status = "Delivered"


class ProviderApi(BaseHTTPRequestHandler):
    server: Provider

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        state = self.server
        state.calls.append((self.path, self.headers.get("Authorization", ""), body))
        if state.mode == "5xx":
            return self._answer({"error": "Bad Gateway"}, status=502)
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._answer({"response_code": 105, "response_status": "REQUIRED_AUTH", "response_result": None})
        if self.path == "/message/send.json":
            answer = self._send(body)
        elif self.path == "/message/status.json":
            answer = [
                {"message_id": m, "response_code": 0, "status": state.status, "type": "sms", "response_status": "OK"}
                for m in body["messages"]
            ]
        else:
            return self._answer({"response_code": 300, "response_status": "INVALID_REQUEST", "response_result": None})
        if state.mode == "slow":  # executed, but the answer comes after the client gave up
            time.sleep(0.6)
        return self._answer(
            {"response_code": 800, "response_status": "SUCCESS_MESSAGE_ACCEPTED", "response_result": answer}
        )

    def _send(self, body: dict) -> list:
        state, key = self.server, body.get("sequence_id") or str(uuid.uuid4())
        if key not in state.answers:
            phone = body["recipients"][0]
            if phone in state.refused_numbers:
                row = {"phone": phone, "response_code": 305, "message_id": None, "response_status": "INVALID_PHONE"}
            else:
                state.sent.append(body)
                row = {"phone": phone, "response_code": 0, "message_id": str(uuid.uuid4()), "response_status": "OK"}
            state.answers[key] = [row]
        return state.answers[key]

    def _answer(self, payload: dict, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    server = Provider()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    with override_settings(
        TURBOSMS_API_URL=f"http://127.0.0.1:{server.server_address[1]}", TURBOSMS_TIMEOUT=0.3, SMS_MAX_SEGMENTS=1
    ):
        yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def phone_school(world):
    """The school sends SMS (0.50 a segment, 10.00 a month); the parent opted in for their number."""
    services.save_phone_settings(
        acting_user=world.admin,
        school=world.school,
        values={"enabled": True, "sms_sender": "Lyceum1", "price_per_segment": "0.5", "monthly_limit": "10"},
        token=TOKEN,
    )
    world.parent.phone = "+380 (67) 123-45-67"
    world.parent.save(update_fields=["phone"])
    services.opt_in_phone(acting_user=world.parent, school=world.school)
    return world


def tell_parent(world, committed, n: int = 1) -> list[Delivery]:
    """A class notice to the parent (SMS by default): the deliveries are sent after the commit."""
    for i in range(n):
        with committed():
            services.notify(
                school=world.school,
                kind=Kind.CLASS_NOTICE,
                user_ids=[world.parent.pk],
                event_key=f"test-notice:{uuid.uuid4()}:{i}",
                params={
                    "student": "Коваль Петро",
                    "average": "3.50",
                    "absences": 12,
                    "days": 30,
                    "teacher": "Іваненко",
                },
            )
    return list(Delivery.objects.filter(channel__in=["sms", "viber"]).order_by("pk"))


def due_again() -> list[int]:
    Delivery.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())
    return services.due_deliveries()


def test_an_opted_in_parent_gets_an_sms_and_its_delivery_report(phone_school, provider, committed):
    world = phone_school
    [delivery] = tell_parent(world, committed)
    assert (delivery.status, delivery.attempts) == (Status.SENT, 1)
    path, auth, body = provider.calls[0]
    assert (path, auth) == ("/message/send.json", f"Bearer {TOKEN}")
    assert body["recipients"] == [NUMBER] and body["sms"]["sender"] == "Lyceum1" and "viber" not in body
    assert body["sequence_id"] == f"cb-{delivery.pk}-sms"
    assert "Коваль Петро" in body["sms"]["text"]  # Cyrillic: UCS-2, cut to one segment (SMS_MAX_SEGMENTS)
    assert len(body["sms"]["text"]) <= 70
    assert (delivery.provider_id, delivery.segments, delivery.cost) == (
        provider.answers[body["sequence_id"]][0]["message_id"],
        1,
        Decimal("0.5000"),
    )
    usage = PhoneUsage.objects.get(school=world.school)
    assert (usage.messages, usage.segments, usage.cost) == (1, 1, Decimal("0.5"))
    # Nobody else is told by SMS: the other parent, the student and the staff did not opt in.
    assert Delivery.objects.filter(channel="sms").count() == 1

    # The report: polled, written on the delivery, final, and not asked for again.
    assert sms.poll_reports() == {"asked": 1, "final": 1, "errors": 0}
    delivery.refresh_from_db()
    assert delivery.report == "sms: Delivered" and delivery.reported_at is not None
    assert sms.poll_reports()["asked"] == 0
    # Sending again sends nothing twice.
    assert services.deliver([delivery.pk])["skipped"] == 1
    assert len(provider.sent) == 1


def test_viber_with_sms_fallback_replaces_the_sms(phone_school, provider, committed):
    world = phone_school
    services.save_phone_settings(
        acting_user=world.director,
        school=world.school,
        values={
            "enabled": True,
            "sms_sender": "Lyceum1",
            "viber_sender": "Lyceum1",
            "price_per_segment": "0.5",
            "price_per_viber": "0.8",
            "monthly_limit": "10",
        },
    )
    [delivery] = tell_parent(world, committed)
    assert (delivery.channel, delivery.status, delivery.cost) == ("viber", Status.SENT, Decimal("0.8000"))
    body = provider.sent[0]
    assert body["viber"]["sender"] == "Lyceum1" and body["sms"]["text"] == body["viber"]["text"]


@pytest.mark.parametrize("outage", ["5xx", "slow", "token"])
def test_provider_outages_are_retried_and_nothing_is_sent_twice(phone_school, provider, committed, outage):
    world = phone_school
    if outage == "token":
        PhoneSettings.objects.filter(school=world.school).update(
            token_encrypted=sms.keystore.encrypt(b"a-revoked-token")
        )
    else:
        provider.mode = outage
    [delivery] = tell_parent(world, committed)
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert delivery.last_error
    # What a failed send reserved is given back.
    assert PhoneUsage.objects.get(school=world.school).cost == 0
    if outage == "token":  # the administrator sees it on the settings page
        assert "refused the token" in PhoneSettings.objects.get(school=world.school).last_error
        services.save_phone_settings(
            acting_user=world.admin,
            school=world.school,
            values={"enabled": True, "sms_sender": "Lyceum1", "price_per_segment": "0.5", "monthly_limit": "10"},
            token=TOKEN,
        )
    provider.mode = "ok"
    assert services.deliver(due_again())["sent"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SENT, 2)
    # The timed-out request had been executed: the same sequence_id gives its answer, not a second SMS.
    assert len(provider.sent) == 1
    assert PhoneUsage.objects.get(school=world.school).cost == Decimal("0.5")


def test_a_number_the_provider_refuses_is_not_retried(phone_school, provider, committed):
    provider.refused_numbers.add(NUMBER)
    [delivery] = tell_parent(phone_school, committed)
    assert delivery.status == Status.FAILED and "305" in delivery.last_error
    assert due_again() == []


def test_the_monthly_cost_limit_stops_sending_until_it_is_raised(phone_school, provider, committed):
    world = phone_school
    PhoneSettings.objects.filter(school=world.school).update(monthly_limit=Decimal("1.00"))
    deliveries = tell_parent(world, committed, n=4)
    assert [d.status for d in deliveries] == [Status.SENT, Status.SENT, Status.FAILED, Status.FAILED]
    assert "limit" in deliveries[2].last_error
    assert len(provider.sent) == 2
    usage = PhoneUsage.objects.get(school=world.school)
    assert (usage.messages, usage.cost) == (2, Decimal("1.0"))
    assert usage.limit_reached_at is not None
    assert AuditEntry.objects.filter(action="notifications.phone.limit_reached").count() == 1  # once, not per message

    services.save_phone_settings(
        acting_user=world.admin,
        school=world.school,
        values={"enabled": True, "sms_sender": "Lyceum1", "price_per_segment": "0.5", "monthly_limit": "2"},
    )
    assert (
        AuditEntry.objects.filter(action="notifications.phone.settings_saved").order_by("pk").last().data["resumed"]
        is True
    )
    assert tell_parent(world, committed)[-1].status == Status.SENT
    assert len(provider.sent) == 3


def test_opt_in_is_the_parents_own_for_their_current_number(phone_school, provider, committed, world):
    reach = services.reach_of(world.school.pk, [world.parent.pk, world.teacher.pk])
    assert reach.phones == {world.parent.pk: NUMBER}
    # A changed number is not the one they agreed to: nothing goes to it.
    world.parent.phone = "+380 50 000 00 00"
    world.parent.save(update_fields=["phone"])
    assert tell_parent(world, committed) == []
    for user in (world.teacher, world.student.user, world.foreign_admin, world.viewer):
        with pytest.raises(PermissionDeniedError):
            services.opt_in_phone(acting_user=user, school=world.school)
    world.other_parent.phone = "12"
    with pytest.raises(DomainError):
        services.opt_in_phone(acting_user=world.other_parent, school=world.school)
    services.opt_out_phone(acting_user=world.parent, school=world.school)
    assert not PhoneOptIn.objects.exists()
    assert [
        e.action for e in AuditEntry.objects.filter(action__startswith="notifications.phone.opted").order_by("pk")
    ] == [
        "notifications.phone.opted_in",
        "notifications.phone.opted_out",
    ]


def test_the_parent_opts_in_on_the_settings_page(world, as_user):
    world.parent.phone = "067 123 45 67"
    world.parent.save(update_fields=["phone"])
    url = reverse("notifications:preferences", kwargs={"school": world.school.slug})
    client = as_user(world.parent)
    assert "phone-opt-in" in client.get(url).content.decode()
    assert client.post(url, {"action": "phone-opt-in"}).status_code == 302
    assert PhoneOptIn.objects.get(user=world.parent).phone == NUMBER
    assert "phone-opt-in" not in as_user(world.teacher).get(url).content.decode()


# --- The settings page: who may, and bad input ------------------------------------------------------

PAGE = [
    ("admin", 200),
    ("director", 200),
    *[(p, 403) for p in ("deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer")],
    ("foreign_admin", 404),
    ("foreign_teacher", 404),
    ("anonymous", 302),
]


@pytest.mark.parametrize(("persona", "status"), PAGE)
def test_the_settings_page_is_the_administrators_and_directors_only(world, as_user, persona, status):
    url = reverse("notifications:phone_settings", kwargs={"school": world.school.slug})
    client = as_user(world.persona(persona))
    assert client.get(url).status_code == status
    if status != 200:
        before = AuditEntry.objects.count()
        answer = client.post(url, {"enabled": "on", "sms_sender": "Hacker", "token": "stolen", "monthly_limit": "9999"})
        assert answer.status_code == status
        assert not PhoneSettings.objects.exists() and AuditEntry.objects.count() == before


@pytest.mark.parametrize("persona", ["deputy", "teacher", "parent", "foreign_admin", "viewer"])
def test_the_settings_service_refuses_the_same_people(world, persona):
    with pytest.raises(PermissionDeniedError):
        services.save_phone_settings(
            acting_user=world.persona(persona), school=world.school, values={"monthly_limit": "1"}, token="x"
        )
    assert not PhoneSettings.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"sms_sender": "Far too long a name"}, "sms_sender"),
        ({"sms_sender": "Ліцей"}, "sms_sender"),
        ({"price_per_segment": "-1"}, "price_per_segment"),
        ({"monthly_limit": "lots"}, "monthly_limit"),
        ({"enabled": True, "sms_sender": "Lyceum1"}, "enabled"),  # no token
    ],
)
def test_bad_settings_are_refused_with_a_translated_error_and_change_nothing(
    world, as_user, values, field, django_assert_max_num_queries
):
    url = reverse("notifications:phone_settings", kwargs={"school": world.school.slug})
    post = {k: ("on" if v is True else v) for k, v in values.items()}
    client = as_user(world.admin)
    with django_assert_max_num_queries(16):
        answer = client.post(url, post, HTTP_ACCEPT_LANGUAGE="uk")
    assert answer.status_code == 422
    assert not PhoneSettings.objects.exists() and not AuditEntry.objects.filter(
        action__startswith="notifications.phone"
    )
    with pytest.raises(DomainError) as refused:
        services.save_phone_settings(acting_user=world.admin, school=world.school, values=values)
    assert refused.value.field == field
    with translation.override("uk"):
        assert str(refused.value.message) in answer.content.decode()  # the page says why, in the reader's language


def test_the_token_is_stored_encrypted_and_never_shown_or_audited(world, as_user, django_assert_max_num_queries):
    services.save_phone_settings(
        acting_user=world.admin,
        school=world.school,
        values={"enabled": True, "sms_sender": "Lyceum1", "monthly_limit": "5"},
        token=TOKEN,
    )
    conf = PhoneSettings.objects.get(school=world.school)
    assert TOKEN.encode() not in bytes(conf.token_encrypted) and sms.token_of(conf) == TOKEN
    assert all(TOKEN not in json.dumps(e.data) for e in AuditEntry.objects.all())
    url = reverse("notifications:phone_settings", kwargs={"school": world.school.slug})
    client = as_user(world.director)
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert TOKEN not in page.content.decode() and 'id="limit-reached"' not in page.content.decode()
    # When the month's limit stops sending, the page says so.
    month = timezone.localdate().replace(day=1)
    PhoneUsage.objects.create(school=world.school, month=month, cost=5, limit_reached_at=timezone.now())
    assert 'id="limit-reached"' in client.get(url).content.decode()


def test_the_token_survives_a_key_rotation(world, settings):
    services.save_phone_settings(
        acting_user=world.admin, school=world.school, values={"sms_sender": "Lyceum1"}, token=TOKEN
    )
    settings.SIGNING_KEY_FALLBACKS = [settings.SIGNING_KEY or settings.SECRET_KEY]
    settings.SIGNING_KEY = "a-new-signing-key-for-the-rotation"
    call_command("sms_rotate_key", stdout=io.StringIO())
    settings.SIGNING_KEY_FALLBACKS = []
    assert sms.token_of(PhoneSettings.objects.get(school=world.school)) == TOKEN


# --- Segments ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding", "units", "count"),
    [
        ("", "GSM-7", 0, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("{" * 80, "GSM-7", 160, 1),  # extension characters take two places
        ("{" * 81, "GSM-7", 162, 2),
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "ї", "UCS-2", 70, 1),  # one Cyrillic letter makes the whole text UCS-2
        ("a" * 70 + "ї", "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),  # a surrogate pair takes two places
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_segments(text, encoding, units, count):
    found = sms.segments.count(text)
    assert (found.encoding, found.units, found.count) == (encoding, units, count)


def test_a_long_text_is_cut_to_the_segment_limit():
    cut = sms.segments.truncate("ж" * 500, 2)
    assert cut.endswith("...") and sms.segments.count(cut).count == 2 and len(cut) == 134
    assert sms.segments.truncate("short", 1) == "short"
    assert sms.normalize_phone("+38 (067) 123-45-67") == NUMBER == sms.normalize_phone("067 123 45 67")
    assert sms.normalize_phone("12-34") == ""
