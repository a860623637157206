"""Documents: versions are immutable and the newest is current, uploads are checked by content, every write is
audited; the journal regulations are published to everyone when a school is created (R8.3)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from classbook.core import uploads
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.documents import services
from classbook.documents.models import Document, DocumentVersion, VersionImmutableError
from classbook.schools.services import create_school
from tests.conftest import client_for
from tests.documents.conftest import fetch, pdf


def test_a_new_version_becomes_current_and_the_old_one_stays_downloadable(world, docs, as_user):
    client = as_user(world.deputy)
    first = docs.teachers.current_version
    response = client.post(
        f"/s/{world.school.slug}/documents/{docs.teachers.pk}/versions/",
        {"file": pdf("order-v2.pdf", b"%PDF-1.4 second"), "note": "typo fixed"},
    )
    assert response.status_code == 302
    docs.teachers.refresh_from_db()
    second = docs.teachers.current_version
    assert (first.number, second.number, second.note, second.uploaded_by) == (1, 2, "typo fixed", world.deputy)
    teacher = client_for(world.teacher)
    base = f"/s/{world.school.slug}/documents/versions/"
    assert fetch(teacher, f"{base}{first.pk}/download/") == (200, b"%PDF-1.4 regulations")
    assert fetch(teacher, f"{base}{second.pk}/download/") == (200, b"%PDF-1.4 second")
    api = f"/api/v1/schools/{world.school.slug}/documents/{docs.teachers.pk}/download"
    assert fetch(teacher, api) == (200, b"%PDF-1.4 second")
    page = teacher.get(f"/s/{world.school.slug}/documents/{docs.teachers.pk}/").content.decode()
    assert "order-v2.pdf" in page and "typo fixed" in page and 'id="upload-version"' not in page
    entry = AuditEntry.objects.get(action="documents.version.added", data__number=2)
    assert entry.actor == world.deputy and entry.object_id == str(docs.teachers.pk)


def test_a_version_is_never_changed_or_deleted(world, docs):
    version = docs.teachers.current_version
    version.note = "rewritten"
    with pytest.raises(VersionImmutableError):
        version.save()
    with pytest.raises(VersionImmutableError):
        version.delete()
    assert DocumentVersion.objects.get(pk=version.pk).note == "first"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("order.html", b"<html><script>alert(1)</script></html>"),
        ("order.pdf", b"%PDF-1.4 /JavaScript (app.alert(1))"),
        ("order.pdf", b"MZ\x90\x00 a program"),
        ("order.pdf", b""),
    ],
)
def test_files_are_checked_by_content_and_a_refusal_writes_nothing(world, docs, as_user, name, content):
    before = (Document.objects.count(), DocumentVersion.objects.count(), AuditEntry.objects.count())
    client = as_user(world.director)
    base = f"/s/{world.school.slug}/documents/"
    new = client.post(f"{base}new/", {"title": "Bad", "kind": "order", "file": pdf(name, content)})
    version = client.post(f"{base}{docs.teachers.pk}/versions/", {"file": pdf(name, content)})
    assert new.status_code == 200 and version.status_code == 200
    assert 'class="errorlist' in new.content.decode() and 'class="errorlist' in version.content.decode()
    assert (Document.objects.count(), DocumentVersion.objects.count(), AuditEntry.objects.count()) == before


def test_the_service_refuses_a_teacher_even_if_a_door_forgot_the_rule(world, docs):
    with pytest.raises(PermissionDeniedError):
        services.add_version(acting_user=world.teacher, document=docs.teachers, upload=pdf())
    with pytest.raises(PermissionDeniedError):
        services.create_document(
            acting_user=world.foreign_admin, school=world.school, title="X", kind="order", upload=pdf()
        )


def test_publishing_to_roles_is_audited_with_old_and_new_audiences(world, docs, as_user):
    client = as_user(world.secretary)
    url = f"/s/{world.school.slug}/documents/{docs.draft.pk}/"
    response = client.post(url, {"title": "Instruction", "kind": "instruction", "audiences": ["students", "parents"]})
    assert response.status_code == 302
    assert fetch(client_for(world.student.user), url)[0] == 200
    entry = AuditEntry.objects.get(action="documents.document.updated")
    assert entry.data == {
        "old": {"title": "Draft", "kind": "order", "audiences": []},
        "new": {"title": "Instruction", "kind": "instruction", "audiences": ["students", "parents"]},
    }


def test_bad_input_is_a_translated_error_not_a_500(world, docs, as_user):
    client = as_user(world.director)
    base = f"/s/{world.school.slug}/documents/"
    assert client.post(f"{base}new/", {"title": "", "kind": "nonsense"}).status_code == 200
    with pytest.raises(DomainError) as exc:
        services.update_document(
            acting_user=world.director, document=docs.draft, title="X", kind="order", description="", audiences=["x"]
        )
    assert exc.value.field == "audiences"
    assert fetch(client, f"{base}versions/999999/download/")[0] == 404
    assert fetch(client, f"{base}not-a-number/")[0] == 404


def test_a_new_school_gets_the_journal_regulations_published_to_everyone(world, settings):
    school = create_school(acting_user=world.admin, slug="new-lyceum", name="Новий ліцей", language="ru")
    document = Document.objects.get(school=school)
    assert (document.system_key, document.kind, document.created_by) == (
        "journal_regulations",
        "regulation",
        world.admin,
    )
    assert document.audiences == ["administration", "teachers", "students", "parents"]
    version = document.current_version
    assert version.number == 1 and version.file == ""
    assert version.text.startswith("# Положение об электронном журнале")
    assert services.publish_journal_regulations(school=school) == document  # a second call adds nothing
    assert DocumentVersion.objects.filter(document=document).count() == 1
    assert AuditEntry.objects.filter(school=school, action="documents.document.created").count() == 1


def test_the_regulations_page_shows_the_text_and_downloads_it(world):
    document = services.publish_journal_regulations(school=world.school)
    parent = client_for(world.parent)
    page = parent.get(f"/s/{world.school.slug}/documents/{document.pk}/").content.decode()
    assert 'id="document-text"' in page and "<h3>1. Загальні положення</h3>" in page
    status, body = fetch(parent, f"/api/v1/schools/{world.school.slug}/documents/{document.pk}/download")
    assert status == 200 and body.decode().startswith("# Положення про електронний класний журнал")


@pytest.mark.engine_agnostic
@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_the_shipped_regulations_are_plain_text_by_the_upload_check(language):
    text = services.regulations_text(language)
    assert uploads.identify(io.BytesIO(text.encode())).code == "text"
    assert text.count("\n## ") == 7


def test_the_operator_command_publishes_the_regulations_where_they_are_missing(world):
    out = io.StringIO()
    call_command("publish_journal_regulations", "--school", world.school.slug, stdout=out)
    call_command("publish_journal_regulations", stdout=out)
    assert Document.objects.filter(system_key="journal_regulations").count() == 2  # both schools of the world
    assert out.getvalue().splitlines()[-1] == "Journal regulations published in 1 school(s); 1 had them already."
