"""Documents on the shared ``world``: one published to teachers, one to parents, one to nobody yet, one of the
other school; a helper for uploads."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.access.context import resolve_school
from classbook.documents import services
from classbook.documents.models import Document

PDF = b"%PDF-1.4 regulations"


def pdf(name: str = "order.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@dataclass
class Docs:
    teachers: Document  # published to teachers
    parents: Document  # published to parents
    draft: Document  # published to nobody: managers only
    foreign: Document  # of the other school, published to everyone


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def docs(world) -> Docs:
    def make(title, audiences, school=None, by=None):
        return services.create_document(
            acting_user=by or world.director,
            school=school or world.school,
            title=title,
            kind="order",
            audiences=audiences,
            upload=pdf(),
            note="first",
        )

    return Docs(
        teachers=make("For teachers", ["teachers"]),
        parents=make("For parents", ["parents"]),
        draft=make("Draft", []),
        foreign=make(
            "Foreign", ["administration", "teachers", "students", "parents"], world.other_school, world.foreign_admin
        ),
    )


@pytest.fixture
def ctx_of(world):
    def build(persona: str):
        return resolve_school(world.persona(persona) or AnonymousUser(), world.school.slug)

    return build


def fetch(client, url):
    """GET ``url`` and read the whole answer: the test client closes a file response when its content has been
    read (with the database connection kept; ``response.close()`` here would close it on PostgreSQL)."""
    response = client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body
