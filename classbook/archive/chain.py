"""The hash chain of a school's archives (issue 12): how a record's hash is computed.

A record's hash is the SHA-256 of a canonical JSON object of the fields that say what the archive is (its
number, kind, document, class, dates, file name, size, the file's SHA-256, its retention term) and of the
previous record's hash. Changing any of them, or taking a record out of the chain, breaks every later link;
the school's ``ArchiveSettings.chain_head`` also catches removing the newest record. The destruction of a
file does not touch these fields, so a chain with destroyed files still verifies (docs/archive.md).

The rule is written out in docs/archive.md so anyone can recompute it without Classbook.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from classbook.archive.models import ArchiveRecord

CHUNK = 1 << 20


def sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sha256_file(handle: BinaryIO) -> tuple[str, int]:
    """The SHA-256 and the size of an open file, read in chunks (archives may be large)."""
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def hashed_fields(record: ArchiveRecord) -> dict[str, Any]:
    """The fields a record's hash covers, as plain JSON values."""
    return {
        "school": record.school_id,
        "sequence": record.sequence,
        "kind": record.kind,
        "document": record.document,
        "class": record.school_class_id,
        "period": record.period_id,
        "start": record.start.isoformat(),
        "end": record.end.isoformat(),
        "created_at": record.created_at.isoformat(timespec="seconds"),
        "filename": record.filename,
        "size": record.size,
        "sha256": record.sha256,
        "retain_until": record.retain_until.isoformat(),
        "previous": record.previous_hash,
    }


def record_hash(record: ArchiveRecord) -> str:
    canonical = json.dumps(hashed_fields(record), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return sha256_bytes(canonical.encode())
