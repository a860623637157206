"""Students and parents flag marks; the journal's teacher confirms or corrects (R2.11): scoped and audited."""

from __future__ import annotations

import pytest

from classbook.appeals import services
from classbook.appeals.models import MarkFlag
from classbook.appeals.signals import mark_flag_answered, mark_flag_submitted
from classbook.core.models import AuditEntry
from classbook.journal import services as journal_services
from classbook.journal.models import JournalChange, Mark
from classbook.people.models import GuardianLink
from tests import factories as f
from tests.appeals.conftest import MON, TUE, WED, api, page, send

pytestmark = pytest.mark.django_db


def _mark(world, week, student=None, text="7", day=WED, replace=False):
    # world.student was absent on MON and TUE: a mark there replaces the absence (issue 10: one entry per cell).
    return journal_services.record_mark(
        acting_user=world.teacher,
        lesson=week.lessons[day],
        student=student or world.student,
        text=text,
        expected_version=0,
        replace=replace,
    )


def _flag(world, mark, user=None):
    return services.flag_mark(acting_user=user or world.student.user, mark=mark, comment="Я відповідав на 10")


def test_student_flags_own_mark_and_the_teacher_sees_and_confirms_it(
    world, week, as_user, django_capture_on_commit_callbacks
):
    mark = _mark(world, week)
    events = []
    mark_flag_submitted.connect(
        lambda sender, instance, **kw: events.append(("submitted", sender)), weak=False, dispatch_uid="test"
    )
    mark_flag_answered.connect(
        lambda sender, instance, **kw: events.append((instance.status, sender)), weak=False, dispatch_uid="test"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            res = send(
                as_user(world.student.user), "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "Чому 7?"}
            )
        assert res.status_code == 201 and res.json()["value_when_flagged"] == "7"
        flag_id = res.json()["id"]
        teacher = as_user(world.teacher)
        assert [x["id"] for x in teacher.get(api(world, "/mark-flags?status=open")).json()["items"]] == [flag_id]
        assert "Чому 7?" in teacher.get(page(world, "/flags/")).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            res = send(
                teacher,
                "post",
                api(world, f"/mark-flags/{flag_id}/answer"),
                {"outcome": "confirm", "answer": "Неповна"},
            )
    finally:
        mark_flag_submitted.disconnect(dispatch_uid="test")  # only this test's receiver
        mark_flag_answered.disconnect(dispatch_uid="test")  # only this test's receiver
    assert res.status_code == 200 and res.json()["status"] == "confirmed"
    assert events == [("submitted", MarkFlag), ("confirmed", MarkFlag)]
    assert Mark.objects.get(pk=mark.pk).value.code == "7"
    seen = as_user(world.student.user).get(api(world, "/mark-flags")).json()["items"]
    assert [(x["status"], x["answer"], x["answered_by"]) for x in seen] == [
        ("confirmed", "Неповна", world.teacher.short_name)
    ]
    assert AuditEntry.objects.filter(action="appeals.mark_flag.confirmed", actor=world.teacher).exists()


def test_parent_flags_from_the_page_and_the_correction_goes_through_the_journal(world, week, as_user):
    mark = _mark(world, week)
    client = as_user(world.parent)
    listing = client.get(page(world, "/flags/"))
    assert [m.pk for m in listing.context["marks"]] == [mark.pk]
    assert client.post(page(world, f"/marks/{mark.pk}/flag/"), {"comment": "Помилка"}).status_code == 302
    flag = MarkFlag.objects.get()
    assert flag.flagged_by == world.parent and flag.assignment == week.journal.assignment
    response = as_user(world.teacher).post(
        page(world, f"/flags/{flag.pk}/answer/"), {"outcome": "correct", "text": "10", "answer": "Так, помилка"}
    )
    assert response.status_code == 302
    flag.refresh_from_db()
    assert (flag.status, flag.new_value, flag.answered_by) == ("corrected", "10", world.teacher)
    mark.refresh_from_db()
    assert mark.value.code == "10" and mark.version == 2
    change = JournalChange.objects.filter(kind="mark").order_by("-id").first()
    assert (change.old_value, change.new_value, change.actor) == ("7", "10", world.teacher)
    assert change.reason == f"Flagged mark No {flag.pk}: Так, помилка"
    assert "Так, помилка" in client.get(page(world, "/flags/")).content.decode()


@pytest.mark.parametrize(
    "persona", ["other_student", "other_parent", "foreign_student", "teacher", "class_teacher", "deputy", "viewer"]
)
def test_nobody_else_flags_the_mark(world, week, as_user, persona):
    mark = _mark(world, week)
    res = send(as_user(world.persona(persona)), "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "x"})
    assert res.status_code in (403, 404)
    response = as_user(world.persona(persona)).post(page(world, f"/marks/{mark.pk}/flag/"), {"comment": "x"})
    assert response.status_code in (403, 404)
    assert not MarkFlag.objects.exists()


def test_a_student_cannot_flag_another_students_mark_by_id(world, week, as_user):
    other_lesson = week.journal.other_assignment.lessons.create(
        school=world.school, date=MON, created_by=world.other_teacher
    )
    other_mark = journal_services.record_mark(
        acting_user=world.other_teacher, lesson=other_lesson, student=world.other_student, text="5", expected_version=0
    )
    res = send(as_user(world.student.user), "post", api(world, "/mark-flags"), {"mark": other_mark.pk, "comment": "x"})
    assert res.status_code == 404
    with pytest.raises(services.PermissionDeniedError):
        _flag(world, other_mark)


@pytest.mark.parametrize("link", [{"may_see": False}, {"ended_on": "2026-10-01"}])
def test_a_restricted_or_ended_parent_cannot_flag_or_read_flags(world, week, as_user, link):
    mark = _mark(world, week)
    _flag(world, mark)
    GuardianLink.objects.filter(guardian=world.parent).update(**link)
    client = as_user(world.parent)
    assert send(client, "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "x"}).status_code == 404
    assert client.get(api(world, "/mark-flags")).status_code == 403  # as the page: no child they may see


@pytest.mark.parametrize(("persona", "status"), [("class_teacher", 403), ("deputy", 403), ("other_teacher", 404)])
def test_only_the_journals_teacher_answers(world, week, as_user, persona, status):
    flag = _flag(world, _mark(world, week))
    res = send(
        as_user(world.persona(persona)),
        "post",
        api(world, f"/mark-flags/{flag.pk}/answer"),
        {"outcome": "correct", "text": "12", "answer": "x"},
    )
    assert res.status_code == status
    assert MarkFlag.objects.get().status == "open" and Mark.objects.get().value.code == "7"


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("student", 1),
        ("parent", 1),
        ("teacher", 1),
        ("class_teacher", 1),
        ("deputy", 1),
        ("other_teacher", 0),
        ("other_student", 0),
        ("other_parent", 0),
        ("viewer", None),  # refused (403), as by the page (access.appeals.may_open_flags)
    ],
)
def test_flag_lists_are_scoped(world, week, as_user, persona, visible):
    _flag(world, _mark(world, week))
    res = as_user(world.persona(persona)).get(api(world, "/mark-flags"))
    assert res.status_code == (403 if visible is None else 200)
    assert visible is None or len(res.json()["items"]) == visible == res.json()["count"]


def test_foreign_school_and_anonymous_get_nothing(world, week, as_user, client):
    _flag(world, _mark(world, week))
    assert as_user(world.foreign_admin).get(api(world, "/mark-flags")).status_code == 404
    assert client.get(api(world, "/mark-flags")).status_code == 401
    assert client.get(page(world, "/flags/")).status_code == 302


def test_bad_flags_and_answers_change_nothing(world, week, as_user):
    mark = _mark(world, week)
    student = as_user(world.student.user)
    empty = send(student, "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "  "})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "required"
    assert send(student, "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "x"}).status_code == 201
    twice = send(student, "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "ще раз"})
    assert twice.status_code == 422 and twice.json()["error"]["code"] == "already_flagged"
    flag = MarkFlag.objects.get()
    teacher = as_user(world.teacher)
    url = api(world, f"/mark-flags/{flag.pk}/answer")
    for body, code in [
        ({"outcome": "correct", "text": "7", "answer": "x"}, "same_mark"),
        ({"outcome": "correct", "text": "99", "answer": "x"}, None),
        ({"outcome": "correct", "text": "", "answer": "x"}, "required"),
        ({"outcome": "confirm", "answer": ""}, "required"),
        ({"outcome": "maybe", "answer": "x"}, "invalid"),
    ]:
        res = send(teacher, "post", url, body)
        assert res.status_code == 422, body
        if code:
            assert res.json()["error"]["code"] == code
    assert MarkFlag.objects.get().status == "open"
    assert Mark.objects.get().value.code == "7" and Mark.objects.get().version == 1
    assert send(teacher, "post", url, {"outcome": "confirm", "answer": "ok"}).status_code == 200
    again = send(teacher, "post", url, {"outcome": "confirm", "answer": "ok"})
    assert again.status_code == 422 and again.json()["error"]["code"] == "already_answered"


def test_a_cleared_mark_cannot_be_flagged(world, week, as_user):
    mark = _mark(world, week)
    journal_services.record_mark(
        acting_user=world.teacher, lesson=week.lessons[WED], student=world.student, text="", expected_version=1
    )
    res = send(as_user(world.student.user), "post", api(world, "/mark-flags"), {"mark": mark.pk, "comment": "x"})
    assert res.status_code == 404
    assert not MarkFlag.objects.exists()


def test_flags_page_costs_the_same_with_more_flags(world, week, as_user, django_assert_max_num_queries):
    teacher, parent = as_user(world.teacher), as_user(world.parent)
    _flag(world, _mark(world, week))
    with django_assert_max_num_queries(30) as small:
        teacher.get(page(world, "/flags/"))
    with django_assert_max_num_queries(30) as small_parent:
        parent.get(page(world, "/flags/"))
    for i in range(6):
        student = f.make_student(world.class_a)
        flag = _flag(world, _mark(world, week, student=student, day=TUE if i % 2 else MON), user=student.user)
        if i % 2:
            services.answer_mark_flag(acting_user=world.teacher, flag=flag, correct=False, answer="ok")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = teacher.get(page(world, "/flags/"))
    assert len(response.context["open_flags"]) + len(response.context["answered"]) == 7
    _mark(world, week, day=TUE, replace=True)
    with django_assert_max_num_queries(len(small_parent.captured_queries)):
        response = parent.get(page(world, "/flags/"))
    assert len(response.context["marks"]) == 2


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("student", 200),
        ("parent", 200),
        ("teacher", 200),
        ("class_teacher", 200),
        ("deputy", 200),
        ("secretary", 403),
        ("viewer", 403),
        ("foreign_admin", 404),
        ("anonymous", 302),
    ],
)
def test_flags_page_is_for_families_teachers_and_the_administration(world, week, as_user, persona, status):
    assert as_user(world.persona(persona)).get(page(world, "/flags/")).status_code == status
