"""Archive files: PDF/A-3b with embedded data (WeasyPrint) and reading the embedded data back (pypdf).

PDF/A-3 is the ISO 19005-3 profile for long-term keeping that allows embedded files: the archive's PDF is
what a person reads, the embedded JSON what a program reads, both in one file whose hash the chain keeps.
"""

from __future__ import annotations

import gc
import io
import json
import warnings
from typing import Any

PDF_VARIANT = "pdf/a-3b"


def write_pdfa(html: str, *, base_url: str, attachments: dict[str, tuple[bytes, str]]) -> bytes:
    """The HTML as a PDF/A-3b with ``attachments`` (file name → (bytes, description)) embedded."""
    # Printing's renderer: WeasyPrint with its user-agent stylesheet narrowed (``printing.documents.render_pdf``:
    # without the pseudo-element rules on every element a year's journal costs about a third less CPU).
    from classbook.printing.documents import render_pdf

    # WeasyPrint 70 opens its sRGB profile for PDF/A and never closes it (a ResourceWarning when the document is
    # collected): the file is read in full, so the warning is silenced here and the document collected at once.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = render_pdf(html, base_url=base_url, pdf_variant=PDF_VARIANT, attachments=attachments)
        gc.collect()
    return pdf


def embedded_files(pdf: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF, by name (pypdf)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    found: dict[str, bytes] = {}
    for name, contents in reader.attachments.items():
        found[name] = contents[-1]
    return found


def embedded_json(pdf: bytes, name: str) -> Any:
    return json.loads(embedded_files(pdf)[name])


def pdfa_part(pdf: bytes) -> str:
    """The PDF/A identification of the XMP metadata ("3B"), or "" when there is none."""
    from pypdf import PdfReader

    metadata = PdfReader(io.BytesIO(pdf)).xmp_metadata
    if metadata is None:
        return ""
    return f"{metadata.pdfaid_part or ''}{metadata.pdfaid_conformance or ''}"
