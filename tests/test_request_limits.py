"""Hostile and broken requests never answer 500 (issue 9): on /api/ the API's JSON error with 400, 413 or
415; elsewhere a translated error page. Every limit is tried through the real test client, DEBUG off,
against an API endpoint and a page, and a refused request writes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.test.client import encode_multipart
from django.utils import translation

from classbook import urls
from classbook.core import http_errors
from classbook.planning.files import MAX_FILE_BYTES as PLAN_MAX
from classbook.roster.imports import MAX_UPLOAD_BYTES as CLASS_LIST_MAX
from tests.conftest import client_for
from tests.roster.conftest import snapshot

API_UPLOAD = "/api/v1/schools/lyceum-1/students/import"
PAGE_UPLOAD = "/s/lyceum-1/roster/students/import/"
API_JSON = "/api/v1/me"  # PATCH {"language": ...}
MB = 1024 * 1024


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _language_restored():
    """Requests in another language activate it for the thread; give the next test the language it had."""
    with translation.override(translation.get_language()):
        yield


def secretary(world, **kwargs) -> Client:
    # raise_request_exception=False: see the answer a browser gets, not the exception behind it
    client = Client(raise_request_exception=False, **kwargs)
    client.force_login(world.secretary)
    return client


def json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response.json()["error"]["code"] == code, response.json()
    assert response.json()["error"]["message"]


def error_page(response, status: int, text: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    assert text in response.content.decode(), response.content.decode()[-800:]
    assert b"Traceback" not in response.content


def multipart(data: dict) -> tuple[bytes, str]:
    boundary = "BoUnDaRy"
    return encode_multipart(boundary, data), f"multipart/form-data; boundary={boundary}"


def class_list(world) -> dict:
    csv = "Class;Last name;First name\n5-А;Бондар;Сергій\n".encode()
    return {
        "file": SimpleUploadedFile("list.csv", csv),
        "year_id": world.class_a.year.pk,
        "year": world.class_a.year.pk,
    }


def test_debug_is_off_and_the_handlers_are_ours():
    assert settings.DEBUG is False
    assert urls.handler400 == "classbook.core.http_errors.bad_request"
    assert {urls.handler403, urls.handler404, urls.handler500} == {
        "classbook.core.http_errors.permission_denied",
        "classbook.core.http_errors.page_not_found",
        "classbook.core.http_errors.server_error",
    }


# --- the body cap: REQUEST_MAX_BODY_BYTES --------------------------------------------------------------


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_a_body_declared_over_the_cap_is_refused_before_it_is_read(world, path):
    body, content_type = multipart(class_list(world))
    before = snapshot()
    # The declared length is what the cap reads: the body itself is never opened.
    response = secretary(world).generic(
        "POST", path, body, content_type=content_type, CONTENT_LENGTH=str(settings.REQUEST_MAX_BODY_BYTES + 1)
    )
    if path.startswith("/api/"):
        json_error(response, 413, "too_large")
    else:
        error_page(response, 413, "The upload is too large")
    assert snapshot() == before


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_a_real_body_over_a_lowered_cap_is_refused(world, path, settings):
    settings.REQUEST_MAX_BODY_BYTES = 1 * MB
    data = class_list(world)
    data["file"] = SimpleUploadedFile("list.csv", b"Class;Last name;First name\n" + b"5-A;X;Y\n" * 200_000)
    body, content_type = multipart(data)
    before = snapshot()
    response = secretary(world).generic("POST", path, body, content_type=content_type)
    assert response.status_code == 413
    assert snapshot() == before


def test_the_body_cap_allows_the_largest_legitimate_upload():
    from classbook.core.uploads import POLICIES
    from classbook.messaging.services import MAX_FILE_SIZE, MAX_FILES

    single_files = [policy.max_size for policy in POLICIES.values()]
    largest = max(MAX_FILES * MAX_FILE_SIZE, *single_files, CLASS_LIST_MAX, PLAN_MAX)
    assert largest + 1 * MB <= settings.REQUEST_MAX_BODY_BYTES  # room for the form fields and multipart framing
    assert settings.DATA_UPLOAD_MAX_NUMBER_FILES >= MAX_FILES
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 5 * MB  # bigger uploads go to a temporary file


# --- DATA_UPLOAD_MAX_MEMORY_SIZE: form fields and JSON bodies ------------------------------------------


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_form_fields_over_the_memory_limit_answer_413(world, path):
    body = "year_id=1&note=" + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)
    before = snapshot()
    response = secretary(world).generic("POST", path, body, content_type="application/x-www-form-urlencoded")
    if path.startswith("/api/"):
        json_error(response, 413, "too_large")
    else:
        error_page(response, 413, "The request is too large.")
    assert snapshot() == before


def test_a_json_body_over_the_memory_limit_answers_413(world):
    body = '{"language": "' + "r" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10) + '"}'
    response = secretary(world).generic("PATCH", API_JSON, body, content_type="application/json")
    json_error(response, 413, "too_large")


# --- DATA_UPLOAD_MAX_NUMBER_FIELDS -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_too_many_fields_answer_400(world, path):
    body = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    before = snapshot()
    response = secretary(world).generic("POST", path, body, content_type="application/x-www-form-urlencoded")
    if path.startswith("/api/"):
        json_error(response, 400, "too_many_fields")
    else:
        error_page(response, 400, "The request has too many fields.")
    assert snapshot() == before


@pytest.mark.parametrize("path", ["/api/v1/schools/lyceum-1/students", "/s/lyceum-1/roster/students/"])
def test_too_many_query_parameters_answer_400(world, path):
    query = "&".join(f"q{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = secretary(world).get(f"{path}?{query}")
    if path.startswith("/api/"):
        json_error(response, 400, "too_many_fields")
    else:
        error_page(response, 400, "The request has too many fields.")


# --- DATA_UPLOAD_MAX_NUMBER_FILES ----------------------------------------------------------------------


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_too_many_files_answer_400(world, path):
    data = class_list(world)
    data["file"] = [SimpleUploadedFile(f"l{i}.csv", b"x") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]
    body, content_type = multipart(data)
    before = snapshot()
    response = secretary(world).generic("POST", path, body, content_type=content_type)
    if path.startswith("/api/"):
        json_error(response, 400, "too_many_files")
    else:
        error_page(response, 400, "The request has too many files.")
    assert snapshot() == before


# --- each upload kind's own cap (below the body cap: a translated refusal, not 413) ---------------------


def test_a_plan_over_its_own_cap_is_refused_by_the_import_on_both_doors(world):
    from classbook.planning.models import Plan
    from classbook.schools.models import TeachingAssignment

    assignment = TeachingAssignment.objects.get(teacher=world.teacher)
    big = b"topic\n" + b"A topic\n" * (PLAN_MAX // 8 + 10)
    client = client_for(world.teacher)
    page = client.post(f"/s/lyceum-1/plans/a/{assignment.pk}/import/", {"file": SimpleUploadedFile("p.csv", big)})
    assert page.status_code == 422 and "The file is too large (more than 2 MB)." in page.content.decode()
    api = client.post(
        f"/api/v1/schools/lyceum-1/plans/assignments/{assignment.pk}/import", {"file": SimpleUploadedFile("p.csv", big)}
    )
    assert api.status_code == 422 and api.json()["error"]["message"] == "The file is too large (more than 2 MB)."
    assert not Plan.objects.filter(assignment=assignment).exists()


# --- multipart bodies that cannot be parsed ---------------------------------------------------------------


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_a_multipart_body_without_a_boundary_answers_400(world, path):
    before = snapshot()
    response = secretary(world).generic("POST", path, b"--x\r\n\r\nnothing", content_type="multipart/form-data")
    if path.startswith("/api/"):
        json_error(response, 400, "unreadable_body")
    else:
        error_page(response, 400, "The request body could not be read.")
    assert snapshot() == before


@pytest.mark.parametrize(
    "path", ["/api/v1/schools/no-such-school/students/import", "/s/no-such-school/roster/students/import/"]
)
def test_an_upload_to_a_school_that_does_not_exist_is_404_before_the_body_is_parsed(world, path):
    # Without a boundary the body cannot be parsed at all: a 404 proves the school was resolved first.
    response = secretary(world).generic("POST", path, b"garbage", content_type="multipart/form-data")
    if path.startswith("/api/"):
        json_error(response, 404, "not_found")
    else:
        error_page(response, 404, "Page not found")


def test_an_upload_with_a_token_to_a_school_that_does_not_exist_is_404(world):
    from classbook.people import credentials

    _row, token = credentials.create_api_token(user=world.secretary, name="script")
    client = Client(raise_request_exception=False)
    response = client.generic(
        "POST",
        "/api/v1/schools/no-such-school/students/import",
        b"garbage",
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    json_error(response, 404, "not_found")


def test_an_upload_to_another_school_is_404_before_the_body_is_parsed(world):
    for path in ("/api/v1/schools/gymnasium-2/students/import", "/s/gymnasium-2/roster/students/import/"):
        response = secretary(world).generic("POST", path, b"garbage", content_type="multipart/form-data")
        assert response.status_code == 404, (path, response.content[:200])


def test_an_anonymous_body_over_its_cap_is_refused_before_the_csrf_check_parses_it(world):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get("/accounts/login/")  # a CSRF cookie, as any visitor gets
    token = client.cookies["csrftoken"].value
    body, content_type = multipart({"file": SimpleUploadedFile("x.bin", b"x" * (settings.ANONYMOUS_MAX_BODY_BYTES))})
    for path in (PAGE_UPLOAD, "/accounts/login/"):
        response = client.generic("POST", path, body, content_type=content_type, HTTP_X_CSRFTOKEN=token)
        error_page(response, 413, "The upload is too large")
    # A small broken body gets as far as the CSRF check, which cannot parse it: 400, not 500.
    response = client.generic(
        "POST", PAGE_UPLOAD, b"garbage", content_type="multipart/form-data", HTTP_X_CSRFTOKEN=token
    )
    error_page(response, 400, "The request body could not be read.")


def test_a_logged_in_upload_without_a_boundary_to_an_unknown_school_with_csrf_checks_is_not_a_500(world):
    client = secretary(world, enforce_csrf_checks=True)
    client.get(PAGE_UPLOAD)  # the CSRF cookie
    response = client.generic(
        "POST",
        "/s/no-such-school/roster/students/import/",
        b"garbage",
        content_type="multipart/form-data",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code in (400, 404) and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("path", [API_UPLOAD, PAGE_UPLOAD])
def test_a_truncated_or_undecodable_multipart_body_is_not_a_500(world, path):
    body, content_type = multipart(class_list(world))
    before = snapshot()
    for broken in (body[: len(body) // 2], body.replace(b"year_id", b"year\xff\xfe_id").replace(b"5-", b"\xff\xfe")):
        response = secretary(world).generic("POST", path, broken, content_type=content_type)
        assert response.status_code in (200, 400, 422), (response.status_code, response.content[:300])
    assert snapshot() == before


# --- JSON endpoints -------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe{\x00", b'{"language": "\xff"}', b"[" * 100_000])
def test_invalid_or_undecodable_json_answers_400(world, body):
    response = secretary(world).generic("PATCH", API_JSON, body, content_type="application/json")
    assert response.status_code in (400, 422), response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    world.secretary.refresh_from_db()
    assert world.secretary.language != "ru"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_an_unsupported_content_type_on_the_api_answers_415(world, content_type):
    response = secretary(world).generic("PATCH", API_JSON, b'{"language": "ru"}', content_type=content_type)
    json_error(response, 415, "unsupported_media_type")
    world.secretary.refresh_from_db()
    assert world.secretary.language != "ru"


def test_a_form_sent_to_a_json_endpoint_answers_415(world):
    # The operation takes JSON only (issue 18: checked before the body is parsed, api/contract.py).
    response = secretary(world).generic(
        "PATCH", API_JSON, b"language=ru", content_type="application/x-www-form-urlencoded"
    )
    json_error(response, 415, "unsupported_media_type")


def test_json_still_works(world):
    response = secretary(world).patch(API_JSON, {"language": "ru"}, content_type="application/json")
    assert response.status_code == 200
    world.secretary.refresh_from_db()
    assert world.secretary.language == "ru"


# --- other suspicious operations, CSRF, 404, 500 ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/me", "/accounts/login/"])
def test_a_disallowed_host_answers_400(world, path):
    response = secretary(world).get(path, HTTP_HOST="evil.example")
    if path.startswith("/api/"):
        json_error(response, 400, "bad_request")
    else:
        error_page(response, 400, "The request could not be read")


def test_a_page_form_without_its_csrf_token_gets_a_translated_403(world):
    response = secretary(world, enforce_csrf_checks=True).post(PAGE_UPLOAD, {"year": 1})
    error_page(response, 403, "The form has expired or was sent from another site.")


def test_the_api_with_a_session_and_no_csrf_token_answers_json(world):
    response = secretary(world, enforce_csrf_checks=True).patch(
        API_JSON, {"language": "ru"}, content_type="application/json"
    )
    assert response.status_code == 403 and response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/nothing", "/no-such-page/"])
def test_unknown_urls_answer_404_in_the_doors_language(world, path):
    response = secretary(world).get(path)
    if path.startswith("/api/"):
        json_error(response, 404, "not_found")
    else:
        error_page(response, 404, "Page not found")


def test_the_500_answer_is_json_on_the_api_and_a_standalone_page_elsewhere(english):
    factory = RequestFactory()
    api = http_errors.server_error(factory.get("/api/v1/me"))
    assert api.status_code == 500 and api["Content-Type"].startswith("application/json")
    page = http_errors.server_error(factory.get("/s/x/"))
    assert page.status_code == 500 and b"Server error" in page.content and b"<script" not in page.content


def test_error_pages_are_translated(world):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="uk")
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and "Сторінку не знайдено" in page.content.decode()
    too_big = client.generic("POST", "/accounts/login/", b"x", content_type="text/plain", CONTENT_LENGTH=str(10**10))
    assert too_big.status_code == 413 and "Запит завеликий." in too_big.content.decode()
    api = client.generic("POST", "/api/v1/tokens", b"x", content_type="text/plain", CONTENT_LENGTH=str(10**10))
    assert api.status_code == 413 and api.json()["error"]["message"] == "Запит завеликий."
