"""Plan import against hostile files (issue 9), through the page and the API: the same shared reader as the
class lists (core/tables.py), so the same refusals, and the plan is left as it was."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from classbook.core.models import AuditEntry
from classbook.planning.models import MAX_TOPICS, Plan, PlanTopic
from tests import hostile_files as h
from tests.conftest import client_for

HEADER = ["order", "section", "topic", "hours"]
ROW = ["1", "Numbers", "Natural numbers", "1"]
HOSTILE = h.cases(max_rows=MAX_TOPICS)


@pytest.fixture(autouse=True)
def _language_restored():
    """Requests in another language activate it for the thread; give the next test the language it had."""
    with translation.override(translation.get_language()):
        yield


def _state() -> tuple[list, list, int]:
    return list(Plan.objects.values()), list(PlanTopic.objects.values()), AuditEntry.objects.count()


def _page(client, assignment, name: str, data: bytes):
    return client.post(f"/s/lyceum-1/plans/a/{assignment.pk}/import/", {"file": SimpleUploadedFile(name, data)})


def _api(client, assignment, name: str, data: bytes):
    return client.post(
        f"/api/v1/schools/lyceum-1/plans/assignments/{assignment.pk}/import", {"file": SimpleUploadedFile(name, data)}
    )


@pytest.mark.parametrize(("build", "message", "row"), HOSTILE, ids=h.case_ids(HOSTILE))
def test_a_hostile_plan_file_is_refused_on_the_page_and_the_api_and_changes_nothing(
    world, assignment, build, message, row
):
    name, data = build(HEADER, ROW)
    client = client_for(world.teacher)
    before = _state()
    page = _page(client, assignment, name, data)
    assert page.status_code == 422, page.content[-500:]
    assert escape(message) in page.content.decode()
    api = _api(client, assignment, name, data)
    assert api.status_code == 422, api.content[:300]
    error = api.json()["error"]
    assert error["code"] == "import_invalid" and message in error["message"]
    assert [r["row"] for r in error["rows"]] == ([row] if row else [])
    assert _state() == before


def test_an_external_entity_never_shows_the_file_it_points_at(world, assignment):
    secret = Path("/etc/passwd").read_text().splitlines()[0]
    client = client_for(world.teacher)
    for build in (h.external_entity, h.external_entity_in_workbook_part):
        name, data = build(HEADER, ROW)
        for response in (_page(client, assignment, name, data), _api(client, assignment, name, data)):
            assert response.status_code == 422
            assert secret not in response.content.decode() and "root:" not in response.content.decode()
    assert not PlanTopic.objects.exists()


def test_an_existing_plan_survives_a_hostile_file(world, assignment):
    client = client_for(world.teacher)
    assert _api(client, assignment, "p.csv", b"topic,hours\nFirst,1\nSecond,2\n").status_code == 200
    before = _state()
    name, data = h.billion_laughs(HEADER, ROW)
    assert _api(client, assignment, name, data).status_code == 422
    assert _page(client, assignment, *h.zip_bomb(HEADER, ROW)).status_code == 422
    assert _state() == before
    assert list(PlanTopic.objects.order_by("position").values_list("title", flat=True)) == ["First", "Second"]


def test_a_very_long_value_is_cut_in_the_row_report(world, assignment):
    text = "topic,hours,lesson type\nA,1," + "x" * 20_000 + "\n"
    error = _api(client_for(world.teacher), assignment, "p.csv", text.encode()).json()["error"]
    assert [r["row"] for r in error["rows"]] == [2]
    assert len(error["rows"][0]["message"]) < 300  # the value is quoted, shortened, never echoed whole
