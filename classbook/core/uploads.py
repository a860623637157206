"""Every uploaded file is checked by its content and served with the type that check found (issue 9).

One registry of the kinds of file Classbook knows (``KINDS``) and, per upload kind (``POLICIES``: homework
files, message attachments, absence documents, future ones), which kinds it accepts and how large a file may
be. ``check_upload`` reads the bytes, never the uploader's content type: a signature table for the binary
kinds, the inner ``[Content_Types].xml`` or ``mimetype`` member for office documents (zip containers), a
UTF-8 decode for plain text. HTML, SVG, XML, scripts and polyglots (a PDF header in a file named ``.html``,
an "image" carrying ``<script``) are refused. ``file_response`` serves a stored file: the verified type,
``inline`` only for images and PDFs, ``attachment`` with an RFC 6266 name otherwise, ``nosniff`` and a
sandboxing Content-Security-Policy. Every download door (pages and API routes) calls it.

A small explicit table rather than libmagic: the kinds are few, the answer is the same on every machine,
and libmagic would still not tell a .docx from a macro-enabled .docm or refuse an HTML polyglot
(docs/dependencies.md).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any
from urllib.parse import quote

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classbook.core.errors import DomainError

OCTET_STREAM = "application/octet-stream"
MB = 1024 * 1024
NAME_MAX = 200
CHUNK = 256 * 1024
# The Content-Security-Policy of every served file: no script, no plugin, no request of its own.
FILE_CSP = "sandbox; default-src 'none'"


@dataclass(frozen=True)
class FileKind:
    code: str
    label: str  # what people are told ("PDF", "Word (DOCX)")
    mime: str
    extensions: tuple[str, ...]  # the first is the one a name without an extension gets
    inline: bool = False  # shown in the browser (images, PDF); everything else is downloaded

    @property
    def content_type(self) -> str:
        return f"{self.mime}; charset=utf-8" if self.mime == "text/plain" else self.mime


_OOXML = "application/vnd.openxmlformats-officedocument."
_ODF = "application/vnd.oasis.opendocument."
KINDS: dict[str, FileKind] = {
    k.code: k
    for k in (
        FileKind("pdf", "PDF", "application/pdf", (".pdf",), inline=True),
        FileKind("png", "PNG", "image/png", (".png",), inline=True),
        FileKind("jpeg", "JPEG", "image/jpeg", (".jpg", ".jpeg", ".jpe", ".jfif"), inline=True),
        FileKind("gif", "GIF", "image/gif", (".gif",), inline=True),
        FileKind("webp", "WEBP", "image/webp", (".webp",), inline=True),
        FileKind("docx", "DOCX", _OOXML + "wordprocessingml.document", (".docx",)),
        FileKind("xlsx", "XLSX", _OOXML + "spreadsheetml.sheet", (".xlsx",)),
        FileKind("pptx", "PPTX", _OOXML + "presentationml.presentation", (".pptx",)),
        FileKind("odt", "ODT", _ODF + "text", (".odt",)),
        FileKind("ods", "ODS", _ODF + "spreadsheet", (".ods",)),
        FileKind("odp", "ODP", _ODF + "presentation", (".odp",)),
        FileKind("text", "TXT", "text/plain", (".txt",)),
        FileKind("mp3", "MP3", "audio/mpeg", (".mp3",)),
        FileKind("m4a", "M4A", "audio/mp4", (".m4a",)),
        FileKind("mp4", "MP4", "video/mp4", (".mp4",)),
    )
}
_BY_MIME = {k.mime: k for k in KINDS.values()}


@dataclass(frozen=True)
class UploadPolicy:
    """What one upload kind accepts. ``noun`` names the error codes (``invalid_<noun>_type``/``_size``)."""

    kinds: tuple[str, ...]
    max_size: int
    field: str
    noun: str = "file"

    @property
    def labels(self) -> str:
        return ", ".join(KINDS[code].label for code in self.kinds)

    @property
    def accept(self) -> str:
        """For ``<input type=file accept=...>``: a hint to the browser, never trusted."""
        return ",".join(ext for code in self.kinds for ext in KINDS[code].extensions)


_DOCUMENTS = ("pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "text")
_IMAGES = ("png", "jpeg", "gif", "webp")
POLICIES: dict[str, UploadPolicy] = {
    # R2.3, R5.7: tasks, worksheets, pictures and recordings for the class (docs/journal.md).
    "homework": UploadPolicy(kinds=(*_DOCUMENTS, *_IMAGES, "mp3", "m4a", "mp4"), max_size=10 * MB, field="file"),
    # R5.3: documents and photos between school and family (docs/messaging.md).
    "message": UploadPolicy(kinds=(*_DOCUMENTS, *_IMAGES), max_size=10 * MB, field="files"),
    # R2.11: a certificate or its photo (docs/appeals.md).
    "absence_document": UploadPolicy(kinds=("pdf", "jpeg", "png"), max_size=5 * MB, field="document", noun="document"),
    # R8.3: regulations, orders and user instructions of the school (docs/documents.md).
    "school_document": UploadPolicy(kinds=(*_DOCUMENTS, *_IMAGES), max_size=20 * MB, field="file"),
    # R8.2: a student's work, a certificate or its photo, a recording of a performance (docs/portfolios.md).
    "portfolio": UploadPolicy(kinds=(*_DOCUMENTS, *_IMAGES, "mp3", "m4a", "mp4"), max_size=10 * MB, field="file"),
    # R8.1: tests, tasks, exercises, methodical and analytical materials (docs/materials.md).
    "material": UploadPolicy(kinds=(*_DOCUMENTS, *_IMAGES, "mp3", "m4a", "mp4"), max_size=20 * MB, field="file"),
}


@dataclass(frozen=True)
class CheckedUpload:
    upload: Any  # a Django UploadedFile, rewound
    name: str  # the cleaned name people see (path, control and direction characters removed)
    kind: FileKind
    size: int


class ContentRefused(Exception):
    """The bytes are not a kind Classbook serves safely; ``reason`` says why (for the message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- Reading the content --------------------------------------------------------------------------

# Markup a browser would run or render, wherever it sits in a binary file (an image or PDF polyglot).
_MARKUP: tuple[bytes, ...] = (b"<script", b"<html", b"<body", b"<svg", b"<iframe", b"<!doctype html", b"<?php")
# A text file is refused for more: it is shown to people as text, and HTML is never text here; nor are
# script calls that have no business in a text handed to a class (a renamed .js or .vbs).
_TEXT_ONLY: tuple[bytes, ...] = (
    *(b"<?xml", b"<!doctype", b"<head", b"<meta", b"<object", b"<embed", b"<style", b"<link", b"<frameset"),
    *(b"<img", b"<a href", b"<form", b"<math", b"<xsl", b"javascript:", b"vbscript:"),
    *(b"document.cookie", b"document.write", b"document.location", b"window.location", b"window.open("),
    *(b"eval(", b"alert(", b"fetch(", b"xmlhttprequest", b"settimeout(", b"wscript.", b"createobject("),
)
_TEXT_MARKERS = re.compile(b"|".join(re.escape(m) for m in (*_MARKUP, *_TEXT_ONLY)))
_BINARY_MARKERS = re.compile(b"|".join(re.escape(m) for m in _MARKUP))
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# Actions that run code or other programs from a PDF (where they are not inside a compressed stream).
_PDF_ACTIONS = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)(?![A-Za-z0-9])")
_OVERLAP = 32
_ZIP_MEMBERS_MAX = 10_000
_ZIP_READ_MAX = MB
_OOXML_MAIN = {
    b"wordprocessingml.document.main+xml": "docx",
    b"spreadsheetml.sheet.main+xml": "xlsx",
    b"presentationml.presentation.main+xml": "pptx",
}
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"MSNV", b"dash"}


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    stream.seek(0)
    while chunk := stream.read(CHUNK):
        yield chunk


def _scan(stream: IO[bytes], pattern: re.Pattern[bytes], *, lower: bool = True) -> bool:
    """Whether ``pattern`` occurs anywhere in the stream (chunks overlap, so a marker on a border counts)."""
    tail = b""
    for chunk in _chunks(stream):
        window = tail + (chunk.lower() if lower else chunk)
        if pattern.search(window):
            return True
        tail = window[-_OVERLAP:]
    return False


def _mp3(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    # An MPEG audio frame header: 11 sync bits, a valid version, layer III, bitrate and sample rate.
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer == 1 and bitrate not in (0, 15) and rate != 3


def _mp4(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand == b"M4A ":
        return "m4a"
    return "mp4" if brand in _MP4_BRANDS else None


def _by_signature(head: bytes) -> str | None:
    """The kind whose signature the first bytes carry; ``zip`` for a zip container (looked into next)."""
    if re.match(rb"%PDF-[12]\.\d", head):
        return "pdf"
    signatures = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"GIF87a": "gif", b"GIF89a": "gif"}
    for magic, code in signatures.items():
        if head.startswith(magic):
            return code
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return _mp4(head) or ("mp3" if _mp3(head) else None)


def _zip_kind(stream: IO[bytes]) -> str:
    """An office document is a zip whose declared main part says what it is; anything else is refused.

    Only the directory and one small member are read (capped), so a zip bomb costs nothing. Macro-enabled
    documents (VBA projects, ODF Basic) are refused.
    """
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
            if len(members) > _ZIP_MEMBERS_MAX:
                raise ContentRefused("unknown")
            names = [m.filename for m in members]
            if any(n.lower().endswith("vbaproject.bin") or n.startswith(("Basic/", "Scripts/")) for n in names):
                raise ContentRefused("macros")
            if names and names[0] == "mimetype":
                return _odf_kind(archive.open("mimetype").read(200))
            if "[Content_Types].xml" in names:
                return _ooxml_kind(archive.open("[Content_Types].xml").read(_ZIP_READ_MAX))
    except ContentRefused:
        raise
    except Exception as exc:  # a broken or hostile archive (zlib, encryption, truncation): not a document
        raise ContentRefused("unknown") from exc
    raise ContentRefused("unknown")


def _odf_kind(mimetype: bytes) -> str:
    for code in ("odt", "ods", "odp"):
        if mimetype.strip() == KINDS[code].mime.encode():
            return code
    raise ContentRefused("unknown")


def _ooxml_kind(types: bytes) -> str:
    if b"macroenabled" in types.lower():
        raise ContentRefused("macros")
    found = {code for marker, code in _OOXML_MAIN.items() if marker in types}
    if len(found) == 1:
        return found.pop()
    raise ContentRefused("unknown")


def _text_kind(stream: IO[bytes]) -> str:
    """Plain UTF-8 text without NUL or other control characters, and without markup or a script's ``#!``."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    start = ""
    try:
        for chunk in _chunks(stream):
            if b"\x00" in chunk:  # a program or another binary file, not text in some other encoding
                raise ContentRefused("unknown")
            text = decoder.decode(chunk)
            if _CONTROL.search(text):
                raise ContentRefused("unknown")
            start = start or text.lstrip()
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise ContentRefused("encoding") from exc
    if start.startswith(("<", "#!")) or _scan(stream, _TEXT_MARKERS):
        raise ContentRefused("markup")
    return "text"


def identify(stream: IO[bytes]) -> FileKind:
    """The kind of the bytes in ``stream`` (rewound afterwards), or ``ContentRefused``."""
    stream.seek(0)
    head = stream.read(64)
    code = _by_signature(head)
    if code == "zip":
        code = _zip_kind(stream)
    elif code is None:
        code = _text_kind(stream)
    elif _scan(stream, _BINARY_MARKERS):
        raise ContentRefused("markup")
    elif code == "pdf" and _scan(stream, _PDF_ACTIONS, lower=False):
        raise ContentRefused("script")
    stream.seek(0)
    return KINDS[code]


def kind_of_stored(stored: FieldFile) -> str:
    """The verified MIME type of a file already stored (data migrations), ``application/octet-stream`` if the
    file is missing or not a kind Classbook knows."""
    try:
        with stored.open("rb") as stream:
            return identify(stream).mime
    except (ContentRefused, OSError, ValueError):
        return OCTET_STREAM


def rederive_stored_types(rows: Any, *, file_field: str, type_field: str) -> None:
    """Data migrations: set ``type_field`` of every row of ``rows`` (a queryset of a historical model) to the
    type verified from the bytes of its stored ``file_field``, in batches of 500 updates per type."""
    model = rows.model
    by_type: dict[str, list[int]] = {}
    for row in rows.only("pk", file_field).iterator(chunk_size=500):
        by_type.setdefault(kind_of_stored(getattr(row, file_field)), []).append(row.pk)
    for mime, pks in by_type.items():
        for start in range(0, len(pks), 500):
            model.objects.filter(pk__in=pks[start : start + 500]).update(**{type_field: mime})


# --- Checking an upload ---------------------------------------------------------------------------


def clean_name(raw: str | None) -> str:
    """The last path part of the uploader's name, without control or direction-changing characters."""
    name = PurePath((raw or "").replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"))
    return name.strip().strip(".")[:NAME_MAX].strip()


def _size_text(size: int) -> str:
    return pgettext_lazy("file size", "%(count)d MB") % {"count": size // MB}


def _refuse_type(policy: UploadPolicy, name: str, reason: str) -> DomainError:
    messages = {
        "markup": _("%(name)s contains a web page or a script and cannot be attached. Allowed: %(kinds)s."),
        "script": _("%(name)s is a PDF with scripts or embedded programs and cannot be attached. Allowed: %(kinds)s."),
        "macros": _("%(name)s contains macros and cannot be attached; save it without macros. Allowed: %(kinds)s."),
        "encoding": _("%(name)s is not a UTF-8 text file; save it as UTF-8 or as PDF. Allowed: %(kinds)s."),
        "unknown": _("Files of this kind cannot be attached: %(name)s. Allowed: %(kinds)s."),
    }
    return DomainError(
        messages[reason] % {"name": name, "kinds": policy.labels},
        code=f"invalid_{policy.noun}_type",
        field=policy.field,
    )


def _named_for(policy: UploadPolicy, name: str, kind: FileKind) -> str:
    """The name, with the kind's extension added if it had none; a name saying another kind is refused."""
    suffix = PurePath(name).suffix.lower()
    if not re.fullmatch(r"\.[a-z][a-z0-9]{0,7}", suffix):  # none, or "Звіт 05.10": not an extension
        return f"{name}{kind.extensions[0]}"[-NAME_MAX:]
    if suffix in kind.extensions:
        return name
    raise DomainError(
        _("%(name)s is a %(kind)s file by its content, but its name ends with %(suffix)s; rename it to %(expected)s.")
        % {"name": name, "kind": kind.label, "suffix": suffix, "expected": PurePath(name).stem + kind.extensions[0]},
        code=f"invalid_{policy.noun}_type",
        field=policy.field,
    )


def check_upload(upload: Any, policy: UploadPolicy) -> CheckedUpload:
    """Check one uploaded file against ``policy`` before anything is written (a ``DomainError`` names what is
    allowed). The kind comes from the content; the uploader's content type is never read."""
    name = clean_name(upload.name) or "file"
    size = upload.size or 0
    if not size:
        raise DomainError(
            _("%(name)s is empty.") % {"name": name}, code=f"invalid_{policy.noun}_size", field=policy.field
        )
    if size > policy.max_size:
        raise DomainError(
            _("%(name)s is too large: at most %(size)s.") % {"name": name, "size": _size_text(policy.max_size)},
            code=f"invalid_{policy.noun}_size",
            field=policy.field,
        )
    try:
        kind = identify(upload.file)
    except ContentRefused as exc:
        raise _refuse_type(policy, name, exc.reason) from exc
    if kind.code not in policy.kinds:
        raise _refuse_type(policy, name, "unknown")
    return CheckedUpload(upload=upload, name=_named_for(policy, name, kind), kind=kind, size=size)


# --- Serving a stored file ------------------------------------------------------------------------


def kind_for(mime: str) -> FileKind | None:
    return _BY_MIME.get(mime)


def _ascii_name(name: str) -> str:
    """A plain ASCII stand-in for clients without ``filename*``: accents dropped (résumé → resume); a name in
    another script becomes ``file`` with its extension."""
    suffix = PurePath(name).suffix
    decomposed = unicodedata.normalize("NFKD", name[: len(name) - len(suffix)])
    if any(ord(c) > 127 and unicodedata.category(c) != "Mn" for c in decomposed):
        stem = "file"
    else:
        stem = re.sub(r"[^A-Za-z0-9._ -]+", "_", decomposed.encode("ascii", "ignore").decode()).strip(" ._") or "file"
    return stem + re.sub(r"[^A-Za-z0-9.]+", "", suffix)


def content_disposition(name: str, *, inline: bool) -> str:
    """RFC 6266: a plain ASCII ``filename`` for old clients and ``filename*`` (UTF-8) when the name is not ASCII."""
    name = clean_name(name) or "file"
    fallback = _ascii_name(name)
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != name:
        value += f"; filename*=UTF-8''{quote(name, safe='')}"
    return value


def _protect(response: HttpResponseBase, name: str, *, inline: bool) -> None:
    response["Content-Disposition"] = content_disposition(name, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-cache"


def text_response(text: str, *, name: str) -> HttpResponse:
    """A text kept in the database (a shipped template copied into a document version) sent as a plain UTF-8
    text file, with the same headers as ``file_response``."""
    response = HttpResponse(text.encode("utf-8"), content_type=KINDS["text"].content_type)
    _protect(response, name, inline=False)
    return response


def file_response(stored: FieldFile, *, name: str, mime: str) -> FileResponse:
    """The one way a stored upload is sent: the type verified at upload (never the uploader's), inline only
    for images and PDFs, ``nosniff``, and a sandbox so nothing in the file runs with the site's rights."""
    kind = kind_for(mime)
    try:
        stream = stored.open("rb")
    except (OSError, ValueError) as exc:  # the row outlived its file (a restore, a lost disk): not found
        raise Http404 from exc
    response = FileResponse(stream, content_type=kind.content_type if kind else OCTET_STREAM)
    _protect(response, name, inline=bool(kind and kind.inline))
    return response
