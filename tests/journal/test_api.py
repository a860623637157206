"""The journal API: reading the grid, writing cells with versions, 409 on conflicts, bulk, grades, remarks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from classbook.journal import services
from classbook.journal.models import Attendance, JournalChange, Mark, PeriodGrade, Remark
from tests import factories as f
from tests.journal.conftest import GRADES_DAY, IN_TIME

pytestmark = pytest.mark.django_db


def url(world, path):
    return f"/api/v1/schools/{world.school.slug}/journal{path}"


def send(client, method, path, body=None):
    return getattr(client, method)(path, data=json.dumps(body or {}), content_type="application/json")


@time_machine.travel(IN_TIME)
def test_teacher_lists_own_journal_and_reads_its_grid_with_versions(world, journal, as_user):
    services.record_mark(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="10", expected_version=0
    )
    client = as_user(world.teacher)
    listed = client.get(url(world, "/assignments")).json()["items"]
    assert [(a["id"], a["can_edit"]) for a in listed] == [(journal.assignment.pk, True)]
    res = client.get(url(world, f"/assignments/{journal.assignment.pk}/grid?period={journal.semester.pk}"))
    assert res.status_code == 200
    data = res.json()
    assert [s["id"] for s in data["students"]] == [world.student.pk]
    assert [(x["id"], x["version"]) for x in data["lessons"]] == [(journal.lesson.pk, 1)]
    assert [(m["student"], m["value"], m["version"], m["work_type"]) for m in data["marks"]] == [
        (world.student.pk, "10", 1, "current")
    ]
    assert data["accumulation"] == [
        {
            "student": world.student.pk,
            "count": 1,
            "required": 5,
            "average": "10.0",
            "below_rule": True,
            "warnings": [{"code": "too_few_marks", "message": "1 mark in the period; the school's rule asks for 5."}],
        }
    ]


def test_grid_reads_in_a_constant_number_of_queries(world, journal, as_user, django_assert_max_num_queries):
    client = as_user(world.teacher)
    path = url(world, f"/assignments/{journal.assignment.pk}/grid?period={journal.semester.pk}")
    client.get(path)  # warm the session
    # Session and user, school and context (2 since the one-statement session), the assignment, the year's
    # periods (the 404 and the ETag's days; read_grid does not read them again) and the grid's state for the
    # ETag (issue 18: a 304 is answered before the grid is built), then read_grid's other 5 (the school's
    # rules on period grades read nothing more).
    with django_assert_max_num_queries(10) as small:
        assert client.get(path).status_code == 200
    students = [f.make_student(world.class_a) for _ in range(25)]
    with time_machine.travel(IN_TIME):
        for day in range(1, 11):
            lesson = services.create_lesson(
                acting_user=world.teacher, assignment=journal.assignment, date=dt.date(2026, 9, day)
            )
            services.record_lesson_bulk(
                acting_user=world.teacher,
                lesson=lesson,
                marks=[{"student": s.pk, "text": "9", "expected_version": 0} for s in students],
                attendance=[{"student": world.student.pk, "text": "н", "expected_version": 0}],
            )
    with django_assert_max_num_queries(len(small.captured_queries)) as big:
        res = client.get(path)
    assert len(res.json()["marks"]) == 250
    assert len(big.captured_queries) == len(small.captured_queries)


def test_the_grid_read_model_itself_takes_at_most_six_queries(world, journal, django_assert_max_num_queries):
    from classbook.access.context import resolve_school
    from classbook.journal.grid import api_payload, read_grid
    from classbook.journal.queries import readable_assignment

    ctx = resolve_school(world.teacher, world.school.slug)
    assignment = readable_assignment(ctx, journal.assignment.pk)
    # 5 and the journal rules; the school's rules on period grades read what read_grid read.
    with django_assert_max_num_queries(6):
        api_payload(read_grid(ctx, assignment, period_id=journal.semester.pk))


@time_machine.travel(IN_TIME)
def test_the_answer_written_directly_reads_back_as_the_payload(world, journal, as_user):
    """``grid.api_json`` writes marks and attendance itself: the same data as ``json.dumps(api_payload)``."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from classbook.access.context import resolve_school
    from classbook.journal.grid import api_json, api_payload, read_grid
    from classbook.journal.models import WorkType
    from classbook.journal.queries import readable_assignment

    control = WorkType.objects.get(school=world.school, code="control")
    services.record_mark(
        acting_user=world.teacher,
        lesson=journal.lesson,
        student=world.student,
        text="8",
        expected_version=0,
        comment='"Дроби" \\ <b>',
    )
    services.record_mark(
        acting_user=world.teacher,
        lesson=journal.lesson,
        student=world.student,
        text="7",
        expected_version=0,
        work_type=control,
    )
    other = f.make_student(world.class_a)
    services.record_attendance(
        acting_user=world.teacher, lesson=journal.lesson, student=other, text="н", expected_version=0
    )
    ctx = resolve_school(world.teacher, world.school.slug)
    grid = read_grid(ctx, readable_assignment(ctx, journal.assignment.pk), period_id=journal.semester.pk)
    heading = {"id": 1, "subject": "Математика"}
    written = api_json(grid, heading, NinjaJSONEncoder)
    assert len(grid.marks) == 2 and len(grid.attendance) == 1
    assert written == json.dumps({"assignment": heading, **api_payload(grid)}, cls=NinjaJSONEncoder)
    # A period of another year or school is not found (the route reads no period of its own).
    client = as_user(world.teacher)
    foreign = f.PeriodFactory(year=world.foreign_class.year)
    assert client.get(url(world, f"/assignments/{journal.assignment.pk}/grid?period={foreign.pk}")).status_code == 404


@time_machine.travel(IN_TIME)
def test_put_mark_then_stale_put_gets_409_with_current_value(world, journal, as_user):
    client = as_user(world.teacher)
    path = url(world, f"/lessons/{journal.lesson.pk}/marks")
    res = send(client, "put", path, {"student": world.student.pk, "text": "11", "expected_version": 0})
    assert res.status_code == 200 and res.json()["version"] == 1
    res = send(client, "put", path, {"student": world.student.pk, "text": "7", "expected_version": 0})
    assert res.status_code == 409
    assert res.json()["error"]["code"] == "conflict"
    assert res.json()["error"]["current"] == {"value": "11", "version": 1}
    assert Mark.objects.get().value.code == "11"


@pytest.mark.parametrize("bad", ["0", "13", "11+", "10,5", "н/а"])
@time_machine.travel(IN_TIME)
def test_put_mark_off_the_scale_is_422_with_a_message(world, journal, as_user, bad):
    res = send(
        as_user(world.teacher),
        "put",
        url(world, f"/lessons/{journal.lesson.pk}/marks"),
        {"student": world.student.pk, "text": bad, "expected_version": 0},
    )
    assert res.status_code == 422
    assert res.json()["error"]["fields"]["value"]
    assert not Mark.objects.exists()


@time_machine.travel(IN_TIME)
def test_put_attendance_and_conflict(world, journal, as_user):
    client = as_user(world.teacher)
    path = url(world, f"/lessons/{journal.lesson.pk}/attendance")
    res = send(client, "put", path, {"student": world.student.pk, "text": "н", "expected_version": 0})
    assert res.status_code == 200 and res.json()["value"] == "н" and res.json()["version"] == 1
    res = send(client, "put", path, {"student": world.student.pk, "text": "", "expected_version": 0})
    assert res.status_code == 409 and res.json()["error"]["current"] == {"value": "н", "version": 1}


@time_machine.travel(IN_TIME)
def test_create_and_patch_lesson_with_409_on_a_stale_version(world, journal, as_user):
    client = as_user(world.teacher)
    res = send(
        client,
        "post",
        url(world, f"/assignments/{journal.assignment.pk}/lessons"),
        {"date": "2026-10-06", "topic": "Дроби"},
    )
    assert res.status_code == 201
    lesson_id = res.json()["id"]
    path = url(world, f"/lessons/{lesson_id}")
    res = send(client, "patch", path, {"expected_version": 1, "homework": "№ 12, 14", "homework_due": "2026-10-08"})
    assert res.status_code == 200 and res.json()["version"] == 2 and res.json()["topic"] == "Дроби"
    res = send(client, "patch", path, {"expected_version": 1, "topic": "Інше"})
    assert res.status_code == 409
    assert res.json()["error"]["current"]["homework"] == "№ 12, 14"
    assert set(JournalChange.objects.filter(lesson_id=lesson_id).values_list("kind", flat=True)) == {
        "lesson",
        "homework",
    }


@time_machine.travel(IN_TIME)
def test_bulk_api_saves_all_or_answers_with_each_refused_item(world, journal, as_user):
    client = as_user(world.teacher)
    path = url(world, f"/lessons/{journal.lesson.pk}/bulk")
    second = f.make_student(world.class_a)
    res = send(
        client,
        "post",
        path,
        {
            "marks": [{"student": world.student.pk, "text": "10", "expected_version": 0}],
            "attendance": [{"student": second.pk, "text": "н", "expected_version": 0}],
        },
    )
    assert res.status_code == 200
    assert [m["value"] for m in res.json()["marks"]] == ["10"]
    assert [a["value"] for a in res.json()["attendance"]] == ["н"]
    res = send(
        client,
        "post",
        path,
        {
            "marks": [
                {"student": second.pk, "text": "9", "expected_version": 0},
                {"student": world.student.pk, "text": "8", "expected_version": 0},
            ]
        },
    )
    assert res.status_code == 409
    items = res.json()["error"]["items"]
    # The second student is absent: a mark beside the absence is refused unless the item says it replaces.
    assert [(i["section"], i["index"], i["code"]) for i in items] == [
        ("marks", 0, "cell_occupied"),
        ("marks", 1, "conflict"),
    ]
    assert items[0]["holds"] == "н"
    assert items[1]["current"] == {"value": "10", "version": 1}
    assert Mark.objects.count() == 1
    res = send(
        client, "post", path, {"marks": [{"student": second.pk, "text": "13", "expected_version": 0, "replace": True}]}
    )
    assert res.status_code == 422 and res.json()["error"]["items"][0]["code"] == "not_on_scale"


@time_machine.travel(IN_TIME)
def test_cell_history_lists_who_when_old_and_new(world, journal, as_user):
    mark = services.record_mark(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="10", expected_version=0
    )
    services.record_mark(
        acting_user=world.teacher,
        lesson=journal.lesson,
        student=world.student,
        text="11",
        expected_version=mark.version,
        reason="описка",
    )
    res = as_user(world.deputy).get(url(world, f"/lessons/{journal.lesson.pk}/history?student={world.student.pk}"))
    assert res.status_code == 200
    assert [(c["old_value"], c["new_value"], c["reason"], c["actor"]) for c in res.json()["items"]] == [
        ("", "10", "", world.teacher.short_name),
        ("10", "11", "описка", world.teacher.short_name),
    ]


def test_period_grade_set_locked_and_corrected_over_the_api(world, journal, as_user):
    with time_machine.travel(GRADES_DAY):
        res = send(
            as_user(world.teacher),
            "put",
            url(world, f"/assignments/{journal.assignment.pk}/period-grades"),
            {
                "student": world.student.pk,
                "period": journal.semester.pk,
                "kind": "period",
                "text": "9",
                "expected_version": 0,
            },
        )
        assert res.status_code == 200 and res.json()["locked"]
        grade_id = res.json()["id"]
        res = send(
            as_user(world.teacher),
            "put",
            url(world, f"/assignments/{journal.assignment.pk}/period-grades"),
            {
                "student": world.student.pk,
                "period": journal.semester.pk,
                "kind": "period",
                "text": "10",
                "expected_version": 1,
            },
        )
        assert res.status_code == 422 and res.json()["error"]["code"] == "grade_locked"
    body = {"text": "10", "reason": "Заява батьків", "order_ref": "Наказ № 7"}
    with time_machine.travel(dt.datetime(2026, 12, 28, 9, 0, tzinfo=dt.UTC)):
        res = send(as_user(world.deputy), "post", url(world, f"/period-grades/{grade_id}/correction"), body)
        assert res.status_code == 422 and res.json()["error"]["code"] == "correction_too_late"
    with time_machine.travel(dt.datetime(2026, 12, 27, 9, 0, tzinfo=dt.UTC)):
        res = send(as_user(world.deputy), "post", url(world, f"/period-grades/{grade_id}/correction"), body)
    assert res.status_code == 201 and res.json()["kind"] == "corrected" and res.json()["value"] == "10"
    assert sorted(PeriodGrade.objects.values_list("kind", "value__code")) == [("corrected", "10"), ("period", "9")]


@time_machine.travel(IN_TIME)
def test_remarks_added_by_deputy_listed_for_teacher_and_fixed(world, journal, as_user):
    res = send(
        as_user(world.deputy),
        "post",
        url(world, f"/assignments/{journal.assignment.pk}/remarks"),
        {"text": "Не заповнено домашнє завдання", "lesson": journal.lesson.pk},
    )
    assert res.status_code == 201
    remark_id = res.json()["id"]
    teacher = as_user(world.teacher)
    assert [r["id"] for r in teacher.get(url(world, "/remarks")).json()["items"]] == [remark_id]
    assert as_user(world.other_teacher).get(url(world, "/remarks")).json()["items"] == []
    res = send(teacher, "post", url(world, f"/remarks/{remark_id}/fix"), {"note": "Заповнено"})
    assert res.status_code == 200 and res.json()["fixed_by"] == world.teacher.short_name
    assert teacher.get(url(world, "/remarks")).json()["items"] == []
    assert [r["id"] for r in teacher.get(url(world, "/remarks?status=fixed")).json()["items"]] == [remark_id]


@time_machine.travel(IN_TIME)
def test_class_teacher_records_a_reason_over_the_api(world, journal, as_user):
    row = services.record_attendance(
        acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
    )
    res = send(
        as_user(world.class_teacher),
        "put",
        url(world, f"/attendance/{row.pk}/reason"),
        {"reason": "Хворів", "expected_version": 1},
    )
    assert res.status_code == 200 and res.json()["reason"] == "Хворів" and res.json()["version"] == 2
    assert Attendance.objects.get().reason == "Хворів"
    assert Remark.objects.count() == 0


@time_machine.travel(IN_TIME)
def test_api_lists_cost_the_same_with_more_rows(world, journal, as_user, django_assert_max_num_queries):
    client = as_user(world.deputy)
    lists = [
        url(world, "/assignments"),
        url(world, "/remarks?status=all"),
        url(world, f"/lessons/{journal.lesson.pk}/history?student={world.student.pk}"),
    ]

    def add_rows(n):
        for i in range(n):
            services.add_remark(acting_user=world.deputy, assignment=journal.assignment, text=f"Зауваження {i}")
            f.make_assignment(world.other_teacher, world.class_a, f.SubjectFactory(school=world.school))
        mark = services.record_mark(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="5", expected_version=0
        )
        for i in range(n):
            mark = services.record_mark(
                acting_user=world.teacher,
                lesson=journal.lesson,
                student=world.student,
                text=str(6 + i % 6),
                expected_version=mark.version,
            )

    add_rows(1)
    baseline = {}
    for path in lists:
        client.get(path)
        with django_assert_max_num_queries(12) as ctx:
            assert client.get(path).status_code == 200
        baseline[path] = len(ctx.captured_queries)
    Mark.objects.all().delete()  # marks only; the history rows stay (append-only)
    add_rows(12)
    for path in lists:
        with django_assert_max_num_queries(baseline[path]):
            assert len(client.get(path).json()) > 1
