"""The schedule (R6.7) in the school's time zone, with time-machine: the weekly copy from Friday 18:00, the
semester archive the day after the semester, the year archive on the school's deadline (15 July); and
``manage.py archive_due`` queues each once, however often it runs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import time_machine
from django.core.management import call_command

from classbook.archive import schedule, services
from classbook.archive.models import ArchiveBuild, ArchiveKind, ArchiveRecord

KYIV = zoneinfo.ZoneInfo("Europe/Kyiv")


def _due(world, when: dt.datetime) -> set[tuple[str, dt.date, dt.date]]:
    return {(d.kind, d.start, d.end) for d in schedule.due(world.school, when)}


def test_weekly_copy_is_due_from_friday_evening_in_the_schools_time_zone(world):
    before = dt.datetime(2026, 10, 9, 17, 59, tzinfo=KYIV)
    after = dt.datetime(2026, 10, 9, 18, 0, tzinfo=KYIV)
    assert (ArchiveKind.WEEKLY, dt.date(2026, 9, 26), dt.date(2026, 10, 2)) in _due(world, before)
    assert (ArchiveKind.WEEKLY, dt.date(2026, 10, 3), dt.date(2026, 10, 9)) in _due(world, after)
    first = dt.datetime(2026, 9, 4, 18, 0, tzinfo=KYIV)  # the first Friday: the week starts with the year
    assert (ArchiveKind.WEEKLY, dt.date(2026, 9, 1), dt.date(2026, 9, 4)) in _due(world, first)
    # The same instant is still Friday afternoon in a school on another time zone's clock.
    services.change_settings(acting_user=world.admin, school=world.school, values={"time_zone": "Atlantic/Azores"})
    assert (ArchiveKind.WEEKLY, dt.date(2026, 10, 3), dt.date(2026, 10, 9)) not in _due(world, after)


def test_semester_after_its_last_day_and_the_year_on_the_schools_deadline(world, data):
    sem = (ArchiveKind.SEMESTER, data.semester.start, data.semester.end)
    assert sem not in _due(world, dt.datetime(2026, 12, 26, 23, 0, tzinfo=KYIV))
    assert sem in _due(world, dt.datetime(2026, 12, 27, 0, 1, tzinfo=KYIV))
    year = world.class_a.year
    whole = (ArchiveKind.YEAR, year.start, year.end)
    assert whole not in _due(world, dt.datetime(2027, 7, 14, 23, 59, tzinfo=KYIV))
    assert whole in _due(world, dt.datetime(2027, 7, 15, 0, 0, tzinfo=KYIV))
    services.change_settings(
        acting_user=world.admin, school=world.school, values={"year_deadline_month": 7, "year_deadline_day": 1}
    )
    assert whole in _due(world, dt.datetime(2027, 7, 1, 0, 0, tzinfo=KYIV))
    assert not any(k == ArchiveKind.WEEKLY for k, _s, _e in _due(world, dt.datetime(2027, 8, 6, 19, 0, tzinfo=KYIV)))


def test_archive_due_queues_what_is_due_once(world, data, capsys):
    with time_machine.travel(dt.datetime(2026, 10, 9, 18, 5, tzinfo=KYIV)):
        call_command("archive_due")
        call_command("archive_due", "--school", world.school.slug)
    out = capsys.readouterr().out
    assert "queued: lyceum-1 weekly 2026-10-03..2026-10-09" in out
    assert out.count("queued: lyceum-1 weekly") == 1 and out.strip().endswith("archives queued: 0")
    weekly = ArchiveBuild.objects.get(school=world.school, kind=ArchiveKind.WEEKLY, start=dt.date(2026, 10, 3))
    assert weekly.scheduled and weekly.requested_by is None and weekly.status == "done"
    assert ArchiveRecord.objects.filter(build=weekly).count() == 2  # 5-А and 5-Б
