"""When archives are due (R6.7): weekly copies every Friday evening, semester archives after each semester,
the year archive on the school's deadline (default 15 July), all in the school's time zone.

``manage.py archive_due`` (run every 15 minutes by the timer, docs/deployment.md) asks ``due`` for every
active school and queues what is due and not queued yet: a scheduled build is unique per
``(school, kind, start, end)``, so running the command again, or on two machines, queues nothing twice.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from classbook.archive import services
from classbook.archive.models import ArchiveBuild, ArchiveKind, ArchiveSettings
from classbook.people.models import User
from classbook.schools.models import AcademicYear, PeriodKind, School, StudyPeriod

SEMESTER_KINDS = (PeriodKind.SEMESTER, PeriodKind.HALF)
LOOK_BACK = dt.timedelta(days=400)  # older periods and years are not archived by the schedule (a new install)


@dataclass(frozen=True)
class Due:
    kind: str
    year: AcademicYear
    start: dt.date
    end: dt.date
    period: StudyPeriod | None = None

    def start_build(self, school: School, acting_user: User | None = None) -> ArchiveBuild | None:
        """Queue this archive (``services.start_build``): the schedule's without ``acting_user``."""
        return services.start_build(
            school=school,
            kind=self.kind,
            year=self.year,
            start=self.start,
            end=self.end,
            period=self.period,
            acting_user=acting_user,
        )


def _local(now: dt.datetime, archive_settings: ArchiveSettings) -> dt.datetime:
    try:
        zone = zoneinfo.ZoneInfo(archive_settings.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return timezone.localtime(now, zone)


def last_weekly_day(local: dt.datetime, archive_settings: ArchiveSettings) -> dt.date:
    """The latest weekly-copy day (Friday by default) whose time has come at the local time ``local``."""
    back = (local.weekday() - archive_settings.weekly_weekday) % 7
    day = local.date() - dt.timedelta(days=back)
    if back == 0 and local.time() < archive_settings.weekly_time:
        day -= dt.timedelta(days=7)
    return day


def year_deadline(year: AcademicYear, archive_settings: ArchiveSettings) -> dt.date:
    """The day the year archive is made: the school's deadline (15 July) in the year the school year ends,
    but never before the day after its last day."""
    try:
        deadline = dt.date(year.end.year, archive_settings.year_deadline_month, archive_settings.year_deadline_day)
    except ValueError:
        deadline = dt.date(year.end.year, 7, 15)
    return max(deadline, year.end + dt.timedelta(days=1))


def due(school: School, now: dt.datetime | None = None) -> list[Due]:
    """What the schedule wants archived for ``school`` by ``now`` (built or not)."""
    archive_settings = services.settings_of(school)
    local = _local(now or timezone.now(), archive_settings)
    today = local.date()
    years = list(AcademicYear.objects.filter(school=school, end__gte=today - LOOK_BACK, start__lte=today))
    found: list[Due] = []
    friday = last_weekly_day(local, archive_settings)
    week = (friday - dt.timedelta(days=6), friday)  # Saturday to Friday: every day in exactly one copy
    for year in years:
        if year.start <= week[1] and week[0] <= year.end:
            found.append(Due(ArchiveKind.WEEKLY, year, max(week[0], year.start), min(week[1], year.end)))
        if year_deadline(year, archive_settings) <= today:
            found.append(Due(ArchiveKind.YEAR, year, year.start, year.end))
    semesters = StudyPeriod.objects.filter(
        school=school, kind__in=SEMESTER_KINDS, end__lt=today, end__gte=today - LOOK_BACK
    ).select_related("year")
    found += [Due(ArchiveKind.SEMESTER, p.year, p.start, p.end, p) for p in semesters]
    return found


def queue_due(school: School, now: dt.datetime | None = None) -> list[ArchiveBuild]:
    """Queue every due archive of ``school`` not queued before (idempotent, see the module docstring)."""
    wanted = due(school, now)
    if not wanted:
        return []
    queued = set(
        ArchiveBuild.objects.filter(school=school, scheduled=True, start__gte=min(d.start for d in wanted)).values_list(
            "kind", "start", "end"
        )
    )
    started = []
    for item in wanted:
        if (item.kind, item.start, item.end) in queued:
            continue
        build = item.start_build(school)
        if build is not None:
            started.append(build)
    return started


def current_year(school: School, today: dt.date) -> AcademicYear | None:
    """The school year of ``today``, else the latest one begun before it."""
    years = AcademicYear.objects.filter(school=school, start__lte=today).order_by("-start")
    return years.filter(end__gte=today).first() or years.first()


def semesters(school: School, today: dt.date) -> list[StudyPeriod]:
    """The semesters a "build now" may pick: those of the current year."""
    year = current_year(school, today)
    if year is None:
        return []
    return list(StudyPeriod.objects.filter(year=year, kind__in=SEMESTER_KINDS).order_by("start", "id"))


def manual(school: School, kind: str, period: StudyPeriod | None, today: dt.date) -> Due | None:
    """What "build now" archives: the last seven days, a semester of the current year, or the current year;
    None when the school has no such year or semester."""
    year = current_year(school, today)
    if year is None:
        return None
    if kind == ArchiveKind.SEMESTER:
        if period is None or period.year_id != year.pk:
            return None
        return Due(kind, year, period.start, period.end, period)
    if kind == ArchiveKind.WEEKLY:
        end = min(today, year.end)
        return Due(kind, year, max(year.start, end - dt.timedelta(days=6)), end)
    return Due(ArchiveKind.YEAR, year, year.start, year.end)
