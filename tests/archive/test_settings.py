"""The school's archive settings: changed by those who manage the school's settings, audited; bad input is a
translated error and changes nothing."""

from __future__ import annotations

from classbook.archive.models import ArchiveSettings
from classbook.core.models import AuditEntry

FIELDS = {
    "time_zone": "Europe/Kyiv",
    "weekly_weekday": "4",
    "weekly_time": "18:00",
    "year_deadline_month": "7",
    "year_deadline_day": "10",
    "journal_retention_years": "5",
    "summary_retention_years": "25",
}


def test_the_director_changes_the_deadline_with_an_audit_row(world, as_user):
    url = f"/s/{world.school.slug}/archive/settings/"
    assert as_user(world.director).post(url, FIELDS).status_code == 302
    assert ArchiveSettings.objects.get(school=world.school).year_deadline_day == 10
    entry = AuditEntry.objects.get(school=world.school, action="archive.settings.changed")
    assert (entry.data["old"]["year_deadline_day"], entry.data["new"]["year_deadline_day"]) == ("15", "10")


def test_bad_settings_are_refused_and_change_nothing(world, as_user):
    url = f"/s/{world.school.slug}/archive/settings/"
    client = as_user(world.director)
    answer = client.post(url, {**FIELDS, "time_zone": "Mars/Olympus", "journal_retention_years": "0"})
    assert answer.status_code == 422
    assert "Not a known time zone" in answer.content.decode() and "Between 1 and 100 years" in answer.content.decode()
    assert not AuditEntry.objects.filter(action="archive.settings.changed").exists()
    assert client.get(url).status_code == 200
    assert ArchiveSettings.objects.get(school=world.school).time_zone == "Europe/Kyiv"
    for persona in ("deputy", "class_teacher", "foreign_admin"):
        assert as_user(getattr(world, persona)).post(url, FIELDS).status_code in (403, 404)
