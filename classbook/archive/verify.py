"""Checking a school's archives (issue 12): every file against its hash, the hash chain, and the signatures.

Says exactly what is wrong: which record (its number), what was expected and what was found. Used by the
verification page, ``manage.py archive verify`` and, through ``verify_school``, the post-restore checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from classbook.archive import chain
from classbook.archive.models import ArchiveRecord, ArchiveSettings, SignatureState
from classbook.schools.models import School

if TYPE_CHECKING:
    from classbook.backup.checks import RestoreContext

SignatureCheck = Callable[[School, bytes], str | None]  # the file → None when valid, else what is wrong


@dataclass(frozen=True)
class Problem:
    sequence: int | None  # the record's number; None for the chain as a whole
    what: str  # "file", "hash", "chain", "missing", "head", "signature"
    message: str
    expected: str = ""
    found: str = ""


@dataclass
class Verification:
    school: School
    records: int = 0
    files: int = 0
    signatures: int = 0
    destroyed: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _records(school: School, using: str) -> Iterator[ArchiveRecord]:
    return ArchiveRecord.objects.using(using).filter(school=school).order_by("sequence").iterator(chunk_size=500)


def verify_school(
    school: School,
    *,
    signatures: SignatureCheck | None = None,
    using: str = "default",
    media_root: Path | None = None,
) -> Verification:
    """Check every archive record of ``school`` in chain order (see the module docstring).

    ``using`` and ``media_root`` name another database and media folder (a restored backup's: the
    post-restore check); by default the site's own.
    """
    result = Verification(school)
    previous_hash, expected_number = "", 1
    for record in _records(school, using):
        result.records += 1
        while expected_number < record.sequence:
            result.problems.append(
                Problem(
                    expected_number,
                    "missing",
                    _("Archive record %(n)s is missing from the chain.") % {"n": expected_number},
                )
            )
            expected_number += 1
        expected_number = record.sequence + 1
        _check_link(result, record, previous_hash)
        previous_hash = record.record_hash
        if record.destroyed_at is not None:
            result.destroyed += 1
            continue
        content = _check_file(result, record, media_root)
        if content is not None and record.signature == SignatureState.SIGNED and signatures is not None:
            _check_signature(result, record, content, signatures)
    _check_head(result, school, expected_number - 1, previous_hash, using)
    return result


def _check_link(result: Verification, record: ArchiveRecord, previous_hash: str) -> None:
    if record.previous_hash != previous_hash:
        result.problems.append(
            Problem(
                record.sequence,
                "chain",
                _("Archive %(n)s does not follow the record before it (a record was removed or changed).")
                % {"n": record.sequence},
                previous_hash,
                record.previous_hash,
            )
        )
    computed = chain.record_hash(record)
    if computed != record.record_hash:
        result.problems.append(
            Problem(
                record.sequence,
                "hash",
                _("The record of archive %(n)s was changed after it was made.") % {"n": record.sequence},
                record.record_hash,
                computed,
            )
        )


def _read(record: ArchiveRecord, media_root: Path | None) -> bytes:
    if media_root is None:
        with record.file.open("rb") as handle:
            return handle.read()
    return (media_root / record.file.name).read_bytes()


def _check_file(result: Verification, record: ArchiveRecord, media_root: Path | None) -> bytes | None:
    if not record.file:
        result.problems.append(
            Problem(record.sequence, "file", _("Archive %(n)s has no file.") % {"n": record.sequence})
        )
        return None
    try:
        content = _read(record, media_root)
    except OSError:
        result.problems.append(
            Problem(
                record.sequence,
                "file",
                _("The file of archive %(n)s is missing: %(name)s.") % {"n": record.sequence, "name": record.file.name},
            )
        )
        return None
    result.files += 1
    found = chain.sha256_bytes(content)
    if found != record.sha256 or len(content) != record.size:
        result.problems.append(
            Problem(
                record.sequence,
                "file",
                _("The file of archive %(n)s was changed (its SHA-256 or size differs).") % {"n": record.sequence},
                f"{record.sha256} ({record.size})",
                f"{found} ({len(content)})",
            )
        )
        return None
    return content


def _check_signature(result: Verification, record: ArchiveRecord, content: bytes, check: SignatureCheck) -> None:
    result.signatures += 1
    wrong = check(record.school, content)
    if wrong:
        result.problems.append(
            Problem(
                record.sequence,
                "signature",
                _("The signature of archive %(n)s is not valid: %(why)s") % {"n": record.sequence, "why": wrong},
            )
        )


def _check_head(result: Verification, school: School, last: int, last_hash: str, using: str) -> None:
    head = ArchiveSettings.objects.using(using).filter(school=school).values_list("chain_length", "chain_head").first()
    length, head_hash = head if head is not None else (0, "")
    if length != last or head_hash != last_hash:
        result.problems.append(
            Problem(
                None,
                "head",
                _("The chain ends at archive %(found)s, but the school's last archive is %(expected)s.")
                % {"found": last, "expected": length},
                f"{length}: {head_hash}",
                f"{last}: {last_hash}",
            )
        )


def signature_problem(school: School, pdf: bytes) -> str | None:
    """What is wrong with the signature of a signed archive (``signing.services.verify_pdf``), or None."""
    from classbook.signing.services import verify_pdf

    report = verify_pdf(pdf, school=school)
    return None if report.ok else report.message


def verify(school: School) -> Verification:
    """The full check: files, chain and signatures (the page, the command, the post-restore check)."""
    return verify_school(school, signatures=signature_problem)


def restored_chains(context: RestoreContext) -> list[str]:
    """The post-restore check (``classbook.backup.checks``): every school's archive chain and files in the
    restored database and media folder verify as they did (signatures included)."""
    problems: list[str] = []
    schools = School.objects.using(context.using).filter(
        pk__in=ArchiveRecord.objects.using(context.using).values("school_id")
    )
    for school in schools:
        result = verify_school(school, signatures=signature_problem, using=context.using, media_root=context.media_root)
        problems += [f"{school.slug}: {p.message}" for p in result.problems]
    return problems
