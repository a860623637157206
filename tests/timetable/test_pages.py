"""Timetable pages (R4.1, R4.2): who sees which timetable, changes highlighted, the deputy's editing grid
with htmx and inline clash errors, lesson generation, the missed/substituted journal and its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from classbook.journal.models import Lesson
from classbook.timetable import services
from classbook.timetable.models import GeneratedLesson, LessonChange, TimetableEntry

WEEK = "2026-09-07"  # Monday


@pytest.fixture
def timetable(world, tt):
    """A small generated week: math (class_a) Mon 1, history (class_b) Mon 2, English per subgroup Tue 3."""
    d = world.deputy
    services.add_entry(acting_user=d, assignment=tt.math, weekday=1, number=1, room=tt.room)
    services.add_entry(acting_user=d, assignment=tt.history, weekday=1, number=2, room=tt.room)
    services.add_entry(acting_user=d, assignment=tt.english1, weekday=2, number=3, room=tt.room2)
    services.add_entry(acting_user=d, assignment=tt.english2, weekday=2, number=3)
    services.generate_lessons(acting_user=d, school=world.school, start=dt.date(2026, 9, 7), end=dt.date(2026, 9, 30))
    math_lesson = Lesson.objects.filter(assignment=tt.math).order_by("date").first()
    services.record_lesson_change(
        acting_user=d, lesson=math_lesson, kind="substituted", substitute=world.class_teacher, reason="Хвороба"
    )
    return math_lesson


def url(world, name, **kwargs):
    return reverse(f"timetable:{name}", kwargs={"school": world.school.slug, **kwargs})


def test_class_week_shows_lessons_with_the_substitution_highlighted(world, tt, timetable, as_user):
    response = as_user(world.deputy).get(url(world, "class", class_id=world.class_a.pk) + f"?date={WEEK}")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Математика" in body and "Англійська мова" in body and "Історія" not in body
    assert "tt-substituted" in body
    assert world.class_teacher.short_name in body
    assert "08:00" in body  # bell time


def test_teacher_week_includes_the_lessons_they_substitute(world, tt, timetable, as_user):
    body = as_user(world.class_teacher).get(url(world, "my") + f"?date={WEEK}").content.decode()
    assert "tt-substituting" in body and "Математика" in body
    assert "Англійська мова" in body  # their own subgroup lesson


def test_room_and_day_views(world, tt, timetable, as_user):
    client = as_user(world.teacher)
    body = client.get(url(world, "room", room_id=tt.room.pk) + f"?date={WEEK}").content.decode()
    assert "Математика" in body and "Історія" in body and "Англійська" not in body
    day = client.get(url(world, "class", class_id=world.class_a.pk) + "?view=day&date=2026-09-08").content.decode()
    assert "Англійська мова" in day and "Математика" not in day


def test_student_sees_only_their_subgroups_lessons(world, tt, timetable, as_user):
    body = as_user(world.student.user).get(url(world, "index") + f"?date={WEEK}").content.decode()
    assert "Математика" in body
    assert body.count("Англійська мова") == 1  # group 1 only
    assert world.other_teacher.short_name in body  # group 1 teacher
    assert "Історія" not in body


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("student", "own", 200),
        ("student", "other_student", 404),
        ("parent", "own", 200),
        ("parent", "other_student", 404),
        ("other_parent", "own", 404),
        ("teacher", "own", 200),
        ("deputy", "other_student", 200),
        ("foreign_admin", "own", 404),
        ("anonymous", "own", 302),
    ],
)
def test_student_timetable_permissions(world, tt, timetable, as_user, persona, target, status):
    student = world.student if target == "own" else world.other_student
    response = as_user(world.persona(persona)).get(url(world, "student", student_id=student.pk))
    assert response.status_code == status


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("student", 404),
        ("parent", 404),
        ("teacher", 200),
        ("viewer", 200),
        ("foreign_teacher", 404),
        ("anonymous", 302),
    ],
)
def test_class_teacher_and_room_timetables_are_for_staff(world, tt, timetable, as_user, persona, status):
    client = as_user(world.persona(persona))
    for page in (
        url(world, "class", class_id=world.class_a.pk),
        url(world, "teacher", user_id=world.teacher.pk),
        url(world, "room", room_id=tt.room.pk),
    ):
        assert client.get(page).status_code == status


def test_foreign_class_is_404_even_for_the_administration(world, tt, as_user):
    assert as_user(world.admin).get(url(world, "class", class_id=world.foreign_class.pk)).status_code == 404


def test_week_page_query_count_does_not_grow_with_lessons(world, tt, timetable, as_user, django_assert_max_num_queries):
    client = as_user(world.deputy)
    page = url(world, "class", class_id=world.class_a.pk) + f"?date={WEEK}"
    client.get(page)
    with django_assert_max_num_queries(17):  # 9 session and school context + 8 timetable
        assert client.get(page).status_code == 200
    services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 10, 1), end=dt.date(2026, 12, 25)
    )
    with django_assert_max_num_queries(17):  # 9 session and school context + 8 timetable
        assert client.get(url(world, "teacher", user_id=world.other_teacher.pk) + f"?date={WEEK}").status_code == 200


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("deputy", 200),
        ("admin", 200),
        ("director", 200),
        ("teacher", 403),
        ("class_teacher", 403),
        ("secretary", 403),
        ("viewer", 403),
        ("student", 403),
        ("foreign_admin", 404),
        ("anonymous", 302),
    ],
)
def test_editing_pages_permissions(world, tt, as_user, persona, status):
    client = as_user(world.persona(persona))
    assert client.get(url(world, "edit", class_id=world.class_a.pk)).status_code == status
    assert client.get(url(world, "generate")).status_code == status
    assert client.get(url(world, "bells")).status_code == status
    response = client.post(
        url(world, "add_entry", class_id=world.class_a.pk),
        {"assignment": tt.math.pk, "weekday": 1, "number": 1, "parity": "every"},
    )
    assert response.status_code == status
    assert TimetableEntry.objects.exists() == (status == 200)


def test_htmx_add_shows_the_clash_inline_and_changes_nothing(world, tt, as_user):
    client = as_user(world.deputy)
    add = url(world, "add_entry", class_id=world.class_a.pk)
    ok = client.post(
        add, {"assignment": tt.math.pk, "weekday": 1, "number": 1, "parity": "every"}, HTTP_HX_REQUEST="true"
    )
    assert ok.status_code == 200 and "Математика" in ok.content.decode()
    clash = client.post(
        add, {"assignment": tt.english1.pk, "weekday": 1, "number": 1, "parity": "every"}, HTTP_HX_REQUEST="true"
    )
    body = clash.content.decode()
    assert 'id="tt-error"' in body and "Clash" in body and "<html" not in body
    assert TimetableEntry.objects.count() == 1


def test_assignment_of_another_school_cannot_be_added(world, tt, as_user):
    from tests import factories as f

    foreign = f.make_assignment(world.foreign_teacher, world.foreign_class)
    response = as_user(world.deputy).post(
        url(world, "add_entry", class_id=world.class_a.pk),
        {"assignment": foreign.pk, "weekday": 1, "number": 1, "parity": "every"},
    )
    assert response.status_code == 422
    assert not TimetableEntry.objects.exists()


def test_remove_from_the_grid_keeps_lessons_with_data(world, tt, timetable, as_user):
    entry = TimetableEntry.objects.get(assignment=tt.math)
    response = as_user(world.deputy).post(
        url(world, "remove_entry", entry_id=entry.pk), {"from_date": "2026-09-01"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "1 lessons were kept because they have data: 07.09 (1)" in response.content.decode()
    assert list(Lesson.objects.filter(assignment=tt.math)) == [timetable]


def test_remove_without_a_date_keeps_past_lessons(world, tt, timetable, as_user):
    entry = TimetableEntry.objects.get(assignment=tt.math)
    with time_machine.travel(dt.datetime(2026, 9, 22, 9, 0, tzinfo=dt.UTC), tick=False):
        as_user(world.deputy).post(url(world, "remove_entry", entry_id=entry.pk), HTTP_HX_REQUEST="true")
    dates = sorted(Lesson.objects.filter(assignment=tt.math).values_list("date", flat=True))
    assert dates == [dt.date(2026, 9, 7), dt.date(2026, 9, 14), dt.date(2026, 9, 21)]  # 28 Sep is gone


def test_change_an_entry_from_a_date_in_the_grid(world, tt, timetable, as_user):
    entry = TimetableEntry.objects.get(assignment=tt.math)
    client = as_user(world.deputy)
    page = url(world, "change_entry", entry_id=entry.pk)
    form = client.get(page, HTTP_HX_REQUEST="true")
    assert form.status_code == 200 and 'name="from_date"' in form.content.decode()
    response = client.post(
        page,
        {"from_date": "2026-09-14", "weekday": 3, "number": 5, "room": tt.room2.pk, "parity": "every"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="tt-notice"' in body and "created: 3; removed: 3" in body
    dates = sorted(Lesson.objects.filter(assignment=tt.math).values_list("date", "number"))
    assert dates == [
        (dt.date(2026, 9, 7), 1),  # before the change (and substituted)
        (dt.date(2026, 9, 16), 5),
        (dt.date(2026, 9, 23), 5),
        (dt.date(2026, 9, 30), 5),
    ]
    clash = client.post(
        url(world, "change_entry", entry_id=TimetableEntry.objects.get(assignment=tt.history).pk),
        {"from_date": "2026-09-14", "weekday": 3, "number": 5, "room": tt.room2.pk, "parity": "every"},
        HTTP_HX_REQUEST="true",
    )
    assert "room 102" in clash.content.decode()


def test_generate_page_reports_created_existing_and_holidays(world, tt, as_user):
    from classbook.schools.models import SpecialDay

    services.add_entry(acting_user=world.deputy, assignment=tt.math, weekday=1, number=1)
    SpecialDay.objects.create(
        school=world.school,
        year=tt.math.year,
        kind="vacation",
        name="Осінні канікули",
        start=dt.date(2026, 10, 26),
        end=dt.date(2026, 11, 1),
    )
    response = as_user(world.deputy).post(url(world, "generate"), {"start": "2026-10-01", "end": "2026-11-30"})
    assert response.status_code == 200
    assert "Created 8 lessons; 0 already existed; skipped 1 holidays." in response.content.decode()
    bad = as_user(world.deputy).post(url(world, "generate"), {"start": "2027-06-01", "end": "2027-08-30"})
    assert bad.status_code == 422 and "academic year" in bad.content.decode()
    assert Lesson.objects.count() == 8


def test_deputy_records_a_substitution_from_the_page(world, tt, timetable, as_user):
    lesson = Lesson.objects.filter(assignment=tt.math).order_by("date")[1]
    page = url(world, "lesson_change", lesson_id=lesson.pk)
    client = as_user(world.deputy)
    assert client.get(page).status_code == 200
    response = client.post(page, {"kind": "substituted", "substitute": world.class_teacher.pk, "reason": "Курси"})
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert lesson.conducted_by == world.class_teacher
    assert as_user(world.teacher).post(page, {"kind": "cancelled"}).status_code == 403


def test_substitute_of_another_school_is_refused_on_the_page(world, tt, timetable, as_user):
    lesson = Lesson.objects.filter(assignment=tt.math).order_by("date")[1]
    response = as_user(world.deputy).post(
        url(world, "lesson_change", lesson_id=lesson.pk),
        {"kind": "substituted", "substitute": world.foreign_teacher.pk},
    )
    assert response.status_code == 422
    assert not LessonChange.objects.filter(lesson=lesson).exists()


def test_changes_journal_counts_per_teacher_and_exports_csv(
    world, tt, timetable, as_user, django_assert_max_num_queries
):
    second = Lesson.objects.filter(assignment=tt.math).order_by("date")[1]
    services.record_lesson_change(acting_user=world.deputy, lesson=second, kind="cancelled", reason="Екскурсія")
    client = as_user(world.deputy)
    with django_assert_max_num_queries(12):
        response = client.get(url(world, "changes") + "?month=2026-09")
    body = response.content.decode()
    assert "Хвороба" in body and "Екскурсія" in body
    exported = client.get(url(world, "changes_csv") + "?month=2026-09")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len([r for r in rows[1:] if r and r[0].startswith("2026-09")]) == 2
    counts = {r[0]: r[1:] for r in rows[rows.index([]) + 2 :]}
    assert counts[world.teacher.short_name] == ["0", "2"]  # missed: substituted + cancelled
    assert counts[world.class_teacher.short_name] == ["1", "0"]  # substituted for others
    filtered = client.get(url(world, "changes") + f"?month=2026-09&teacher={world.class_teacher.pk}").content.decode()
    assert "Хвороба" in filtered and "Екскурсія" not in filtered
    assert "Хвороба" not in client.get(url(world, "changes") + "?month=2026-10").content.decode()


@pytest.mark.parametrize(
    ("persona", "sees_reason", "status"),
    [
        ("teacher", True, 200),
        ("class_teacher", True, 200),
        ("other_teacher", False, 200),
        ("student", False, 403),
        ("parent", False, 403),
        ("foreign_teacher", False, 404),
    ],
)
def test_changes_journal_permissions(world, tt, timetable, as_user, persona, sees_reason, status):
    response = as_user(world.persona(persona)).get(url(world, "changes") + "?month=2026-09")
    assert response.status_code == status
    assert ("Хвороба" in response.content.decode()) == sees_reason


def test_teacher_cannot_filter_the_journal_by_another_teacher(world, tt, timetable, as_user):
    response = as_user(world.other_teacher).get(url(world, "changes") + f"?teacher={world.teacher.pk}")
    assert response.status_code == 404


def test_generated_lessons_link_back_to_their_entries(world, tt, timetable):
    assert GeneratedLesson.objects.count() == Lesson.objects.count()


def test_parent_whose_link_may_not_see_gets_404(world, tt, timetable, as_user):
    from tests import factories as f

    restricted = f.make_parent(world.student, may_see=False, username="restricted")
    client = as_user(restricted)
    assert client.get(url(world, "student", student_id=world.student.pk)).status_code == 404
    assert "Математика" not in client.get(url(world, "index") + f"?date={WEEK}").content.decode()


def test_changes_csv_is_refused_to_families(world, tt, timetable, as_user):
    assert as_user(world.parent).get(url(world, "changes_csv")).status_code == 403
    assert as_user(None).get(url(world, "changes_csv")).status_code == 302


def test_bells_page_refuses_an_overlapping_bell_with_a_message(world, tt, as_user):
    from classbook.timetable.models import Bell

    client = as_user(world.deputy)
    page = url(world, "bells")
    bad = client.post(page, {"schedule": tt.schedule.pk, "number": 8, "start": "14:30", "end": "15:10"})
    assert bad.status_code == 422 and "overlaps lesson 7" in bad.content.decode()
    assert not Bell.objects.filter(number=8).exists()
    ok = client.post(page, {"schedule": tt.schedule.pk, "number": 8, "start": "15:00", "end": "15:45"})
    assert ok.status_code == 302 and Bell.objects.filter(number=8).exists()
    second = client.post(page, {"name": "Друга зміна"})
    assert second.status_code == 302
    assert "Друга зміна" in client.get(page).content.decode()


def test_lessons_added_by_hand_appear_in_the_timetables(world, tt, timetable, as_user):
    from classbook.journal.services import create_lesson

    create_lesson(acting_user=world.teacher, assignment=tt.math, date=dt.date(2026, 9, 11), number=6)
    for persona, page in [
        ("deputy", url(world, "class", class_id=world.class_a.pk)),
        ("teacher", url(world, "my")),
        ("student", url(world, "student", student_id=world.student.pk)),
    ]:
        body = as_user(world.persona(persona)).get(page + "?view=day&date=2026-09-11").content.decode()
        assert "Математика" in body, persona
    other = as_user(world.other_student.user).get(url(world, "index") + "?view=day&date=2026-09-11").content.decode()
    assert "Математика" not in other
    room = as_user(world.deputy).get(url(world, "room", room_id=tt.room.pk) + "?view=day&date=2026-09-11")
    assert "Математика" not in room.content.decode()


def test_merged_lesson_shows_in_both_teachers_timetables(world, tt, timetable, as_user):
    math = Lesson.objects.filter(assignment=tt.math, date=dt.date(2026, 9, 14)).get()
    services.add_entry(
        acting_user=world.deputy,
        assignment=tt.history,
        weekday=1,
        number=1,
        valid_from=dt.date(2026, 9, 14),
        valid_until=dt.date(2026, 9, 14),
    )
    services.generate_lessons(
        acting_user=world.deputy, school=world.school, start=dt.date(2026, 9, 14), end=dt.date(2026, 9, 14)
    )
    history = Lesson.objects.filter(assignment=tt.history, date=dt.date(2026, 9, 14), number=1).get()
    services.record_lesson_change(acting_user=world.deputy, lesson=math, kind="merged", merged_with=history)
    day = "?view=day&date=2026-09-14"
    mine = as_user(world.teacher).get(url(world, "my") + day).content.decode()
    assert "tt-merged" in mine and "Merged with 5-Б" in mine
    theirs = as_user(world.other_teacher).get(url(world, "my") + day).content.decode()
    assert "Merged in: 5-А" in theirs
