"""The API's conventions (issue 18, docs/api.md): one page shape and one sort syntax on every list, read
from the OpenAPI document itself so a new list that forgets them fails here; and their behaviour."""

from __future__ import annotations

import pytest

from classbook.api.api import api
from classbook.api.pagination import MAX_LIMIT, Sorts
from classbook.core.collation import collated
from classbook.core.errors import DomainError
from classbook.schools.models import Subject
from tests import factories as f

ENVELOPE = {"items", "count", "limit", "next", "previous"}
# GET operations answering a JSON array, not a page, on purpose: a fixed set read and written whole.
DOCUMENTS = {"/api/v1/me/notification-preferences"}
# Lists paged by keyset cursor instead of offset (docs/api.md: why).
KEYSET = {"/api/v1/schools/{school}/audit"}


@pytest.fixture(scope="module")
def document():
    return api.get_openapi_schema()


def _schema(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _lists(doc):
    for path, operations in doc["paths"].items():
        op = operations.get("get")
        if op is None or 200 not in op["responses"]:
            continue
        content = op["responses"][200].get("content", {}).get("application/json")
        if content:
            yield path, op, _schema(doc, content["schema"])


def test_no_list_answers_a_bare_array(document):
    arrays = {path for path, _op, schema in _lists(document) if schema.get("type") == "array"}
    assert arrays == DOCUMENTS


def test_every_list_answers_the_one_envelope_with_bounded_paging_and_a_sort_allow_list(document):
    pages = [(path, op, schema) for path, op, schema in _lists(document) if "items" in schema.get("properties", {})]
    assert len(pages) >= 38  # the inventory of issue 18 (docs/api.md lists them)
    for path, op, schema in pages:
        assert set(schema["properties"]) >= ENVELOPE, path
        params = {p["name"]: p["schema"] for p in op.get("parameters", []) if p["in"] == "query"}
        assert params["limit"]["maximum"] == MAX_LIMIT and params["limit"]["minimum"] == 1, path
        assert "sort" in params, path
        if path in KEYSET:
            assert {"before", "after"} <= set(params), path
            continue
        assert params["offset"]["minimum"] == 0, path
        assert params["sort"]["pattern"].startswith("^-?("), path


@pytest.fixture
def subjects(world):
    for name in ["Біологія", "Алгебра", "Геометрія", "Фізика", "Хімія"]:
        f.SubjectFactory(school=world.school, name=name)
    return list(Subject.objects.filter(school=world.school).order_by("name").values_list("name", flat=True))


def test_following_next_walks_every_item_once(world, subjects, as_user):
    client = as_user(world.teacher)
    url, seen, counts = f"/api/v1/schools/{world.school.slug}/subjects?limit=2", [], set()
    while url:
        body = client.get(url).json()
        assert body["limit"] == 2 and len(body["items"]) <= 2
        seen += [s["name"] for s in body["items"]]
        counts.add(body["count"])
        url = body["next"]
    assert seen == subjects and counts == {len(subjects)}
    end = (len(subjects) - 1) // 2 * 2
    last = client.get(f"/api/v1/schools/{world.school.slug}/subjects?limit=2&offset={end}").json()
    assert last["next"] is None and f"offset={end - 2}" in last["previous"] and "limit=2" in last["previous"]
    assert client.get(f"/api/v1/schools/{world.school.slug}/subjects").json()["previous"] is None


def test_sort_keys_descending_and_several(world, subjects, as_user):
    client = as_user(world.teacher)
    base = f"/api/v1/schools/{world.school.slug}/subjects"
    assert [s["name"] for s in client.get(f"{base}?sort=-name").json()["items"]] == subjects[::-1]
    by_id = [s["id"] for s in client.get(f"{base}?sort=-id").json()["items"]]
    assert by_id == sorted(by_id, reverse=True)
    # a list computed in Python sorts the same way (the diary's students, by the answered keys)
    assert client.get(f"/api/v1/schools/{world.school.slug}/diary/students?sort=-class_name,name").status_code == 200


@pytest.mark.parametrize("sort", ["title", "name,,id", "-", "--name", "name;drop", "+name", "name,"])
def test_a_sort_off_the_allow_list_is_a_422_in_the_error_shape(world, as_user, sort):
    response = as_user(world.teacher).get(f"/api/v1/schools/{world.school.slug}/subjects", {"sort": sort})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] in ("invalid_sort", "invalid") and "sort" in error["fields"]


@pytest.mark.parametrize(("name", "value"), [("limit", 0), ("limit", MAX_LIMIT + 1), ("offset", -1), ("limit", "x")])
def test_paging_out_of_bounds_is_a_422(world, as_user, name, value):
    response = as_user(world.teacher).get(f"/api/v1/schools/{world.school.slug}/subjects", {name: value})
    assert response.status_code == 422 and name in response.json()["error"]["fields"]


def test_a_typed_filter_refuses_what_its_type_does_not_allow(world, as_user):
    client = as_user(world.director)
    response = client.get(f"/api/v1/schools/{world.school.slug}/appeals/absence-reports", {"status": "maybe"})
    assert response.status_code == 422 and "status" in response.json()["error"]["fields"]
    assert client.get(f"/api/v1/schools/{world.school.slug}/classes", {"year_id": 0}).status_code == 422


def test_a_page_costs_the_same_queries_with_more_rows(world, as_user, django_assert_max_num_queries):
    client = as_user(world.teacher)
    url = f"/api/v1/schools/{world.school.slug}/subjects?limit=3"
    client.get(url)  # the session's first request
    with django_assert_max_num_queries(8) as few:
        client.get(url)
    for i in range(30):
        f.SubjectFactory(school=world.school, name=f"Предмет {i:02}")
    with django_assert_max_num_queries(len(few) + 1) as many:  # + the COUNT once a page no longer holds all
        body = client.get(url).json()
    assert body["count"] > 30 and len(body["items"]) == 3 and len(many) <= len(few) + 1


def test_sorts_parse_and_refuse():
    sorts = Sorts("name", name=("last_name", "first_name"), date="date")
    # name columns sort in the alphabet's order (core.collation), the rest as they are
    names = [collated("last_name").asc(), collated("first_name").asc()]
    assert sorts.order_by("-date,name") == ["-date", *names, "pk"]
    assert sorts.order_by("") == [*names, "pk"]
    assert sorts.order_by("-name")[0] == collated("last_name").desc()
    for bad in ("nope", "date,", "date;name", "Date"):
        with pytest.raises(DomainError):
            sorts.parse(bad)
    assert sorts.parse("date,-date,name") == [("date", False), ("name", False)]  # a repeat counts once
    rows = [{"date": 2, "last_name": "b"}, {"date": None, "last_name": "a"}, {"date": 1, "last_name": "c"}]
    assert [r["date"] for r in sorts.sort_items(rows, "date")] == [1, 2, None]
    assert [r["date"] for r in sorts.sort_items(rows, "-date")] == [2, 1, None]
