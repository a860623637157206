"""Class-list import against hostile files (issue 9): XML bombs and external entities, zip bombs, files that
are not spreadsheets, huge or malformed tables. Each answers a translated error (with its row where there is
one), through the page and the API, and imports nothing. The files are built here, from bytes."""

from __future__ import annotations

import datetime as dt
import random
import time
from html import escape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from classbook.core import checks, tables
from classbook.core.tables import TableError, read_table
from classbook.people.models import Student
from classbook.roster import imports
from tests import hostile_files as h
from tests.roster.conftest import snapshot, url

HEADER = ["Class", "Last name", "First name"]
ROW = ["5-А", "Бондар", "Сергій"]
API = "/api/v1/schools/lyceum-1/students/import"


@pytest.fixture(autouse=True)
def _language_restored():
    """Requests in another language activate it for the thread; give the next test the language it had."""
    with translation.override(translation.get_language()):
        yield


HOSTILE = h.cases(max_rows=5000)
IDS = h.case_ids(HOSTILE)


def _post_page(client, world, name: str, data: bytes):
    return client.post(url("student_import"), {"file": SimpleUploadedFile(name, data), "year": world.class_a.year.pk})


def _post_api(client, world, name: str, data: bytes):
    return client.post(API, {"file": SimpleUploadedFile(name, data), "year_id": world.class_a.year.pk})


@pytest.mark.parametrize(("build", "message", "row"), HOSTILE, ids=IDS)
def test_a_hostile_file_is_refused_with_a_message_on_the_page_and_the_api_and_imports_nothing(
    world, as_user, build, message, row
):
    name, data = build(HEADER, ROW)
    client = as_user(world.secretary)
    before = snapshot()
    page = _post_page(client, world, name, data)
    assert page.status_code == 200
    content = page.content.decode()
    assert "nothing was imported" in content and escape(message) in content
    api = _post_api(client, world, name, data)
    assert api.status_code == 422, api.content[:300]
    body = api.json()["error"]["report"]
    assert body["ok"] is False and body["created"] == 0
    assert any(message in e["message"] for e in body["errors"]), body["errors"]
    assert [e["row"] for e in body["errors"]] == [row]
    assert snapshot() == before


def test_an_empty_file_is_refused_on_both_doors(world, as_user):
    client = as_user(world.secretary)
    before = snapshot()
    page = _post_page(client, world, "list.csv", b"")
    assert page.status_code == 200 and "The submitted file is empty." in page.content.decode()  # the form's check
    api = _post_api(client, world, "list.csv", b"")
    assert api.status_code == 422 and api.json()["error"]["report"]["errors"][0]["message"] == "The file is empty."
    assert snapshot() == before


def test_an_external_entity_never_shows_the_file_it_points_at(world, as_user):
    secret = Path("/etc/passwd").read_text().splitlines()[0]  # e.g. "root:x:0:0:root:/root:/bin/bash"
    client = as_user(world.secretary)
    for build in (h.external_entity, h.external_entity_in_workbook_part):
        name, data = build(HEADER, ROW)
        for response in (_post_page(client, world, name, data), _post_api(client, world, name, data)):
            assert secret not in response.content.decode()
            assert "root:" not in response.content.decode()
    assert not Student.objects.filter(user__last_name="Бондар").exists()


def test_a_sheet_that_claims_to_be_huge_imports_its_real_rows_quickly(world, as_user):
    name, data = h.claimed_huge_sheet(HEADER, ROW)  # <dimension ref="A1:XFD1048576">, two rows
    started = time.perf_counter()
    response = _post_api(as_user(world.secretary), world, name, data)
    assert response.status_code == 200, response.json()
    assert response.json()["created"] == 1
    assert time.perf_counter() - started < 10  # padded to its claim it would be 17 billion cells


def test_too_long_cells_get_the_per_row_report(world, as_user):
    text = "Class;Last name;First name\n5-А;Бондар;Сергій\n5-А;" + "Ш" * 5000 + ";Олег\n5-А;Коваль;" + "Ж" * 200 + "\n"
    before = snapshot()
    body = _post_api(as_user(world.secretary), world, "list.csv", text.encode()).json()["error"]["report"]
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(3, "Last name"), (4, "First name")]
    assert all("Too long" in e["message"] for e in body["errors"])
    assert snapshot() == before


def test_the_refusal_is_translated(world, as_user):
    world.secretary.language = "uk"
    world.secretary.save()
    name, data = h.billion_laughs(HEADER, ROW)
    body = _post_api(as_user(world.secretary), world, name, data).json()["error"]["report"]
    assert body["errors"][0]["message"] != h.ENTITIES and "XML" in body["errors"][0]["message"]


# --- the shared reader (core/tables.py), without the database -------------------------------------------


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_openpyxl_parses_through_defusedxml_and_the_system_check_says_so():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True
    assert tables.xml_is_defused()
    assert checks.check_xml_is_defused() == []


def test_without_defusedxml_workbooks_are_refused_and_the_check_fails(monkeypatch, english):
    import xml.etree.ElementTree as stdlib

    from openpyxl.worksheet import _reader

    monkeypatch.setattr(_reader, "iterparse", stdlib.iterparse)  # what openpyxl does without defusedxml
    with pytest.raises(TableError, match="cannot be read on this server"):
        read_table("list.xlsx", h.workbook([HEADER, ROW]))
    assert [m.id for m in checks.check_xml_is_defused()] == ["core.E010"]


def test_a_real_workbook_and_csv_variants_still_read(english):
    assert read_table("a.xlsx", h.workbook([HEADER, ROW, [None], ROW])).rows[1][0] == 4
    for encoding in ("utf-8-sig", "utf-8", "cp1251", "utf-16"):
        table = read_table("a.csv", "Class;Last name\n5-А;Бондар\n".encode(encoding))
        assert table.rows == [(2, ["5-А", "Бондар"])], encoding
    assert read_table("a.txt", "Class\tLast name\n5-А\tБондар\n".encode("utf-16")).rows == [(2, ["5-А", "Бондар"])]
    dated = read_table("a.xlsx", h.workbook([["Birth date"], [dt.datetime(2015, 4, 1)]]))
    assert dated.rows == [(2, ["2015-04-01"])]


def test_rows_under_the_cap_read_and_one_more_is_refused(english):
    assert len(read_table("a.csv", b"h\n" + b"x\n" * 50, max_rows=50).rows) == 50
    with pytest.raises(TableError, match="more than 50 rows"):
        read_table("a.csv", b"h\n" + b"x\n" * 51, max_rows=50)


def test_the_upload_size_cap_comes_first(english):
    with pytest.raises(TableError, match="too large"):
        read_table("a.csv", b"h\n" + b"x" * imports.MAX_UPLOAD_BYTES)


def test_damaged_workbooks_only_ever_give_a_table_or_a_translated_error(english):
    """Seeded mutations of a real workbook's parts and bytes: openpyxl and zipfile must never escape as a 500."""
    import io
    import zipfile

    rng = random.Random(20261202)
    good = h.workbook([HEADER, ROW, ["5-Б", 1.5, dt.date(2015, 1, 2)]])
    with zipfile.ZipFile(io.BytesIO(good)) as archive:
        parts = {n: archive.read(n) for n in archive.namelist()}
    snippets = [b"<", b"&", b'"', b'<c r="ZZZZ9999999">', b"<v>1e999</v>", b't="d"', b'<row r="0">', b't="s"', b"\x00"]
    outcomes = {"table": 0, "error": 0}
    for _ in range(300):
        mutated = dict(parts)
        target = rng.choice([*parts, h.SHEET, h.SHEET])
        content = bytearray(mutated[target])
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(content) or 1)
            if rng.random() < 0.5:
                content[at:at] = rng.choice(snippets)
            else:
                del content[at : at + rng.randint(1, 30)]
        mutated[target] = bytes(content)
        data = h.with_parts(good, mutated)
        if rng.random() < 0.2:
            raw = bytearray(data)
            raw[rng.randrange(len(raw))] = rng.randrange(256)
            data = bytes(raw)
        try:
            read_table("f.xlsx", data)
            outcomes["table"] += 1
        except TableError:
            outcomes["error"] += 1
    assert outcomes["error"] > 100 and sum(outcomes.values()) == 300


def test_every_import_reads_uploads_through_the_shared_reader():
    """Present and future imports: nothing but core/tables.py parses spreadsheets, CSV or XML."""
    root = Path(__file__).resolve().parents[2] / "classbook"
    readers = ("load_workbook", "csv.reader", "DictReader", "ElementTree", "minidom", "lxml", "expat")
    offenders = [
        f"{path.relative_to(root)}: {word}"
        for path in root.rglob("*.py")
        if path.name != "tables.py" and "migrations" not in path.parts
        for word in readers
        if word in path.read_text()
    ]
    assert offenders == []


def test_a_too_long_cell_is_named_by_its_row_and_its_header(english):
    name, data = h.long_cell_xlsx(HEADER, ROW)
    with pytest.raises(TableError) as caught:
        read_table(name, data)
    assert (caught.value.row, caught.value.column) == (2, "Last name")
