"""Homework files: the lesson's teacher attaches, the class and its parents download, others get 404 (R2.3, R5.7)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.journal.models import HomeworkAttachment, JournalChange


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _upload_url(world, journal):
    return f"/s/{world.school.slug}/journal/{journal.assignment.pk}/lessons/{journal.lesson.pk}/files/upload/"


def _attach(world, journal, as_user, name="task.pdf", content=b"%PDF-1.4 homework"):
    return as_user(world.teacher).post(_upload_url(world, journal), {"file": SimpleUploadedFile(name, content)})


def test_teacher_attaches_a_file_and_it_is_audited(world, journal, as_user):
    _attach(world, journal, as_user)
    attachment = HomeworkAttachment.objects.get()
    assert attachment.original_name == "task.pdf" and attachment.size == 17
    assert JournalChange.objects.filter(kind="homework", new_value="+ task.pdf").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("teacher", 200),
        ("class_teacher", 200),
        ("deputy", 200),
        ("viewer", 200),
        ("student", 200),
        ("parent", 200),
        ("other_student", 404),
        ("other_parent", 404),
        ("other_teacher", 404),
        ("foreign_admin", 404),
        ("foreign_student", 404),
        ("anonymous", 302),
    ],
)
def test_download_is_for_journal_readers_and_the_class_and_its_parents_only(world, journal, as_user, persona, status):
    _attach(world, journal, as_user)
    attachment = HomeworkAttachment.objects.get()
    response = as_user(world.persona(persona)).get(f"/s/{world.school.slug}/journal/files/{attachment.pk}/")
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"%PDF-1.4 homework"
        assert "task.pdf" in response["Content-Disposition"]


@pytest.mark.parametrize("persona", ["class_teacher", "deputy", "other_teacher", "student", "parent", "viewer"])
def test_only_the_lessons_teacher_attaches(world, journal, as_user, persona):
    as_user(world.persona(persona)).post(_upload_url(world, journal), {"file": SimpleUploadedFile("a.pdf", b"x")})
    assert not HomeworkAttachment.objects.exists()


@pytest.mark.parametrize(("name", "content"), [("virus.exe", b"MZ"), ("empty.pdf", b""), ("../../etc.sh", b"x")])
def test_bad_files_are_refused_with_a_message_and_nothing_stored(world, journal, as_user, name, content):
    response = _attach(world, journal, as_user, name=name, content=content)
    assert response.status_code == 302
    assert not HomeworkAttachment.objects.exists()


def test_removed_file_is_hidden_but_kept_and_the_removal_audited(world, journal, as_user):
    _attach(world, journal, as_user)
    attachment = HomeworkAttachment.objects.get()
    as_user(world.teacher).post(f"/s/{world.school.slug}/journal/{journal.assignment.pk}/files/{attachment.pk}/remove/")
    attachment.refresh_from_db()
    assert attachment.removed_at is not None and attachment.file.storage.exists(attachment.file.name)
    assert as_user(world.student.user).get(f"/s/{world.school.slug}/journal/files/{attachment.pk}/").status_code == 404
    assert JournalChange.objects.filter(kind="homework", old_value="task.pdf", new_value="").exists()


def test_files_fragment_lists_files_for_readers(world, journal, as_user, django_assert_max_num_queries):
    _attach(world, journal, as_user)
    url = f"/s/{world.school.slug}/journal/{journal.assignment.pk}/lessons/{journal.lesson.pk}/files/"
    client = as_user(world.deputy)
    client.get(url)
    with django_assert_max_num_queries(12):
        html = client.get(url).content.decode()
    assert "task.pdf" in html and "Attach" not in html
