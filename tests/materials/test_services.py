"""Publishing, editing, withdrawing and the quota (R8.1): bad input is refused with a translated error and
changes nothing; files are checked by their content; every write is audited."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.materials import services
from classbook.materials.models import Material, MaterialSettings
from tests.materials.conftest import ctx_of, lesson_of, pdf, publish


def test_publish_edit_withdraw_are_audited_and_the_file_is_deleted(world, tmp_path, django_capture_on_commit_callbacks):
    material = publish(world, upload=pdf(), audience="class", school_class=world.class_a)
    assert material.mime_type == "application/pdf" and material.size > 0
    stored = tmp_path / material.file.name
    assert stored.exists()
    ctx = ctx_of(world, "teacher")
    services.update_material(ctx=ctx, material=material, title="Нова назва", kind="exercise", subject=world.subject)
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_material(ctx=ctx, material=material)
    assert not stored.exists()
    actions = list(AuditEntry.objects.filter(object_id=str(material.pk)).order_by("pk").values_list("action", "data"))
    assert [a for a, _ in actions] == [
        "materials.material.published",
        "materials.material.updated",
        "materials.material.withdrawn",
    ]
    assert actions[1][1]["old"]["title"] == "Контрольна" and actions[1][1]["new"]["kind"] == "exercise"
    assert actions[2][1]["file"] == "test.pdf"


def test_a_lesson_material_takes_the_lessons_class_and_subject(world):
    lesson = lesson_of(world)
    material = publish(world, audience="lesson", lesson=lesson)
    assert material.school_class_id == world.class_a.pk and material.subject_id == lesson.assignment.subject_id


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"title": "  "}, "required"),
        ({"title": "x" * 201}, "too_long"),
        ({"title": "a\x00b"}, "invalid_text"),
        ({"kind": "poem"}, "invalid_kind"),
        ({"audience": "moon"}, "invalid_audience"),
        ({"url": "javascript:alert(1)"}, "invalid_url"),
        ({"url": "ftp://example.org/x"}, "invalid_url"),
        ({"url": ""}, "file_or_link"),
        ({"upload": None, "url": "https://example.org"}, "file_or_link"),
        ({"audience": "class"}, "required"),
        ({"kind": "analytical", "audience": "class"}, "invalid_audience"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, kwargs, code):
    if kwargs.get("upload", 1) is None:
        kwargs["upload"] = pdf()
    with pytest.raises(DomainError) as refused:
        publish(world, **kwargs)
    assert refused.value.code == code
    assert not Material.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("evil.pdf", b"<html><body>not a pdf</body></html>"),
        ("polyglot.pdf", b"%PDF-1.4\n<script>alert(1)</script>"),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"),
    ],
)
def test_files_are_checked_by_their_content(world, name, data):
    with pytest.raises(DomainError) as refused:
        publish(world, upload=SimpleUploadedFile(name, data, content_type="application/pdf"))
    assert refused.value.code == "invalid_file_type"
    assert not Material.objects.exists()


def test_the_quota_refuses_a_file_that_does_not_fit_and_withdrawal_frees_it(world):
    services.set_quota(ctx=ctx_of(world, "director"), quota_mb=1)
    big = b"%PDF-1.4\n" + b"0" * (700 * 1024) + b"\n%%EOF\n"
    first = publish(world, upload=pdf("a.pdf", big))
    with pytest.raises(DomainError) as refused:
        publish(world, upload=pdf("b.pdf", big))
    assert refused.value.code == "quota_exceeded" and "1 MB" in str(refused.value.message)
    services.withdraw_material(ctx=ctx_of(world, "teacher"), material=first)
    assert publish(world, upload=pdf("b.pdf", big)).pk
    assert MaterialSettings.objects.get(school=world.school).quota_mb == 1
    assert AuditEntry.objects.filter(action="materials.settings.quota_changed").count() == 1


def test_only_the_administrator_and_director_set_the_quota(world):
    for persona in ("deputy", "teacher", "student"):
        with pytest.raises(PermissionDeniedError):
            services.set_quota(ctx=ctx_of(world, persona), quota_mb=10)
    with pytest.raises(DomainError):
        services.set_quota(ctx=ctx_of(world, "admin"), quota_mb=0)


def test_another_schools_subject_is_refused(world):
    from tests import factories as f

    foreign = f.SubjectFactory(school=world.other_school, name="Хімія")
    with pytest.raises(DomainError):
        publish(world, subject=foreign)


def test_analytical_materials_cannot_move_to_a_class_by_an_edit(world):
    material = publish(world, audience="class", school_class=world.class_a)
    with pytest.raises(DomainError):
        services.update_material(ctx=ctx_of(world, "teacher"), material=material, title="x", kind="analytical")
