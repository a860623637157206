"""The private iCalendar feed (R4.1): a hashed token, a regenerated token retires the old URL, valid RFC 5545."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from classbook.timetable import ical, services
from classbook.timetable.models import CalendarFeed


def unfold_and_check(text: str) -> list[str]:
    """A strict reading of RFC 5545 framing: CRLF lines, at most 75 octets, folded lines start with a space,
    balanced BEGIN/END, required properties present."""
    assert text.endswith("\r\n")
    raw = text.split("\r\n")[:-1]
    for line in raw:
        assert len(line.encode()) <= 75, line
        assert "\n" not in line and "\r" not in line
    lines: list[str] = []
    for line in raw:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    stack: list[str] = []
    for line in lines:
        name, _, value = line.partition(":")
        assert name and _, line
        if name == "BEGIN":
            stack.append(value)
        elif name == "END":
            assert stack.pop() == value
    assert not stack
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines and any(x.startswith("PRODID:") for x in lines)
    return lines


def test_escaping_and_folding():
    long = "Українська мова; література, " * 5
    text = ical.calendar(
        [
            ical.Event(
                uid="x@classbook",
                start=dt.datetime(2026, 9, 7, 6, 0, tzinfo=dt.UTC),
                end=dt.datetime(2026, 9, 7, 6, 45, tzinfo=dt.UTC),
                summary=long,
                description="a\\b\nc",
            )
        ],
        name="T",
        now=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
    )
    lines = unfold_and_check(text)
    summary = next(x for x in lines if x.startswith("SUMMARY:"))
    assert summary == "SUMMARY:" + long.replace(";", "\\;").replace(",", "\\,")
    assert "DESCRIPTION:a\\\\b\\nc" in lines


@pytest.fixture
def generated(world, tt):
    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1, room=tt.room)
    services.add_entry(acting_user=world.deputy, assignment=tt.history, weekday=2, number=2)
    services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 31)
    )


def feed_url(token):
    return reverse("timetable-ical", kwargs={"token": token})


@time_machine.travel(dt.datetime(2026, 9, 10, 12, 0, tzinfo=dt.UTC), tick=False)
@pytest.mark.parametrize(
    ("persona", "summary"),
    [("teacher", "Математика"), ("student", "Математика"), ("parent", "Математика"), ("other_teacher", "Історія")],
)
def test_feed_has_the_users_lessons_and_parses(world, tt, generated, client, persona, summary):
    token = services.issue_calendar_token(acting_user=world.persona(persona))
    response = client.get(feed_url(token))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    lines = unfold_and_check(response.content.decode())
    summaries = {x.split(":", 1)[1] for x in lines if x.startswith("SUMMARY:")}
    assert all(summary in s for s in summaries) and summaries
    starts = sorted(x for x in lines if x.startswith("DTSTART:"))
    assert starts[0] == "DTSTART:20260907T050000Z" if summary == "Математика" else "DTSTART:20260908T060000Z"
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # only the hash is stored


@time_machine.travel(dt.datetime(2026, 9, 10, 12, 0, tzinfo=dt.UTC), tick=False)
def test_cancelled_lesson_is_marked_cancelled(world, tt, generated, client):
    from classbook.journal.models import Lesson

    lesson = Lesson.objects.filter(assignment=tt.math, date=dt.date(2026, 9, 14)).get()
    services.record_lesson_change(acting_user=world.deputy, lesson=lesson, kind="cancelled")
    token = services.issue_calendar_token(acting_user=world.student.user)
    lines = unfold_and_check(client.get(feed_url(token)).content.decode())
    assert lines.count("STATUS:CANCELLED") == 1


def test_wrong_or_regenerated_token_gives_404(world, tt, generated, client, as_user):
    assert client.get(feed_url("nonsense")).status_code == 404
    old = services.issue_calendar_token(acting_user=world.teacher)
    assert client.get(feed_url(old)).status_code == 200
    page = as_user(world.teacher).post(reverse("timetable:calendar", kwargs={"school": world.school.slug}))
    assert page.status_code == 200 and "/timetable/ical/" in page.content.decode()
    assert client.get(feed_url(old)).status_code == 404
