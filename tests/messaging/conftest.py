from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.access.context import build_context


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def ctx_of(user, school):
    ctx = build_context(user, school)
    assert ctx is not None, f"{user} has no role in {school}"
    return ctx


def pdf(name: str = "note.pdf", content: bytes = b"%PDF-1.4 test") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def start(world, sender, recipients, *, student=None, body="Добрий день!", subject="Питання", files=()):
    from classbook.messaging import services

    return services.start_conversation(
        ctx_of(sender, world.school),
        recipient_ids=[r.pk for r in recipients],
        body=body,
        subject=subject,
        student=student,
        files=files,
    )
