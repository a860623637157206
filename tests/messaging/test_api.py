"""The messaging API: the same rules as the pages, structured errors, 404 for ids the caller may not see."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.messaging.models import Announcement, Conversation, ForumReply, Message, MessageAttachment
from classbook.people.models import GuardianLink
from tests.conftest import client_for
from tests.messaging.conftest import ctx_of, pdf, start


def api(world, path: str, school=None) -> str:
    return f"/api/v1/schools/{(school or world.school).slug}{path}"


def post_json(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_start_reply_and_read_over_the_api(world):
    parent = client_for(world.parent)
    res = parent.get(api(world, f"/messages/recipients?student_id={world.student.pk}"))
    assert {p["id"] for p in res.json()["items"]} == {
        world.teacher.pk,
        world.class_teacher.pk,
        world.director.pk,
        world.deputy.pk,
    }
    res = parent.post(
        api(world, "/messages/conversations"),
        {
            "recipient_ids": [world.class_teacher.pk],
            "student_id": world.student.pk,
            "subject": "Довідка",
            "body": "Доньки не буде",
            "files": [pdf()],
        },
    )
    assert res.status_code == 201, res.content
    conv = res.json()
    assert conv["messages"][0]["attachments"][0]["name"] == "note.pdf"

    teacher = client_for(world.class_teacher)
    assert teacher.get(api(world, "/messages/unread")).json() == {"unread": 1}
    listing = teacher.get(api(world, "/messages/conversations")).json()
    assert listing["count"] == 1 and listing["items"][0]["unread"] is True
    file_url = conv["messages"][0]["attachments"][0]["url"]
    download = teacher.get(file_url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"%PDF-1.4 test"
    assert teacher.post(api(world, f"/messages/conversations/{conv['id']}/read")).status_code == 204
    assert teacher.get(api(world, "/messages/unread")).json() == {"unread": 0}
    res = teacher.post(api(world, f"/messages/conversations/{conv['id']}/messages"), {"body": "Дякую, зрозуміло"})
    assert res.status_code == 201
    detail = parent.get(api(world, f"/messages/conversations/{conv['id']}")).json()
    assert [m["body"] for m in detail["messages"]] == ["Доньки не буде", "Дякую, зрозуміло"]
    assert detail["messages"][0]["read_by"] == [world.class_teacher.pk]


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"recipient_ids": [9999999], "body": "Hi"}, 403, None),
        ({"body": "Hi"}, 422, "recipient_ids"),
        ({"recipient_ids": [0], "body": "   "}, 422, "body"),
        ({"recipient_ids": [0], "body": "x" * 5001}, 422, "body"),
        ({"recipient_ids": [0], "body": "Hi", "files": [SimpleUploadedFile("x.exe", b"MZ")]}, 422, "files"),
    ],
)
def test_bad_input_is_a_structured_error_and_nothing_saved(world, data, status, field):
    data = {**data, "student_id": world.student.pk}
    data["recipient_ids"] = [world.teacher.pk if r == 0 else r for r in data.get("recipient_ids", [])] or []
    if not data["recipient_ids"]:
        del data["recipient_ids"]
    res = client_for(world.parent).post(api(world, "/messages/conversations"), data)
    assert res.status_code == status, res.content
    error = res.json()["error"]
    assert error["message"]
    if field:
        assert field in error.get("fields", {}), error
    assert not Conversation.objects.exists() and not Message.objects.exists() and not MessageAttachment.objects.exists()


def test_parent_cannot_write_to_another_parent_over_the_api(world):
    res = client_for(world.parent).post(
        api(world, "/messages/conversations"),
        {"recipient_ids": [world.other_parent.pk], "student_id": world.student.pk, "body": "Hi"},
    )
    assert res.status_code == 403 and res.json()["error"]["code"] == "forbidden"
    res = client_for(world.parent).post(
        api(world, "/messages/conversations"),
        {"recipient_ids": [world.other_teacher.pk], "student_id": world.other_student.pk, "body": "Hi"},
    )
    assert res.status_code == 404  # another family's child
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("who", ["other_parent", "class_teacher", "director", "foreign_admin", "ended", "anonymous"])
def test_enumeration_is_404(world, who):
    conv = start(world, world.parent, [world.teacher], student=world.student, files=[pdf()])
    att = MessageAttachment.objects.get()
    staff_only = Announcement.objects.create(
        school=world.school, audience="staff", title="Staff", body="B", author=world.director
    )
    if who == "ended":
        GuardianLink.objects.filter(guardian=world.parent).update(may_see=False)
        client = client_for(world.parent)
    else:
        client = client_for(world.persona(who))
    paths = [
        f"/messages/conversations/{conv.pk}",
        f"/messages/files/{att.pk}",
    ]
    expected = 401 if who == "anonymous" else 404
    for path in paths:
        assert client.get(api(world, path)).status_code == expected, path
    res = client.post(api(world, f"/messages/conversations/{conv.pk}/messages"), {"body": "x"})
    assert res.status_code == expected
    if who in ("other_parent", "ended"):
        assert client.get(api(world, f"/announcements/{staff_only.pk}")).status_code == 404
    assert Message.objects.count() == 1


def test_foreign_school_id_through_own_school_is_404(world):
    conv = start(world, world.parent, [world.teacher], student=world.student)
    client = client_for(world.foreign_admin)
    assert client.get(api(world, f"/messages/conversations/{conv.pk}", world.other_school)).status_code == 404


def test_announcements_and_forum_over_the_api(world):
    deputy = client_for(world.deputy)
    res = post_json(
        deputy,
        api(world, "/announcements"),
        {"audience": "class", "class_id": world.class_a.pk, "title": "Збори", "body": "B"},
    )
    assert res.status_code == 201
    res = post_json(deputy, api(world, "/announcements"), {"audience": "school", "title": "", "body": "B"})
    assert res.status_code == 422 and "title" in res.json()["error"]["fields"]
    res = post_json(
        client_for(world.teacher), api(world, "/announcements"), {"audience": "school", "title": "T", "body": "B"}
    )
    assert res.status_code == 403
    assert [a["title"] for a in client_for(world.parent).get(api(world, "/announcements")).json()["items"]] == ["Збори"]
    assert client_for(world.other_parent).get(api(world, "/announcements")).json()["items"] == []

    res = post_json(deputy, api(world, "/forum/topics"), {"title": "Форма", "body": "B"})
    topic = res.json()
    assert res.status_code == 201
    assert (
        post_json(client_for(world.teacher), api(world, "/forum/topics"), {"title": "T", "body": "B"}).status_code
        == 403
    )
    res = post_json(client_for(world.parent), api(world, f"/forum/topics/{topic['id']}/replies"), {"body": "Так"})
    assert res.status_code == 201
    reply_id = res.json()["id"]
    assert (
        post_json(
            client_for(world.student.user), api(world, f"/forum/topics/{topic['id']}/replies"), {"body": "x"}
        ).status_code
        == 404
    )
    assert post_json(client_for(world.teacher), api(world, f"/forum/replies/{reply_id}/hide"), {}).status_code == 403
    res = post_json(deputy, api(world, f"/forum/replies/{reply_id}/hide"), {"reason": "Спам"})
    assert res.status_code == 200 and res.json()["hidden"] is True
    detail = client_for(world.other_parent).get(api(world, f"/forum/topics/{topic['id']}")).json()
    assert detail["replies"][0]["body"] is None and detail["replies"][0]["hidden_reason"] == "Спам"
    assert ForumReply.objects.get().body == "Так"


@pytest.mark.parametrize("n", [2, 12])
def test_api_conversation_list_query_count(world, n, django_assert_max_num_queries):
    from tests import factories as f

    for i in range(n):
        start(world, f.make_parent(world.student, username=f"api{n}-{i}"), [world.teacher], student=world.student)
    client = client_for(world.teacher)
    client.get(api(world, "/messages/conversations"))
    with django_assert_max_num_queries(9):
        res = client.get(api(world, "/messages/conversations"))
    assert res.json()["count"] == n
    ctx_of(world.teacher, world.school)
