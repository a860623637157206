"""The school forum (R5.4): topics by the director or deputies, replies by whom the topic lets in, moderation."""

from __future__ import annotations

import pytest

from classbook.access import messaging as rules
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.messaging import services, signals
from classbook.messaging.models import ForumReply, ForumTopic
from classbook.people.models import GuardianLink
from tests.conftest import client_for
from tests.messaging.conftest import ctx_of


@pytest.fixture
def topics(world):
    d = ctx_of(world.director, world.school)
    return {
        "staff": services.open_topic(d, title="Для вчителів", body="B", open_to_parents=False),
        "parents": services.open_topic(d, title="Шкільна форма", body="B"),
        "all": services.open_topic(d, title="Їдальня", body="B", open_to_students=True),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("director", {"staff", "parents", "all"}),
        ("teacher", {"staff", "parents", "all"}),
        ("secretary", {"staff", "parents", "all"}),
        ("parent", {"parents", "all"}),
        ("student", {"all"}),
        ("viewer", set()),
    ],
)
def test_who_takes_part_in_which_topic(world, topics, who, expected):
    names = {t.pk: k for k, t in topics.items()}
    assert {names[t.pk] for t in rules.forum_topics(ctx_of(world.persona(who), world.school))} == expected


def test_parent_without_a_current_link_takes_no_part(world, topics):
    GuardianLink.objects.filter(guardian=world.parent).update(may_see=False)
    assert not rules.forum_topics(ctx_of(world.parent, world.school)).exists()


@pytest.mark.parametrize(
    ("who", "allowed"), [("director", True), ("deputy", True), ("teacher", False), ("parent", False)]
)
def test_who_opens_topics(world, who, allowed):
    call = lambda: services.open_topic(ctx_of(world.persona(who), world.school), title="T", body="B")  # noqa: E731
    if allowed:
        assert call().pk
    else:
        with pytest.raises(PermissionDeniedError):
            call()
        assert not ForumTopic.objects.exists()


def test_replies_hiding_and_closing(world, topics, django_capture_on_commit_callbacks):
    seen = []
    receiver = lambda sender, instance, **kw: seen.append(instance)  # noqa: E731
    signals.forum_reply_posted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            reply = services.post_reply(ctx_of(world.parent, world.school), topic=topics["parents"], body="Підтримую")
    finally:
        signals.forum_reply_posted.disconnect(receiver)
    assert seen == [reply]
    with pytest.raises(PermissionDeniedError):
        services.post_reply(ctx_of(world.student.user, world.school), topic=topics["parents"], body="Я теж")
    with pytest.raises(DomainError):
        services.post_reply(ctx_of(world.parent, world.school), topic=topics["parents"], body="   ")
    with pytest.raises(PermissionDeniedError):
        services.hide_reply(ctx_of(world.teacher, world.school), reply=reply)

    services.hide_reply(ctx_of(world.deputy, world.school), reply=reply, reason="Не по темі")
    reply.refresh_from_db()
    assert reply.hidden_by == world.deputy and reply.body == "Підтримую"  # kept
    assert AuditEntry.objects.filter(action="messaging.forum_reply.hidden", object_id=str(reply.pk)).exists()
    page = client_for(world.other_parent).get(f"/s/{world.school.slug}/forum/{topics['parents'].pk}/")
    assert "Підтримую" not in page.content.decode() and "Не по темі" in page.content.decode()
    page = client_for(world.director).get(f"/s/{world.school.slug}/forum/{topics['parents'].pk}/")
    assert "Підтримую" in page.content.decode()

    services.set_topic_closed(ctx_of(world.director, world.school), topic=topics["parents"], closed=True)
    with pytest.raises(DomainError):
        services.post_reply(ctx_of(world.parent, world.school), topic=topics["parents"], body="Ще одне")
    assert ForumReply.objects.count() == 1


def test_forum_pages(world, topics):
    client = client_for(world.parent)
    url = f"/s/{world.school.slug}/forum/{topics['parents'].pk}/"
    assert client.post(url, {"body": ""}).status_code == 422
    assert client.post(url, {"body": "Добре"}).status_code == 302
    for who in ("student", "viewer", "foreign_admin"):
        assert client_for(world.persona(who)).get(url).status_code == 404
    reply = ForumReply.objects.get()
    hide = f"/s/{world.school.slug}/forum/replies/{reply.pk}/hide/"
    assert client_for(world.student.user).post(hide).status_code == 404  # cannot see the topic
    client_for(world.teacher).post(hide)  # sees it, may not moderate: a message, nothing hidden
    assert ForumReply.objects.get().hidden_at is None
    assert client_for(world.parent).get(f"/s/{world.school.slug}/forum/new/").status_code == 403
    response = client_for(world.director).post(f"/s/{world.school.slug}/forum/new/", {"title": "T", "body": "B"})
    assert response.status_code == 302


@pytest.mark.parametrize("n", [1, 20])
def test_topic_page_query_count(world, topics, n, django_assert_max_num_queries):
    for i in range(n):
        services.post_reply(ctx_of(world.parent, world.school), topic=topics["all"], body=f"R{i}")
    client = client_for(world.student.user)
    url = f"/s/{world.school.slug}/forum/{topics['all'].pk}/"
    client.get(url)
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert len(response.context["replies"]) == n
