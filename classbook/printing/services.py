"""Recording printed copies (issue 12, R6.6): every printed PDF gets a verification code and a record."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from classbook.core.audit import log_action
from classbook.people.models import User
from classbook.printing.models import PrintedCopy
from classbook.schools.models import SchoolClass

# No letters or digits that read alike on paper (0/O, 1/I/L, 5/S, 8/B).
_ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"
CODE_LENGTH = 8


def new_code() -> str:
    """A short verification code, ``XXXX-XXXX`` (26⁸ ≈ 2·10¹¹ codes: guessing one is hopeless)."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(text: str) -> str:
    """What a reader typed, as the code is stored: upper case, the dash where it belongs, no spaces."""
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == CODE_LENGTH else raw


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def record_printed_copy(
    *,
    acting_user: User | None,
    school_class: SchoolClass,
    kind: str,
    code: str,
    pdf: bytes,
    start: dt.date,
    end: dt.date,
    contents: dict[str, Any],
    printed_at: dt.datetime | None = None,
    certifier_position: str = "",
    certifier_name: str = "",
) -> PrintedCopy:
    """Record a printed copy (R6.6): its code, the SHA-256 and size of the PDF, its pages, who printed it,
    when and what it holds; audited (``printing.copy.printed``). ``acting_user`` None: printed by the system.
    A code already used in the school (one in 10¹¹) raises ``IntegrityError``: the caller prints again."""
    with transaction.atomic():
        copy = PrintedCopy.objects.create(
            school_id=school_class.school_id,
            code=code,
            sha256=hashlib.sha256(pdf).hexdigest(),
            kind=kind,
            school_class=school_class,
            printed_by=acting_user,
            printed_at=printed_at or timezone.now(),
            start=start,
            end=end,
            contents=contents,
            pages=page_count(pdf),
            size=len(pdf),
            certified=bool(certifier_name),
            certifier_position=certifier_position,
            certifier_name=certifier_name,
        )
        log_action(
            "printing.copy.printed",
            actor=acting_user,
            school=school_class.school,
            obj=copy,
            data={"code": code, "class": school_class.name, "kind": kind, "certified": copy.certified},
        )
    return copy


__all__ = ["IntegrityError", "new_code", "normalise_code", "record_printed_copy"]
