"""The OpenAPI document says what the API answers (issue 18): every operation's error statuses in the one
error shape, one component per model, the import's 422 as an error."""

from __future__ import annotations

import pytest
from django.test import Client

from classbook.api.contract import ErrorOut
from classbook.core.http_errors import error_body

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def document() -> dict:
    return Client().get("/api/v1/openapi.json").json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method in METHODS:
                yield path, method, operation


def test_every_operation_documents_every_error_status_in_the_one_shape(document):
    count = 0
    for path, method, operation in operations(document):
        expected = {"400", "413", "422", "429", "401", "403"}
        if "{" in path:
            expected.add("404")
        if method != "get":
            expected |= {"409", "415"}
        responses = operation["responses"]
        assert expected <= set(responses), (method, path, sorted(responses))
        assert any(code.startswith("2") for code in responses), (method, path)
        for code in expected:
            media = responses[code]["content"]["application/json"]
            assert media["schema"]["$ref"].startswith("#/components/schemas/"), (method, path, code)
            assert media.get("example") or code == "422", (method, path, code)
            ErrorOut.model_validate(media.get("example") or error_body("invalid", "x"))
        assert "Retry-After" in responses["429"]["headers"]
        count += 1
    assert count >= 120  # every operation of the API


def test_the_error_schema_is_the_shape_the_handlers_answer(document):
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert detail["required"] == ["code", "message"] and detail["additionalProperties"] is True
    for body in (
        error_body("not_found", "Not found."),
        error_body("invalid", "The request is not valid.", {"limit": ["too big"]}),
        error_body("duplicate_name", "You already have a token with this name.", current=3),
    ):
        error = ErrorOut.model_validate(body).error
        assert (error.code, error.message, error.fields) == (
            body["error"]["code"],
            body["error"]["message"],
            body["error"].get("fields"),
        )


def test_two_modules_models_of_one_name_are_two_components(document):
    schemas = document["components"]["schemas"]
    assert {"DiaryLessonOut", "JournalLessonOut", "SchoolsSubjectOut", "DiarySubjectOut"} <= set(schemas)
    grid = document["paths"]["/api/v1/schools/{school}/diary/{student_id}/week"]["get"]["responses"]["200"]
    assert grid["content"]["application/json"]["schema"]["$ref"].endswith(
        "WeekOut"
    )  # DiaryWeekOut once another module has a WeekOut


def test_the_class_list_imports_422_is_an_error_with_its_report(document):
    answer = document["paths"]["/api/v1/schools/{school}/students/import"]["post"]["responses"]["422"]
    assert answer["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ImportRefused"
    detail = document["components"]["schemas"]["ImportRefusedDetail"]
    assert {"code", "message", "report"} <= set(detail["properties"])


def test_times_are_documented_as_the_api_writes_them(document):
    start = document["components"]["schemas"]["BellOut"]["properties"]["start"]
    assert start["format"] == "partial-time" and start["pattern"]


def test_the_main_operations_have_request_examples(document):
    from classbook.api.contract import REQUEST_EXAMPLES

    for (method, path), example in REQUEST_EXAMPLES.items():
        media = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        assert media["example"] == example
