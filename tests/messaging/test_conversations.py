"""Conversations (R5.3): replies, read receipts, the unread counter, unanswered parent messages, files,
bad input, and 404 for every id the user may not see (pages)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from classbook.access import messaging as rules
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.messaging import services, signals
from classbook.messaging.models import Conversation, Message, MessageAttachment
from classbook.people.models import GuardianLink
from tests import factories as f
from tests.conftest import client_for
from tests.messaging.conftest import ctx_of, pdf, start


def test_parent_writes_teacher_answers_and_read_receipts_follow(world):
    conv = start(world, world.parent, [world.class_teacher], student=world.student)
    first = conv.last_message
    teacher_ctx = ctx_of(world.class_teacher, world.school)
    assert rules.unread_count(teacher_ctx) == 1
    assert rules.unread_count(ctx_of(world.parent, world.school)) == 0  # own message is read

    services.mark_read(teacher_ctx, conversation=conv)
    assert rules.unread_count(teacher_ctx) == 0
    response = client_for(world.parent).get(f"/s/{world.school.slug}/messages/{conv.pk}/")
    assert response.status_code == 200
    row = response.context["rows"][0]
    assert row.message == first and row.mine and [u.pk for u in row.read_by] == [world.class_teacher.pk]

    answer = services.post_message(teacher_ctx, conversation=conv, body="Добре, поговоримо завтра.")
    assert rules.unread_count(ctx_of(world.parent, world.school)) == 1
    assert Message.objects.filter(conversation=conv).count() == 2
    assert answer.sender_kind == "staff"
    assert AuditEntry.objects.filter(action="messaging.conversation.started", object_id=str(conv.pk)).exists()


def test_message_posted_signal_after_commit(world, django_capture_on_commit_callbacks):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    signals.message_posted.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            conv = start(world, world.parent, [world.teacher], student=world.student)
    finally:
        signals.message_posted.disconnect(receiver)
    assert seen == [conv.last_message]


def test_unanswered_parent_message_after_three_days(world):
    with time_machine.travel(timezone.now() - dt.timedelta(days=4)):
        conv = start(world, world.parent, [world.class_teacher], student=world.student)
    fresh = start(world, world.parent, [world.class_teacher], student=world.student, subject="Свіже")
    ct = ctx_of(world.class_teacher, world.school)
    assert list(rules.unanswered(ct)) == [conv]
    assert rules.school_unanswered_count(ctx_of(world.deputy, world.school)) == 1
    assert rules.school_unanswered_count(ctx_of(world.teacher, world.school)) == 0  # not theirs to watch
    assert list(rules.unanswered(ctx_of(world.teacher, world.school))) == []  # not a participant

    page = client_for(world.class_teacher).get(f"/s/{world.school.slug}/messages/unanswered/")
    assert list(page.context["rows"]) == [conv]
    assert client_for(world.parent).get(f"/s/{world.school.slug}/messages/unanswered/").status_code == 403

    # A parent's second message keeps the first waiting time; a staff answer clears it.
    services.post_message(ctx_of(world.parent, world.school), conversation=conv, body="Нагадую")
    assert list(rules.unanswered(ct)) == [conv]
    services.post_message(ct, conversation=conv, body="Вибачте, відповідаю")
    assert list(rules.unanswered(ct)) == []
    assert rules.school_unanswered_count(ctx_of(world.director, world.school)) == 0
    assert fresh.awaiting_reply_since is not None


def test_attachment_saved_and_downloaded_by_participants_only(world):
    conv = start(world, world.parent, [world.teacher], student=world.student, files=[pdf("довідка.pdf")])
    att = MessageAttachment.objects.get(message__conversation=conv)
    assert att.original_name == "довідка.pdf" and "довідка" not in att.file.name
    url = f"/s/{world.school.slug}/messages/files/{att.pk}/"
    response = client_for(world.teacher).get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Disposition"].startswith("inline;")  # a PDF is shown (core.uploads)
    assert response["X-Content-Type-Options"] == "nosniff"
    for outsider in (world.other_parent, world.class_teacher, world.director, world.foreign_admin):
        assert client_for(outsider).get(url).status_code == 404


@pytest.mark.parametrize(
    ("upload", "field"),
    [
        (SimpleUploadedFile("virus.exe", b"MZ..."), "files"),
        (SimpleUploadedFile("page.html", b"<script>"), "files"),
        (SimpleUploadedFile("empty.pdf", b""), "files"),
    ],
)
def test_bad_file_refused_and_nothing_saved(world, upload, field):
    with pytest.raises(DomainError) as exc:
        start(world, world.parent, [world.teacher], student=world.student, files=[upload])
    assert exc.value.field == field
    assert not Conversation.objects.exists() and not MessageAttachment.objects.exists()


def test_too_big_file_and_too_many_files(world, settings):
    big = SimpleUploadedFile("big.pdf", b"x")
    big.size = services.MAX_FILE_SIZE + 1
    with pytest.raises(DomainError):
        start(world, world.parent, [world.teacher], student=world.student, files=[big])
    with pytest.raises(DomainError):
        start(world, world.parent, [world.teacher], student=world.student, files=[pdf(f"{i}.pdf") for i in range(6)])
    assert not Conversation.objects.exists()


@pytest.mark.parametrize("body", ["", "   \n  ", "x" * 5001])
def test_empty_or_too_long_body_refused(world, body):
    with pytest.raises(DomainError) as exc:
        start(world, world.parent, [world.teacher], student=world.student, body=body)
    assert exc.value.field == "body"
    conv = start(world, world.teacher, [world.parent], student=world.student)
    with pytest.raises(DomainError):
        services.post_message(ctx_of(world.parent, world.school), conversation=conv, body=body)
    assert Message.objects.count() == 1


def test_page_refuses_forbidden_recipient_and_bad_input(world):
    client = client_for(world.parent)
    url = f"/s/{world.school.slug}/messages/new/"
    # Another parent is not offered and is refused when posted anyway.
    response = client.post(url, {"student": world.student.pk, "recipients": [world.other_parent.pk], "body": "Hi"})
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(url, {"student": world.student.pk, "recipients": [world.teacher.pk], "body": "  "})
    assert "body" in response.context["form"].errors
    response = client.post(
        url,
        {
            "student": world.student.pk,
            "recipients": [world.teacher.pk],
            "body": "Hi",
            "files": [SimpleUploadedFile("a.exe", b"x")],
        },
    )
    assert "files" in response.context["form"].errors
    # Another family's child in the URL is 404.
    assert client.get(url, {"student": world.other_student.pk}).status_code == 404
    assert not Conversation.objects.exists()

    response = client.post(url, {"student": world.student.pk, "recipients": [world.teacher.pk], "body": "Добрий день"})
    conv = Conversation.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/messages/{conv.pk}/")


def test_page_reply_bad_input_keeps_nothing(world):
    conv = start(world, world.teacher, [world.parent], student=world.student)
    url = f"/s/{world.school.slug}/messages/{conv.pk}/reply/"
    response = client_for(world.parent).post(url, {"body": ""})
    assert response.status_code == 422
    response = client_for(world.parent).post(url, {"body": "Дякую"})
    assert response.status_code == 302
    assert Message.objects.filter(conversation=conv).count() == 2


@pytest.mark.parametrize(
    "who", ["other_parent", "other_teacher", "class_teacher", "director", "student", "foreign_admin", "viewer"]
)
def test_conversation_of_others_is_404(world, who):
    conv = start(world, world.parent, [world.teacher], student=world.student, files=[pdf()])
    msg, att = conv.last_message, MessageAttachment.objects.get()
    client = client_for(world.persona(who))
    base = f"/s/{world.school.slug}/messages"
    assert client.get(f"{base}/{conv.pk}/").status_code == 404
    assert client.post(f"{base}/{conv.pk}/reply/", {"body": "x"}).status_code in (403, 404)
    assert client.get(f"{base}/files/{att.pk}/").status_code == 404
    assert Message.objects.count() == 1
    if who not in ("foreign_admin",):
        with pytest.raises((PermissionDeniedError, AssertionError)):
            services.post_message(ctx_of(world.persona(who), world.school), conversation=conv, body="x")
    assert msg.pk


def test_anonymous_goes_to_login_and_other_school_url_is_404(world):
    conv = start(world, world.parent, [world.teacher], student=world.student)
    response = client_for(None).get(f"/s/{world.school.slug}/messages/{conv.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # The foreign admin's own school does not hold the conversation either.
    assert client_for(world.foreign_admin).get(f"/s/{world.other_school.slug}/messages/{conv.pk}/").status_code == 404


def test_ended_guardian_link_hides_the_conversation(world):
    conv = start(world, world.parent, [world.teacher], student=world.student, files=[pdf()])
    att = MessageAttachment.objects.get()
    client = client_for(world.parent)
    assert client.get(f"/s/{world.school.slug}/messages/{conv.pk}/").status_code == 200
    GuardianLink.objects.filter(guardian=world.parent).update(ended_on=timezone.localdate())
    assert client.get(f"/s/{world.school.slug}/messages/{conv.pk}/").status_code == 404
    assert client.get(f"/s/{world.school.slug}/messages/files/{att.pk}/").status_code == 404
    assert client.post(f"/s/{world.school.slug}/messages/{conv.pk}/reply/", {"body": "x"}).status_code == 404
    assert rules.unread_count(ctx_of(world.parent, world.school)) == 0
    inbox = client.get(f"/s/{world.school.slug}/messages/")
    assert inbox.context["rows"] == []


def test_unread_badge_fragment(world):
    start(world, world.parent, [world.teacher], student=world.student)
    assert b">1<" in client_for(world.teacher).get(f"/s/{world.school.slug}/messages/unread/").content
    assert client_for(world.parent).get(f"/s/{world.school.slug}/messages/unread/").content == b""


def _many(world, n):
    for i in range(n):
        extra = f.make_parent(world.student, username=f"p{n}-{i}")
        conv = start(world, extra, [world.teacher, world.class_teacher], student=world.student, files=[pdf()])
        services.post_message(ctx_of(world.teacher, world.school), conversation=conv, body="Відповідь")
    return conv


@pytest.mark.parametrize("n", [2, 12])
def test_inbox_query_count_is_constant(world, n, django_assert_max_num_queries):
    _many(world, n)
    client = client_for(world.teacher)
    client.get(f"/s/{world.school.slug}/messages/")  # warm the session
    with django_assert_max_num_queries(9):
        response = client.get(f"/s/{world.school.slug}/messages/")
    assert len(response.context["rows"]) == n


@pytest.mark.parametrize("n", [1, 15])
def test_conversation_page_query_count_is_constant(world, n, django_assert_max_num_queries):
    conv = start(world, world.parent, [world.teacher, world.class_teacher], student=world.student, files=[pdf()])
    for i in range(n):
        services.post_message(
            ctx_of(world.teacher, world.school), conversation=conv, body=f"Відповідь {i}", files=[pdf(f"{i}.pdf")]
        )
    client = client_for(world.parent)
    client.get(f"/s/{world.school.slug}/messages/{conv.pk}/")
    with django_assert_max_num_queries(11):
        response = client.get(f"/s/{world.school.slug}/messages/{conv.pk}/")
    assert len(response.context["rows"]) == n + 1
