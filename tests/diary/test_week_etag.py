"""ETag / If-None-Match on the diary week of the API (issue 18): a revalidation of an unchanged week is a
304 read in a few queries; every kind of change the week shows gives a new tag, changes elsewhere do not."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.journal import attachments
from classbook.journal import services as journal
from classbook.journal.models import Attendance, Mark
from classbook.timetable import services as timetable
from classbook.timetable.models import BellSchedule
from tests.diary.conftest import MONDAY


def week_url(world) -> str:
    return f"/api/v1/schools/{world.school.slug}/diary/{world.student.pk}/week?date={MONDAY}"


def tag_of(client, world) -> str:
    response = client.get(week_url(world))
    assert response.status_code == 200 and response.json()["start"] == MONDAY.isoformat()
    return response["ETag"]


def test_unchanged_week_answers_304_in_a_few_queries(world, diary, as_user):
    client = as_user(world.parent)
    tag = tag_of(client, world)
    with CaptureQueriesContext(connection) as full:
        assert client.get(week_url(world)).status_code == 200
    with CaptureQueriesContext(connection) as revalidated:
        response = client.get(week_url(world), HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 304 and response.content == b"" and response["ETag"] == tag
    # Session, user, school and context, the students the parent may open, the look noted (R9.2, an upsert on
    # the first look of the day), the state: not the week's 7.
    assert len(revalidated) <= 7 < len(full)


def test_every_kind_of_change_gives_a_new_tag(world, diary, as_user):
    client = as_user(world.parent)
    seen = [tag_of(client, world)]

    def changed(what: str) -> None:
        tag = tag_of(client, world)
        assert tag not in seen, what
        seen.append(tag)

    mark = Mark.objects.get(lesson=diary.mon_math, student=world.student)
    journal.record_mark(
        acting_user=world.teacher,
        lesson=diary.mon_math,
        student=world.student,
        text="11",
        expected_version=mark.version,
    )
    changed("a changed mark")
    absence = Attendance.objects.get(lesson=diary.wed_math, student=world.student)
    journal.record_attendance(
        acting_user=world.class_teacher,
        lesson=diary.wed_math,
        student=world.student,
        text="хв",
        expected_version=absence.version,
    )
    changed("an absence's code")
    mon = diary.mon_math
    mon.refresh_from_db()
    journal.update_lesson(acting_user=world.teacher, lesson_id=mon.pk, expected_version=mon.version, homework="№ 15")
    changed("homework")
    mon.refresh_from_db()
    attachments.attach_homework_file(
        acting_user=world.teacher, lesson=mon, upload=SimpleUploadedFile("more.pdf", b"%PDF-1.4 more")
    )
    changed("a homework file")
    schedule = BellSchedule.objects.get(school=world.school)
    timetable.set_bell(acting_user=world.deputy, schedule=schedule, number=1, start=dt.time(8, 5), end=dt.time(8, 50))
    changed("a bell's time (audited)")


def test_the_tag_is_the_viewers(world, diary, as_user):
    assert tag_of(as_user(world.parent), world) != tag_of(as_user(world.student.user), world)


def test_changes_in_another_class_keep_the_tag(world, diary, as_user):
    client = as_user(world.parent)
    tag = tag_of(client, world)
    mark = Mark.objects.get(lesson=diary.other_lesson, student=world.other_student)
    journal.record_mark(
        acting_user=world.other_teacher,
        lesson=diary.other_lesson,
        student=world.other_student,
        text="4",
        expected_version=mark.version,
    )
    assert tag_of(client, world) == tag
