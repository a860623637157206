"""Every change to archives (issue 12, R6.7, R6.8): starting a build, appending a record to the school's hash
chain, the retention rule (no deletion before the term), destruction acts and the school's archive settings.

Views, the API, the task and the management commands call these; none of them writes the models.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext_lazy

from classbook.archive import chain
from classbook.archive.models import (
    ArchiveBuild,
    ArchiveKind,
    ArchivePart,
    ArchiveRecord,
    ArchiveSettings,
    BuildStatus,
    DestructionAct,
    SignatureState,
    default_retention,
)
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, PermissionDeniedError

if TYPE_CHECKING:
    from classbook.people.models import User
    from classbook.schools.models import AcademicYear, School, SchoolClass, StudyPeriod


class ArchiveError(ConflictError):
    """An archive action refused for a reason the person can act on (translated; the API answers 409)."""


# --- Settings ------------------------------------------------------------------------------------------


def settings_of(school: School) -> ArchiveSettings:
    """The school's archive settings, created with its country's retention terms the first time."""
    found = ArchiveSettings.objects.filter(school=school).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return ArchiveSettings.objects.create(
                school=school,
                journal_retention_years=default_retention(school.country, "journal"),
                summary_retention_years=default_retention(school.country, "summary"),
            )
    except IntegrityError:  # created meanwhile by another process
        return ArchiveSettings.objects.get(school=school)


SETTING_FIELDS = (
    "time_zone",
    "weekly_weekday",
    "weekly_time",
    "year_deadline_month",
    "year_deadline_day",
    "journal_retention_years",
    "summary_retention_years",
)


def change_settings(*, acting_user: User, school: School, values: dict[str, Any]) -> ArchiveSettings:
    """Save the school's archive settings (validated by the form) with an audit row of old and new values.
    New retention terms apply to archives made from now on; those already made keep theirs (their term is
    part of their hash)."""
    with transaction.atomic():
        current = ArchiveSettings.objects.select_for_update().get(pk=settings_of(school).pk)
        old = {f: str(getattr(current, f)) for f in SETTING_FIELDS}
        for name in SETTING_FIELDS:
            if name in values:
                setattr(current, name, values[name])
        current.full_clean()
        current.save()
        new = {f: str(getattr(current, f)) for f in SETTING_FIELDS}
        if old != new:
            log_action(
                "archive.settings.changed", actor=acting_user, school=school, obj=current, data={"old": old, "new": new}
            )
    return current


# --- Builds --------------------------------------------------------------------------------------------


def start_build(
    *,
    school: School,
    kind: str,
    year: AcademicYear,
    start: dt.date,
    end: dt.date,
    period: StudyPeriod | None = None,
    acting_user: User | None = None,
) -> ArchiveBuild | None:
    """Queue the archiving of every class of ``year`` from ``start`` to ``end`` (the task:
    ``archive.tasks.build_archive``). Without ``acting_user`` the build is the schedule's: made once per
    ``(school, kind, start, end)``; None when it exists already."""
    if kind not in ArchiveKind.values or end < start:
        raise ValueError(f"not an archive: {kind} {start}..{end}")
    try:
        with transaction.atomic():
            build = ArchiveBuild.objects.create(
                changes_since=previous_copy_time(school, start) if kind == ArchiveKind.WEEKLY else None,
                school=school,
                kind=kind,
                year=year,
                start=start,
                end=end,
                period=period,
                requested_by=acting_user,
                scheduled=acting_user is None,
            )
            if acting_user is not None:
                log_action(
                    "archive.build.started",
                    actor=acting_user,
                    school=school,
                    obj=build,
                    data={"kind": kind, "start": start.isoformat(), "end": end.isoformat()},
                )
    except IntegrityError:
        return None  # the schedule queued it already
    from classbook.archive import tasks  # the task calls back into the build module

    tasks.build_archive.enqueue(build.pk)  # the database backend writes the task in the caller's transaction
    build.refresh_from_db()
    return build


def previous_copy_time(school: School, start: dt.date) -> dt.datetime:
    """Since when a weekly copy takes every changed entry: the start of the previous weekly copy that was
    made (its reads began after it started, so nothing changed after that is missed; a little overlap is
    harmless), or the start of the copy's first day for the school's first copy."""
    previous = (
        ArchiveBuild.objects.filter(school=school, kind=ArchiveKind.WEEKLY, status=BuildStatus.DONE)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if previous is not None:
        return previous
    return timezone.make_aware(dt.datetime.combine(start, dt.time.min))


def retry_build(*, acting_user: User, build: ArchiveBuild) -> ArchiveBuild:
    """Try a failed build again: its classes already made are kept, the others are queued again (nothing is
    archived twice: a class's document is unique per build)."""
    with transaction.atomic():
        current = ArchiveBuild.objects.select_for_update().get(pk=build.pk)
        if current.status != BuildStatus.FAILED:
            raise ArchiveError(gettext_lazy("Only a failed archive can be tried again."), code="not_failed")
        current.status, current.error, current.finished_at = BuildStatus.QUEUED, "", None
        current.save(update_fields=["status", "error", "finished_at"])
        log_action("archive.build.retried", actor=acting_user, school=current.school, obj=current, data={})
    from classbook.archive import tasks

    tasks.build_archive.enqueue(current.pk)
    current.refresh_from_db()
    return current


def fail_build(build: ArchiveBuild, error: str) -> None:
    """Mark the build failed with ``error`` (translated, shown on the page), unless it is finished already."""
    ArchiveBuild.objects.filter(pk=build.pk).exclude(status=BuildStatus.DONE).update(
        status=BuildStatus.FAILED, error=error[:255], finished_at=timezone.now()
    )


class Made(NamedTuple):
    """A class's document made by its task: the file and, when signed, its PAdES level and why it is not B-LT
    (``signing.signers.SignedPdf``)."""

    document: str
    filename: str
    content: bytes
    signature_level: str = ""  # empty: not signed
    signature_not_lt: str = ""


def add_parts(*, build: ArchiveBuild, school_class: SchoolClass, made: list[Made], complete: bool) -> bool:
    """Store a class's new documents (``Made``) as parts of ``build`` and,
    when the class now has all its documents (``complete``), count it done (``done = done + 1`` in the same
    transaction, so two tasks never lose a count). False when another run of the same class stored them
    first (its files are then removed; nothing is counted twice)."""
    parts = []
    try:
        with transaction.atomic():
            for one in made:
                part = ArchivePart(
                    school=build.school,
                    build=build,
                    school_class=school_class,
                    document=one.document,
                    filename=one.filename,
                    size=len(one.content),
                    sha256=chain.sha256_bytes(one.content),
                    signed=bool(one.signature_level),
                    signature_level=one.signature_level,
                    signature_not_lt=one.signature_not_lt,
                )
                part.file.save(one.filename, ContentFile(one.content), save=False)
                parts.append(part)
                part.save()
            if complete:
                ArchiveBuild.objects.filter(pk=build.pk).update(done=F("done") + 1)
    except IntegrityError:
        for part in parts:
            part.file.delete(save=False)
        return False
    return True


def seal(build: ArchiveBuild, order: list[int], documents: list[str]) -> bool:
    """Append the build's parts to the school's chain once every class in ``order`` has all ``documents``:
    in that fixed order (classes, then documents), in one transaction under the chain's lock (the school's
    settings row, then the build's row), so the chain is the same whichever worker finishes last and two
    workers finishing together cannot fork it. True when this call sealed the build."""
    school = build.school
    with transaction.atomic():
        head = ArchiveSettings.objects.select_for_update().get(pk=settings_of(school).pk)
        current = ArchiveBuild.objects.select_for_update().get(pk=build.pk)
        if current.status not in (BuildStatus.QUEUED, BuildStatus.RUNNING):
            return False
        parts = {(p.school_class_id, p.document): p for p in current.parts.filter(record__isnull=True)}
        if any((c, d) not in parts for c in order for d in documents):
            return False
        now = timezone.now().replace(microsecond=0)
        for class_id in order:
            for document in documents:
                part = parts[(class_id, document)]
                record = _link(
                    head,
                    ArchiveRecord(
                        school=school,
                        build=current,
                        kind=current.kind,
                        document=document,
                        school_class_id=class_id,
                        period=current.period,
                        start=current.start,
                        end=current.end,
                        created_at=now,
                        file=part.file.name,
                        filename=part.filename,
                        size=part.size,
                        sha256=part.sha256,
                        signature=SignatureState.SIGNED if part.signed else SignatureState.UNSIGNED,
                        signature_level=part.signature_level,
                        signature_not_lt=part.signature_not_lt,
                    ),
                )
                ArchivePart.objects.filter(pk=part.pk).update(record=record)
        head.save(update_fields=["chain_length", "chain_head"])
        current.status, current.finished_at = BuildStatus.DONE, timezone.now()
        current.done = max(current.done, current.total)
        current.save(update_fields=["status", "done", "finished_at"])
    return True


def _link(head: ArchiveSettings, record: ArchiveRecord) -> ArchiveRecord:
    """Number ``record`` as the head's next link, hash it, save it and move the head (not saved: the caller
    saves the head once, inside the transaction that holds its lock)."""
    record.sequence = head.chain_length + 1
    record.previous_hash = head.chain_head
    record.retain_until = retain_until(record.end, head.retention_years(record.document))
    record.record_hash = chain.record_hash(record)
    record.save()
    head.chain_length, head.chain_head = record.sequence, record.record_hash
    return record


# --- The chain -----------------------------------------------------------------------------------------


def retain_until(end: dt.date, years: int) -> dt.date:
    """The last day of keeping: terms run from 1 January of the year after the archive's last day (the
    archival rule of both countries), so a journal of 2025/2026 kept 5 years is kept through 2031."""
    return dt.date(end.year + years + 1, 1, 1) - dt.timedelta(days=1)


def append_record(
    *,
    build: ArchiveBuild | None,
    school_class: SchoolClass,
    kind: str,
    document: str,
    start: dt.date,
    end: dt.date,
    period: StudyPeriod | None,
    filename: str,
    content: bytes,
    signed: bool,
) -> ArchiveRecord:
    """Store ``content`` as the school's next archive and link it into the hash chain (the school's
    settings row is the chain's lock, so two builds never take the same number)."""
    school = school_class.school
    with transaction.atomic():
        head = ArchiveSettings.objects.select_for_update().get(pk=settings_of(school).pk)
        record = ArchiveRecord(
            school=school,
            build=build,
            kind=kind,
            document=document,
            school_class=school_class,
            period=period,
            start=start,
            end=end,
            created_at=timezone.now().replace(microsecond=0),
            filename=filename,
            size=len(content),
            sha256=chain.sha256_bytes(content),
            signature=SignatureState.SIGNED if signed else SignatureState.UNSIGNED,
        )
        record.file.save(filename, ContentFile(content), save=False)
        _link(head, record)
        head.save(update_fields=["chain_length", "chain_head"])
    return record


# --- Retention (R6.8) ----------------------------------------------------------------------------------


def refuse_delete(*, acting_user: User, record: ArchiveRecord) -> NoReturn:
    """Archives are never deleted one by one: before their term the law keeps them (R6.8), after it they
    are destroyed only by a destruction act the director confirms. The attempt is audited, then refused."""
    today = timezone.localdate()
    log_action(
        "archive.delete.refused",
        actor=acting_user,
        school=record.school,
        obj=record,
        data={"sequence": record.sequence, "retain_until": record.retain_until.isoformat()},
    )
    if today <= record.retain_until:
        raise ArchiveError(
            gettext_lazy("This archive must be kept until %(date)s; it cannot be deleted before its term.")
            % {"date": record.retain_until.strftime("%d.%m.%Y")},
            code="retention",
        )
    raise ArchiveError(
        gettext_lazy("The term of this archive is over: include it in a destruction act for the director to confirm."),
        code="destruction_act_needed",
    )


def expired_records(school: School, today: dt.date | None = None) -> Any:
    """The school's archives whose term is over, kept still and in no act yet."""
    return ArchiveRecord.objects.filter(
        school=school,
        retain_until__lt=today or timezone.localdate(),
        destroyed_at__isnull=True,
        destruction_act__isnull=True,
    ).order_by("sequence")


def draft_destruction_act(*, acting_user: User, school: School) -> DestructionAct:
    """An act listing every archive whose term is over (акт про вилучення для знищення), for the director."""
    with transaction.atomic():
        ArchiveSettings.objects.select_for_update().get(pk=settings_of(school).pk)
        ids = list(expired_records(school).values_list("pk", flat=True))
        if not ids:
            raise ArchiveError(gettext_lazy("No archive's term is over; there is nothing to destroy."), code="empty")
        number = (DestructionAct.objects.filter(school=school).aggregate(n=Max("number"))["n"] or 0) + 1
        act = DestructionAct.objects.create(school=school, number=number, created_by=acting_user)
        ArchiveRecord.objects.filter(pk__in=ids).update(destruction_act=act)
        log_action("archive.act.drafted", actor=acting_user, school=school, obj=act, data={"records": len(ids)})
    return act


def confirm_destruction_act(*, acting_user: User, act: DestructionAct, is_director: bool) -> DestructionAct:
    """The director confirms the act: the files of its archives are removed; the records, their hashes and
    the act's list of what was destroyed stay, so the chain still verifies."""
    if not is_director:
        raise PermissionDeniedError(gettext_lazy("Only the director confirms a destruction act."))
    with transaction.atomic():
        act = DestructionAct.objects.select_for_update().get(pk=act.pk)
        if act.confirmed_at is not None:
            raise ArchiveError(gettext_lazy("This act is confirmed already."), code="confirmed")
        records = list(act.records.select_related("school_class").order_by("sequence"))
        today = timezone.localdate()
        if any(r.retain_until >= today for r in records):
            raise ArchiveError(gettext_lazy("An archive of this act must still be kept."), code="retention")
        now = timezone.now()
        act.contents = [_destroyed(r) for r in records]
        act.confirmed_by, act.confirmed_at = acting_user, now
        act.save(update_fields=["contents", "confirmed_by", "confirmed_at"])
        storage = ArchiveRecord._meta.get_field("file").storage  # type: ignore[attr-defined]
        for record in records:
            ArchiveRecord.objects.filter(pk=record.pk).update(destroyed_at=now, file="")
            if record.file.name:  # removed once the act is committed: a failed act destroys nothing
                transaction.on_commit(functools.partial(storage.delete, record.file.name))
        log_action(
            "archive.act.confirmed",
            actor=acting_user,
            school=act.school,
            obj=act,
            data={"number": act.number, "records": [r.sequence for r in records]},
        )
    return act


def _destroyed(record: ArchiveRecord) -> dict[str, Any]:
    return {
        "sequence": record.sequence,
        "kind": record.kind,
        "document": record.document,
        "class": str(record.school_class),
        "start": record.start.isoformat(),
        "end": record.end.isoformat(),
        "filename": record.filename,
        "size": record.size,
        "sha256": record.sha256,
        "record_hash": record.record_hash,
        "retain_until": record.retain_until.isoformat(),
    }
