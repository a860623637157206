"""The one way a document version leaves Classbook, for the pages and the API (R8.3)."""

from __future__ import annotations

from django.http.response import HttpResponseBase

from classbook.core import uploads
from classbook.documents.models import DocumentVersion


def version_response(version: DocumentVersion) -> HttpResponseBase:
    """The version's content: its stored file (the type verified at upload), or its text as a UTF-8 text file."""
    if version.text:
        return uploads.text_response(version.text, name=version.original_name)
    return uploads.file_response(version.file, name=version.original_name, mime=version.mime_type)
