"""Read models of the archive pages and API: the archive list, the builds and their progress, what a
destruction act may include. Querysets come scoped from ``classbook/access/archive.py``."""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.archive.models import ArchiveBuild, ArchiveRecord, BuildStatus, DestructionAct

PAGE = 200  # the archive list shows the newest 200 (the API pages through all)


def records_for_list(records: QuerySet[ArchiveRecord]) -> QuerySet[ArchiveRecord]:
    """The archives with what a row shows (class, period, act): one query."""
    return records.select_related("school_class", "period", "destruction_act").order_by("-sequence")


def working_builds(builds: QuerySet[ArchiveBuild]) -> list[ArchiveBuild]:
    """Builds queued or running, oldest first (the progress bars), with the recent failures."""
    return list(
        builds.filter(status__in=[BuildStatus.QUEUED, BuildStatus.RUNNING])
        .select_related("period")
        .order_by("created_at", "id")
    )


def recent_failures(builds: QuerySet[ArchiveBuild], limit: int = 5) -> list[ArchiveBuild]:
    return list(builds.filter(status=BuildStatus.FAILED).order_by("-created_at", "-id")[:limit])


def acts(qs: QuerySet[DestructionAct]) -> list[DestructionAct]:
    return list(qs.select_related("created_by", "confirmed_by").order_by("-number"))


def act_records(act: DestructionAct) -> list[ArchiveRecord]:
    return list(act.records.select_related("school_class").order_by("sequence"))
