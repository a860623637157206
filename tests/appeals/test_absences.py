"""The class teacher's absences page and bulk reasons (R2.8): audited per absence, all or nothing, scoped."""

from __future__ import annotations

import pytest

from classbook.journal.models import Attendance, JournalChange
from tests import factories as f
from tests.appeals.conftest import MON, TUE, WED, absent, api, page, send

pytestmark = pytest.mark.django_db


def _post_reasons(client, world, rows, **fields):
    data = {
        "class": world.class_a.pk,
        "from": "2026-10-01",
        "to": "2026-10-07",
        "absence": [f"{r.pk}:{r.version}" for r in rows],
        **fields,
    }
    return client.post(page(world, "/absences/reasons/"), data)


def test_class_teacher_gives_one_reason_to_several_absences_audited_per_absence(world, week, as_user):
    rows = list(week.absences.values())
    response = _post_reasons(
        as_user(world.class_teacher), world, rows, kind="illness", reason="довідка № 17", excused="1"
    )
    assert response.status_code == 302
    for row in Attendance.objects.filter(pk__in=[r.pk for r in rows]):
        assert (row.reason, row.reason_kind, row.reason_excused) == ("довідка № 17", "illness", True)
        assert row.reason_recorded_by == world.class_teacher and row.version == 2
    changes = JournalChange.objects.filter(kind="reason").order_by("lesson__date")
    assert [(c.lesson.date, c.old_value, c.new_value, c.actor) for c in changes] == [
        (MON, "", "[Illness, excused] довідка № 17", world.class_teacher),
        (TUE, "", "[Illness, excused] довідка № 17", world.class_teacher),
    ]


def test_changing_a_reason_keeps_the_old_one_in_the_trail(world, week, as_user):
    client = as_user(world.class_teacher)
    _post_reasons(client, world, [week.absences[MON]], kind="family", reason="сімейні")
    _post_reasons(client, world, [Attendance.objects.get(pk=week.absences[MON].pk)], kind="illness", excused="1")
    last = JournalChange.objects.filter(kind="reason").order_by("-id").first()
    assert (last.old_value, last.new_value) == ("[Family circumstances, not excused] сімейні", "[Illness, excused]")


def test_page_lists_absences_and_a_summary_per_student(world, week, as_user):
    _post_reasons(as_user(world.class_teacher), world, [week.absences[MON]], kind="illness", excused="1")
    response = as_user(world.class_teacher).get(page(world, f"/absences/?class={world.class_a.pk}&from=2026-10-01"))
    assert response.status_code == 200
    summary = {s.student.pk: (s.total, s.excused, s.unexcused) for s in response.context["summary"]}
    assert summary == {world.student.pk: (2, 1, 1)}
    assert [r.pk for d in response.context["days"] for r in d.rows] == [a.pk for a in week.absences.values()]
    assert response.context["can_edit"] is True
    assert "Record the reason" in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("class_teacher", 200),
        ("deputy", 200),
        ("director", 200),
        ("admin", 200),
        ("teacher", 403),
        ("other_teacher", 403),
        ("secretary", 403),
        ("student", 403),
        ("parent", 403),
        ("viewer", 403),
        ("foreign_admin", 404),
        ("anonymous", 302),
    ],
)
def test_absences_page_is_for_the_class_teacher_and_the_administration(world, week, as_user, persona, status):
    response = as_user(world.persona(persona)).get(page(world, "/absences/"))
    assert response.status_code == status


def test_administration_reads_but_does_not_record(world, week, as_user):
    response = as_user(world.deputy).get(page(world, f"/absences/?class={world.class_a.pk}&from=2026-10-01"))
    assert response.context["can_edit"] is False and "Record the reason" not in response.content.decode()
    _post_reasons(as_user(world.deputy), world, list(week.absences.values()), reason="хворів")
    assert not JournalChange.objects.filter(kind="reason").exists()
    assert set(Attendance.objects.values_list("reason", flat=True)) == {""}


def test_class_teacher_cannot_open_or_write_another_class(world, week, as_user):
    other_lesson = f.make_assignment(world.other_teacher, world.class_b).lessons.create(
        school=world.school, date=MON, created_by=world.other_teacher
    )
    foreign = absent(world, other_lesson, world.other_student)
    client = as_user(world.class_teacher)
    assert client.get(page(world, f"/absences/?class={world.class_b.pk}")).status_code == 404
    assert client.get(page(world, f"/absences/?class={world.foreign_class.pk}")).status_code == 404
    # Another class's absence smuggled into the request for one's own class: 404, nothing written.
    response = _post_reasons(client, world, [week.absences[MON], foreign], reason="хворів")
    assert response.status_code == 404
    assert not JournalChange.objects.filter(kind="reason").exists()
    res = send(
        client,
        "post",
        api(world, f"/classes/{world.class_a.pk}/absence-reasons"),
        {"absences": [{"attendance": foreign.pk, "expected_version": 1}], "reason": "x"},
    )
    assert res.status_code == 404 and res.json()["error"]["code"] == "not_found"


def test_a_stale_absence_refuses_the_whole_request(world, week, as_user):
    stale = week.absences[TUE]
    client = as_user(world.class_teacher)
    _post_reasons(client, world, [stale], reason="перше")
    response = _post_reasons(client, world, [week.absences[MON], stale], reason="друге")  # stale still at version 1
    assert response.status_code == 302
    assert Attendance.objects.get(pk=week.absences[MON].pk).reason == ""
    assert Attendance.objects.get(pk=stale.pk).reason == "перше"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": "", "kind": ""}, "Give the reason or choose its kind."),
        ({"reason": "x", "kind": "holiday"}, "Select a valid choice."),
        ({"reason": "x" * 301}, "Ensure this value has at most 300 characters"),
    ],
)
def test_bad_reasons_are_refused_with_a_message(world, week, as_user, fields, message):
    client = as_user(world.class_teacher)
    response = _post_reasons(client, world, list(week.absences.values()), **fields)
    assert response.status_code == 302
    assert message in client.get(response["Location"]).content.decode()
    assert not JournalChange.objects.filter(kind="reason").exists()


def test_reversed_range_on_the_page_shows_the_last_week_with_a_message(world, week, as_user):
    response = as_user(world.class_teacher).get(page(world, "/absences/?from=2026-10-07&to=2026-10-01"))
    assert response.status_code == 200
    assert "The last day is before the first day" in response.content.decode()
    assert response.context["start"] == WED.replace(day=1) and response.context["end"] == WED


def test_api_lists_records_and_summarises(world, week, as_user):
    client = as_user(world.class_teacher)
    base = f"/classes/{world.class_a.pk}"
    listed = client.get(api(world, f"{base}/absences?start=2026-10-01&end=2026-10-07")).json()["items"]
    assert [(a["date"], a["code"], a["version"]) for a in listed] == [("2026-10-05", "н", 1), ("2026-10-06", "н", 1)]
    res = send(
        client,
        "post",
        api(world, f"{base}/absence-reasons"),
        {
            "absences": [{"attendance": a["id"], "expected_version": a["version"]} for a in listed],
            "kind": "illness",
            "reason": "хворів",
            "excused": True,
        },
    )
    assert res.status_code == 200 and {a["excused"] for a in res.json()} == {True}
    summary = client.get(api(world, f"{base}/absence-summary?start=2026-10-01&end=2026-10-07")).json()["items"]
    assert [(s["total"], s["excused"], s["unexcused"]) for s in summary] == [(2, 2, 0)]
    stale = send(
        client,
        "post",
        api(world, f"{base}/absence-reasons"),
        {"absences": [{"attendance": listed[0]["id"], "expected_version": 1}], "reason": "інше"},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    reversed_range = client.get(api(world, f"{base}/absences?start=2026-10-07&end=2026-10-01"))
    assert reversed_range.status_code == 422 and reversed_range.json()["error"]["code"] == "invalid_range"


@pytest.mark.parametrize("persona", ["teacher", "student", "parent", "viewer", "foreign_admin"])
def test_api_absences_are_hidden_from_others(world, week, as_user, persona):
    res = as_user(world.persona(persona)).get(
        api(world, f"/classes/{world.class_a.pk}/absences?start=2026-10-01&end=2026-10-07")
    )
    assert res.status_code == 404


def test_api_anonymous_gets_401(world, week, client):
    res = client.get(api(world, f"/classes/{world.class_a.pk}/absences?start=2026-10-01&end=2026-10-07"))
    assert res.status_code == 401


def test_absences_page_costs_the_same_with_more_students(world, week, as_user, django_assert_max_num_queries):
    client = as_user(world.class_teacher)
    url = page(world, f"/absences/?class={world.class_a.pk}&from=2026-10-01&to=2026-10-07")
    with django_assert_max_num_queries(30) as small:
        client.get(url)
    for _i in range(8):
        student = f.make_student(world.class_a)
        for day in (MON, TUE, WED):
            absent(world, week.lessons[day], student)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["summary"]) == 9


def test_existing_pages_link_to_the_absences_and_flags(world, week, as_user):
    client = as_user(world.class_teacher)
    absences_url = page(world, f"/absences/?class={world.class_a.pk}")
    class_page = client.get(f"/s/{world.school.slug}/roster/classes/{world.class_a.pk}/").content.decode()
    assert absences_url in class_page
    card = client.get(f"/s/{world.school.slug}/roster/students/{world.student.pk}/").content.decode()
    assert f"{absences_url}&amp;student={world.student.pk}" in card
    grid = as_user(world.teacher).get(f"/s/{world.school.slug}/journal/{week.journal.assignment.pk}/").content.decode()
    assert page(world, "/flags/") in grid
    nav = as_user(world.parent).get(f"/s/{world.school.slug}/").content.decode()
    assert page(world, "/reports/") in nav and page(world, "/flags/") in nav and page(world, "/absences/") not in nav


def test_student_filter_shows_one_students_absences(world, week, as_user):
    other = f.make_student(world.class_a)
    absent(world, week.lessons[MON], other)
    client = as_user(world.class_teacher)
    response = client.get(page(world, f"/absences/?class={world.class_a.pk}&from=2026-10-01&student={other.pk}"))
    assert [d.student.pk for d in response.context["days"]] == [other.pk]
    assert len(response.context["summary"]) == 2
