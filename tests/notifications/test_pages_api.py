"""The bell page, the API, preferences and the class teacher's notices: each person sees and changes
only their own notifications, in the school of the URL; notices only by the class teacher."""

from __future__ import annotations

import time_machine

from classbook.core.models import AuditEntry
from classbook.journal import services as jservices
from classbook.journal.models import AttendanceCode, Lesson
from classbook.notifications import services
from classbook.notifications.models import ClassNotice, Kind, NoticePolicy, Notification
from tests import factories as f
from tests.notifications.conftest import IN_TIME


def make(world, user, school=None, n=1, kind=Kind.ANNOUNCEMENT):
    for i in range(n):
        services.notify(
            school=school or world.school,
            kind=kind,
            user_ids=[user.pk],
            params={"title": f"Title {i}", "text": f"Text {i}"},
            event_key=f"test:{user.pk}:{i}:{(school or world.school).pk}",
        )


def test_bell_page_lists_own_notifications_of_this_school(world, as_user, django_assert_max_num_queries):
    make(world, world.parent, n=3)
    make(world, world.other_parent, n=1)
    make(world, world.parent, school=world.other_school, n=1)  # another school's row: not on this page
    page = as_user(world.parent)
    with django_assert_max_num_queries(14) as few:
        answer = page.get("/s/lyceum-1/notifications/")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert text.count("Title ") == 3
    assert 'id="unread-count">3<' in text
    make(world, world.parent, n=30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert page.get("/s/lyceum-1/notifications/").status_code == 200


def test_mark_read_touches_only_own_rows(world, as_user):
    make(world, world.parent, n=2)
    make(world, world.other_parent, n=1)
    theirs = Notification.objects.get(user=world.other_parent)
    mine = Notification.objects.filter(user=world.parent).first()
    client = as_user(world.parent)
    assert client.post("/s/lyceum-1/notifications/", {"id": [theirs.pk, mine.pk]}).status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert Notification.objects.filter(user=world.parent, read_at__isnull=True).count() == 1
    client.post("/s/lyceum-1/notifications/", {"all": "1"})
    assert not Notification.objects.filter(user=world.parent, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_list_and_read(world, as_user):
    make(world, world.parent, n=2)
    make(world, world.other_parent, n=1)
    api = as_user(world.parent)
    listing = api.get("/api/v1/schools/lyceum-1/notifications").json()
    assert listing["unread"] == 2
    assert [i["title"] for i in listing["items"]] == ["Title 1", "Title 0"]
    other = Notification.objects.get(user=world.other_parent).pk
    answer = api.post(
        "/api/v1/schools/lyceum-1/notifications/read",
        {"ids": [listing["items"][0]["id"], other]},
        content_type="application/json",
    ).json()
    assert answer == {"marked": 1, "unread": 1}
    assert api.post("/api/v1/schools/lyceum-1/notifications/read", {}, content_type="application/json").json() == {
        "marked": 1,
        "unread": 0,
    }
    # Another school's list: 404 for someone without a role there; anonymous: 401.
    assert api.get("/api/v1/schools/gymnasium-2/notifications").status_code == 404
    assert as_user(None).get("/api/v1/schools/lyceum-1/notifications").status_code == 401
    assert as_user(None).get("/s/lyceum-1/notifications/").status_code == 302


def test_preferences_api_and_page(world, as_user):
    api = as_user(world.parent)
    rows = api.get("/api/v1/me/notification-preferences").json()
    # Notices about the person's own account are always sent: not a preference (issue 9).
    assert {r["kind"] for r in rows} == set(Kind.values) - {Kind.ACCOUNT}
    assert next(r for r in rows if r["kind"] == "mark")["digest"] is True
    changed = api.put(
        "/api/v1/me/notification-preferences",
        [{"kind": "mark", "in_app": True, "email": False, "telegram": False, "digest": False}],
        content_type="application/json",
    ).json()
    assert next(r for r in changed if r["kind"] == "mark")["email"] is False
    bad = api.put("/api/v1/me/notification-preferences", [{"kind": "gossip"}], content_type="application/json")
    assert bad.status_code == 422
    always = [{"kind": "account", "in_app": False, "email": False, "telegram": False, "digest": False}]
    assert api.put("/api/v1/me/notification-preferences", always, content_type="application/json").status_code == 422
    page = api.post(
        "/s/lyceum-1/notifications/settings/",
        {"kind": ["absence"], "absence-in_app": "on", "absence-digest": "on"},
    )
    assert page.status_code == 302
    absence = next(r for r in services.preferences(world.parent) if r["kind"] == "absence")
    assert (absence["in_app"], absence["email"], absence["telegram"], absence["digest"]) == (True, False, False, True)
    assert api.get("/s/lyceum-1/notifications/settings/").status_code == 200


def _absences(world, journal, student, count):
    code = AttendanceCode.objects.get(school=world.school, code="н")
    for i in range(count):
        lesson = jservices.create_lesson(
            acting_user=world.teacher, assignment=journal.assignment, date=journal.lesson.date, number=i + 1
        )
        jservices.record_attendance(
            acting_user=world.teacher,
            lesson=Lesson.objects.select_related("assignment", "school").get(pk=lesson.pk),
            student=student,
            text=code.code,
            expected_version=0,
        )


@time_machine.travel(IN_TIME)
def test_class_teacher_previews_and_sends_notices(world, journal, family, as_user, committed):
    NoticePolicy.objects.create(school=world.school, absences_at_least=2, window_days=30)
    classmate = f.make_student(world.class_a, user=f.UserFactory(username="classmate"))
    classmate_parent = f.make_parent(classmate, username="classmateparent")
    _absences(world, journal, world.student, 2)
    teacher = as_user(world.class_teacher)
    preview = teacher.get(f"/api/v1/schools/lyceum-1/classes/{world.class_a.pk}/notices").json()["items"]
    assert [(c["student_id"], c["absences"], c["often_absent"]) for c in preview] == [(world.student.pk, 2, True)]
    assert teacher.get(f"/s/lyceum-1/notifications/class/{world.class_a.pk}/notices/").status_code == 200

    # Nobody else may look or send: another teacher, the subject teacher, a parent, a student, another school.
    for user in (world.other_teacher, world.teacher, world.parent, world.student.user, world.foreign_admin):
        client = as_user(user)
        assert client.get(f"/s/lyceum-1/notifications/class/{world.class_a.pk}/notices/").status_code == 404
        assert (
            client.post(
                f"/api/v1/schools/lyceum-1/classes/{world.class_a.pk}/notices",
                {"students": [world.student.pk]},
                content_type="application/json",
            ).status_code
            == 404
        )
    assert (
        as_user(world.class_teacher).get(f"/s/lyceum-1/notifications/class/{world.class_b.pk}/notices/").status_code
        == 404
    )

    with committed():
        answer = teacher.post(
            f"/api/v1/schools/lyceum-1/classes/{world.class_a.pk}/notices",
            {"students": [world.student.pk, classmate.pk]},  # the classmate is under no threshold: ignored
            content_type="application/json",
        )
    assert answer.status_code == 200, answer.content
    assert [n["student_id"] for n in answer.json()] == [world.student.pk]
    notice = ClassNotice.objects.get()
    assert (notice.absences, notice.recipients, notice.sent_by) == (2, 1, world.class_teacher)
    assert AuditEntry.objects.filter(action="notifications.class_notice.sent").count() == 1
    told = set(Notification.objects.filter(kind=Kind.CLASS_NOTICE).values_list("user__username", flat=True))
    assert told == {"parent"}  # the parent who may see; not the student, the restricted or former guardian
    assert classmate_parent.notifications.count() == 0
    refused = teacher.post(
        f"/api/v1/schools/lyceum-1/classes/{world.class_a.pk}/notices",
        {"students": [classmate.pk]},
        content_type="application/json",
    )
    assert refused.status_code == 422


def test_other_apps_notify_through_the_task(world, as_user):
    from classbook.notifications import tasks

    tasks.notify_users.enqueue(
        world.school.pk, Kind.MESSAGE, [world.parent.pk], "message:1", {"title": "Meeting", "text": "Tomorrow"}, "/x"
    )
    tasks.notify_users.enqueue(
        world.school.pk, Kind.MESSAGE, [world.parent.pk], "message:1", {"title": "Meeting", "text": "Tomorrow"}, "/x"
    )
    items = as_user(world.parent).get("/api/v1/schools/lyceum-1/notifications").json()["items"]
    assert [(i["title"], i["body"], i["url"]) for i in items] == [("Meeting", "Tomorrow", "/x")]
