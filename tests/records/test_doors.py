"""Who opens the book of orders, drafts, signs and reads personal files — pages and API refuse the same people
(another school, a teacher, a parent, a student, anonymous); bad input is a translated refusal that writes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from classbook.records import services
from classbook.records.models import LineInput, Order, OrderInput, OrderKind
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

EVERYONE = [
    "admin", "director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent",
    "foreign_admin", "viewer", "anonymous",
]  # fmt: skip


def _draft(world) -> Order:
    today = timezone.localdate()
    data = OrderInput(
        year_id=world.class_a.year_id, number=services.suggested_number(world.school, world.class_a.year),
        date=today, effective_on=today, kind=OrderKind.EXEMPTION, text="Звільнити від ДПА",
        lines=[LineInput(student_id=world.student.pk, reason="за станом здоров'я")],
    )  # fmt: skip
    return services.create_order(acting_user=world.secretary, school=world.school, data=data)


def _page_status(world, persona: str, url: str, method: str = "get") -> int:
    client = client_for(world.persona(persona))
    return getattr(client, method)(url).status_code


READERS = {"admin": 200, "director": 200, "deputy": 200, "secretary": 200, "viewer": 200}
DRAFTERS = {"admin": 200, "secretary": 200}


@pytest.mark.parametrize("persona", EVERYONE)
def test_the_book_of_orders_opens_for_those_who_see_every_student(world, persona):
    expected = READERS.get(persona, {"foreign_admin": 404, "anonymous": 302}.get(persona, 403))
    assert _page_status(world, persona, "/s/lyceum-1/records/orders/") == expected
    api = {200: 200, 302: 401, 403: 403, 404: 404}[expected]
    assert _page_status(world, persona, "/api/v1/schools/lyceum-1/orders") == api


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_secretary_and_the_administrator_draft(world, persona):
    expected = DRAFTERS.get(persona, {"foreign_admin": 404, "anonymous": 302}.get(persona, 403))
    assert _page_status(world, persona, "/s/lyceum-1/records/orders/new/") == expected


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_the_director_signs_on_the_page_and_in_the_api(world, persona):
    order = _draft(world)
    page = _page_status(world, persona, f"/s/lyceum-1/records/orders/{order.pk}/sign/", "post")
    expected = {"director": 302, "foreign_admin": 404, "anonymous": 302}.get(persona, 403)
    assert page == expected
    signed = Order.objects.get(pk=order.pk).signed_at is not None
    assert signed == (persona == "director")
    if persona != "director":
        api = _page_status(world, persona, f"/api/v1/schools/lyceum-1/orders/{order.pk}/sign", "post")
        assert api == {"foreign_admin": 404, "anonymous": 401}.get(persona, 403)
        assert Order.objects.get(pk=order.pk).signed_at is None


@pytest.mark.parametrize(
    ("persona", "student", "expected"),
    [
        ("secretary", "student", 200),
        ("director", "student", 200),
        ("viewer", "student", 200),
        ("class_teacher", "student", 200),
        ("class_teacher", "other_student", 404),  # not their class
        ("teacher", "student", 403),
        ("parent", "student", 403),
        ("student", "student", 403),
        ("foreign_admin", "student", 404),
        ("anonymous", "student", 302),
    ],
)
def test_personal_files_open_as_the_student_card(world, persona, student, expected):
    pk = getattr(world, student).pk
    assert _page_status(world, persona, f"/s/lyceum-1/records/students/{pk}/file/") == expected
    api = {200: 200, 302: 401, 403: 403, 404: 404}[expected]
    assert _page_status(world, persona, f"/api/v1/schools/lyceum-1/students/{pk}/personal-file") == api


def test_the_list_page_has_a_constant_number_of_queries(world, django_assert_max_num_queries):
    for _ in range(3):
        _draft(world)
    client = client_for(world.secretary)
    with django_assert_max_num_queries(14):
        assert client.get("/s/lyceum-1/records/orders/").status_code == 200


def test_a_bad_form_is_refused_with_a_message_and_writes_nothing(world):
    client = client_for(world.secretary)
    year = world.class_a.year_id
    response = client.post(
        "/s/lyceum-1/records/orders/new/",
        {"year": year, "number": 1, "date": "2026-12-01", "effective_on": "2026-11-01", "kind": "departure",
         "text": "x", "students": [world.student.pk], "reason": "Ліцей № 2"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "An order cannot take effect before its date." in response.content.decode()
    response = client.post("/s/lyceum-1/records/orders/new/", {"year": "x", "number": "-1", "kind": "nope"})
    assert response.status_code == 200 and not Order.objects.exists()


def test_the_api_answers_422_for_bad_input_and_409_for_a_signed_order(world):
    client = client_for(world.secretary)
    url = "/api/v1/schools/lyceum-1/orders"
    bad = {"year_id": world.class_a.year_id, "number": 0, "date": "x", "effective_on": "2026-12-01", "kind": "nope",
           "text": ""}  # fmt: skip
    assert client.post(url, bad, content_type="application/json").status_code == 422
    body = {
        "year_id": world.class_a.year_id, "number": 3, "date": str(timezone.localdate()),
        "effective_on": str(timezone.localdate()), "kind": "exemption", "text": "Наказ",
        "lines": [{"student_id": world.student.pk, "reason": "x"}],
    }  # fmt: skip
    created = client.post(url, body, content_type="application/json")
    assert created.status_code == 201, created.content
    order_id = created.json()["id"]
    assert client.post(url, body, content_type="application/json").status_code == 409  # the number is taken
    signed = client_for(world.director).post(f"{url}/{order_id}/sign")
    assert signed.status_code == 200 and signed.json()["signed"] is True
    edit = client.put(f"{url}/{order_id}", {**body, "text": "Інакше"}, content_type="application/json")
    assert edit.status_code == 409 and "correcting order" in edit.json()["error"]["message"]
    assert Order.objects.get(pk=order_id).text == "Наказ"
    next_number = client.get(f"{url}/next-number?year_id={world.class_a.year_id}")
    assert next_number.json()["number"] == 4
