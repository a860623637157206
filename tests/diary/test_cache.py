"""The cached diary week (classbook/diary/cache.py): served from the cache while nothing changed, fresh on
the very next request after a mark, an absence, a topic, homework, a file, a substitution or a timetable
change, and never to somebody the access rule does not let open the student."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from classbook.diary import cache as week_cache
from classbook.journal import attachments
from classbook.journal import services as journal
from classbook.journal.models import HomeworkAttachment, Lesson
from classbook.people.models import GuardianLink
from classbook.timetable import services as timetable
from classbook.timetable.models import BellSchedule
from tests.diary.test_week import week_url


@pytest.fixture
def diary(diary, settings):
    """The diary world with the cache on. What the fixture wrote counts as committed: its pending
    after-commit events (which a test transaction never runs) are dropped, so a test's own change
    starts a new batch that ``django_capture_on_commit_callbacks`` runs."""
    connection.run_on_commit.clear()
    settings.DIARY_CACHE = True
    cache.clear()
    yield diary
    cache.clear()


def _get(client, world, student=None):
    response = client.get(week_url(world, student=student))
    assert response.status_code == 200
    # The page without its per-request CSRF token (after the opening tag of <main>).
    return response.content.decode().split("<main", 1)[1].split(">", 1)[1]


def _fresh(client, world):
    """The page as built from the database right now, bypassing (and not touching) the cache."""
    from django.test import override_settings

    with override_settings(DIARY_CACHE=False):
        return _get(client, world)


def test_a_repeated_week_is_served_from_the_cache_with_three_queries(world, diary, as_user):
    client = as_user(world.parent)
    first = _get(client, world)
    with CaptureQueriesContext(connection) as captured:
        second = _get(client, world)
    # the session with its user, the school with the user's context (one statement each, issue 10) and the
    # students the user may open: the access rule runs on every request; none of the week's 7 queries; and no
    # upsert: the first request noted that the parent looked today (R9.2, ``diary.services.record_view``)
    assert len(captured) == 3
    assert not any("diary_diaryview" in q["sql"] for q in captured.captured_queries)
    assert second == first == _fresh(client, world)


def test_a_new_mark_shows_on_the_next_request(world, diary, as_user, django_capture_on_commit_callbacks):
    client = as_user(world.parent)
    assert "Чудово" not in _get(client, world)
    # Thursday's lesson: on Wednesday the student was absent, and a cell holds one entry (issue 10).
    wed = Lesson.objects.get(pk=diary.thu_math.pk)
    with django_capture_on_commit_callbacks(execute=True):
        journal.record_mark(
            acting_user=world.teacher,
            lesson=wed,
            student=world.student,
            text="11",
            expected_version=0,
            comment="Чудово",
        )
    html = _get(client, world)
    assert "Чудово" in html and html == _fresh(client, world)


def test_an_absence_shows_and_a_cleared_one_goes_on_the_next_request(
    world, diary, as_user, django_capture_on_commit_callbacks
):
    client = as_user(world.student.user)
    before = _get(client, world)
    mon = Lesson.objects.get(pk=diary.thu_math.pk)  # Monday's lesson holds a mark: one entry per cell
    with django_capture_on_commit_callbacks(execute=True):
        journal.record_attendance(
            acting_user=world.teacher, lesson=mon, student=world.student, text="н", expected_version=0
        )
    after = _get(client, world)
    assert after != before and after == _fresh(client, world)
    assert after.count("dy-abs") > before.count("dy-abs")


def test_topic_and_homework_show_on_the_next_request(world, diary, as_user, django_capture_on_commit_callbacks):
    client = as_user(world.parent)
    _get(client, world)
    wed = Lesson.objects.get(pk=diary.wed_math.pk)
    with django_capture_on_commit_callbacks(execute=True):
        journal.update_lesson(
            acting_user=world.class_teacher,
            lesson_id=wed.pk,
            expected_version=wed.version,
            topic="Десяткові дроби",
            homework="Вправа 77",
        )
    html = _get(client, world)
    assert "Десяткові дроби" in html and "Вправа 77" in html


def test_a_homework_file_shows_and_goes_on_the_next_request(world, diary, as_user, django_capture_on_commit_callbacks):
    client = as_user(world.parent)
    _get(client, world)
    mon = Lesson.objects.get(pk=diary.mon_math.pk)
    with django_capture_on_commit_callbacks(execute=True):
        new = attachments.attach_homework_file(
            acting_user=world.teacher, lesson=mon, upload=SimpleUploadedFile("extra.pdf", b"%PDF-1.4 extra")
        )
    assert "extra.pdf" in _get(client, world)
    with django_capture_on_commit_callbacks(execute=True):
        attachments.remove_homework_file(
            acting_user=world.teacher, attachment=HomeworkAttachment.objects.get(pk=new.pk)
        )
    assert "extra.pdf" not in _get(client, world)


def test_a_substitution_shows_on_the_next_request(world, diary, as_user, django_capture_on_commit_callbacks):
    client = as_user(world.parent)
    before = _get(client, world)
    mon = Lesson.objects.get(pk=diary.mon_math.pk)
    with django_capture_on_commit_callbacks(execute=True):
        timetable.record_lesson_change(
            acting_user=world.deputy, lesson=mon, kind="substituted", substitute=world.class_teacher
        )
    after = _get(client, world)
    assert after.count("dy-substituted") == before.count("dy-substituted") + 1
    assert after == _fresh(client, world)


def test_bell_times_and_timetable_entries_show_on_the_next_request(
    world, diary, as_user, django_capture_on_commit_callbacks
):
    client = as_user(world.parent)
    assert "8:07" not in _get(client, world)
    schedule = BellSchedule.objects.get(school=world.school)
    with django_capture_on_commit_callbacks(execute=True):
        timetable.set_bell(
            acting_user=world.deputy, schedule=schedule, number=1, start=dt.time(8, 7), end=dt.time(8, 50)
        )
    html = _get(client, world)
    assert "8:07" in html and html == _fresh(client, world)


def test_a_parent_never_gets_another_childs_cached_week(world, diary, as_user):
    _get(as_user(world.parent), world)  # world.student's week is now cached
    assert as_user(world.other_parent).get(week_url(world)).status_code == 404
    assert as_user(world.other_student.user).get(week_url(world)).status_code == 404
    assert as_user(world.teacher).get(week_url(world)).status_code == 404


def test_a_link_taken_away_closes_the_cached_week_at_once(world, diary, as_user):
    client = as_user(world.parent)
    _get(client, world)
    GuardianLink.objects.filter(guardian=world.parent, student=world.student).update(may_see=False)
    assert client.get(week_url(world)).status_code == 404


def test_each_language_has_its_own_cached_week(world, diary, as_user):
    client = as_user(world.parent)
    world.parent.language = "uk"
    world.parent.save(update_fields=["language"])
    ukrainian = _get(client, world)
    world.parent.language = "en"
    world.parent.save(update_fields=["language"])
    english = _get(client, world)
    assert "Monday" in english and "Monday" not in ukrainian


def test_an_evicted_generation_never_brings_back_an_old_week(world, diary, as_user, django_capture_on_commit_callbacks):
    client = as_user(world.parent)
    _get(client, world)
    wed = Lesson.objects.get(pk=diary.thu_math.pk)  # on Wednesday the student was absent
    with django_capture_on_commit_callbacks(execute=True):
        journal.record_mark(
            acting_user=world.teacher, lesson=wed, student=world.student, text="9", expected_version=0, comment="Нова"
        )
    assert "Нова" in _get(client, world)
    # the cache dropped every generation counter (memory pressure): the week is built afresh, not read old
    cache.delete_many([k for k in week_cache._gen_keys(world.school.pk, world.class_a.pk, world.student.pk)])
    assert "Нова" in _get(client, world)


def test_counters_restart_above_their_old_values():
    key = "cb:diary:g:test"
    cache.delete(key)
    week_cache._bump([key])
    first = cache.get(key)
    week_cache._bump([key])
    assert cache.get(key) == first + 1
    cache.delete(key)
    week_cache._bump([key])
    assert cache.get(key) > first + 1
