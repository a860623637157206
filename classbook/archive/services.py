"""Every change to archives (issue 12, R6.7, R6.8): starting a build, appending a record to the school's hash
chain, the retention rule (no deletion before the term), destruction acts and the school's archive settings.

Views, the API, the task and the management commands call these; none of them writes the models.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import TYPE_CHECKING, Any, NoReturn

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy

from classbook.archive import chain
from classbook.archive.models import (
    ArchiveBuild,
    ArchiveKind,
    ArchiveRecord,
    ArchiveSettings,
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
            sequence=head.chain_length + 1,
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
            previous_hash=head.chain_head,
            signature=SignatureState.SIGNED if signed else SignatureState.UNSIGNED,
            retain_until=retain_until(end, head.retention_years(document)),
        )
        record.record_hash = chain.record_hash(record)
        record.file.save(filename, ContentFile(content), save=False)
        record.save()
        head.chain_length, head.chain_head = record.sequence, record.record_hash
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
