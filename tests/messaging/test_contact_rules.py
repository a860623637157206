"""The contact rule (R5.3), exhaustively: who may start a conversation with whom (docs/messaging.md).

Each starter writes about the student the conversation naturally concerns: a parent about their child, a
student about themselves, staff about the recipient's student (or about nobody for a staff recipient).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from classbook.access import messaging as rules
from classbook.access.context import build_context
from classbook.core.errors import DomainError, PermissionDeniedError
from classbook.messaging.models import Conversation, Message
from classbook.people.models import GuardianLink
from tests.messaging.conftest import ctx_of, start

RECIPIENTS = [
    "admin", "director", "deputy", "secretary", "teacher", "class_teacher", "other_teacher",
    "student", "other_student", "parent", "other_parent", "foreign_teacher", "foreign_student",
]  # fmt: skip

# starter: 1 = may write to the recipient in RECIPIENTS order (self is never a recipient: 0).
TABLE = {
    #                adm dir dep sec tea ct  ot  stu ost par opa fte fst
    "admin":         (0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "director":      (1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
    "deputy":        (1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
    "secretary":     (1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0),
    "teacher":       (1, 1, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0),
    "class_teacher": (1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0),
    "other_teacher": (1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0),
    "student":       (0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0),
    "other_student": (0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),
    "parent":        (0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0),
    "other_parent":  (0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),
    "foreign_teacher": (0,) * 13,
    "viewer":        (0,) * 13,
}  # fmt: skip

CELLS = [(starter, RECIPIENTS[i], bool(v)) for starter, row in TABLE.items() for i, v in enumerate(row)]


def _about(world, starter: str, recipient: str):
    """The student the conversation is about, as the page would offer it."""
    children = {"parent": world.student, "other_parent": world.other_student}
    if starter in children:
        return children[starter]
    if starter in ("student", "other_student"):
        return getattr(world, starter)
    if recipient in ("student", "other_student", "foreign_student"):
        return getattr(world, recipient)
    if recipient in ("parent", "other_parent"):
        return {"parent": world.student, "other_parent": world.other_student}[recipient]
    return None


def _school(world, starter):
    return world.other_school if starter.startswith("foreign") else world.school


@pytest.mark.parametrize(("starter", "recipient", "allowed"), CELLS)
def test_contact_rule_table(world, starter, recipient, allowed):
    ctx = build_context(world.persona(starter), _school(world, starter))
    assert ctx is not None
    target = world.persona(recipient)
    assert rules.may_write_to(ctx, target, _about(world, starter, recipient)) is allowed


@pytest.mark.parametrize(("starter", "recipient", "allowed"), [c for c in CELLS if c[0] != "viewer"])
def test_service_enforces_the_same_table(world, starter, recipient, allowed):
    sender, target = world.persona(starter), world.persona(recipient)
    if sender == target:
        return
    ctx = ctx_of(sender, _school(world, starter))
    from classbook.messaging import services

    call = lambda: services.start_conversation(  # noqa: E731
        ctx, recipient_ids=[target.pk], body="Text", student=_about(world, starter, recipient)
    )
    if allowed:
        conv = call()
        assert conv.participants.filter(user=target).exists()
    else:
        with pytest.raises(DomainError):
            call()
        assert not Conversation.objects.exists()
        assert not Message.objects.exists()


def test_parent_cannot_write_about_another_childs_class(world):
    with pytest.raises(PermissionDeniedError):
        start(world, world.parent, [world.other_teacher], student=world.student)
    with pytest.raises(DomainError):
        start(world, world.parent, [world.other_teacher], student=world.other_student)


def test_parent_must_name_the_child(world):
    with pytest.raises(DomainError) as exc:
        start(world, world.parent, [world.teacher], student=None)
    assert exc.value.field == "student"


def test_restricted_or_ended_guardian_link_stops_contact_both_ways(world):
    link = GuardianLink.objects.get(guardian=world.parent)
    link.may_see = False
    link.save()
    assert not rules.may_write_to(ctx_of(world.teacher, world.school), world.parent, world.student)
    with pytest.raises(DomainError):
        start(world, world.parent, [world.teacher], student=world.student)
    link.may_see = True
    link.ended_on = timezone.localdate() - dt.timedelta(days=1)
    link.save()
    assert not rules.may_write_to(ctx_of(world.class_teacher, world.school), world.parent, world.student)
    with pytest.raises(DomainError):
        start(world, world.parent, [world.class_teacher], student=world.student)


def test_group_conversation_of_class_teacher_with_both_parents(world):
    from tests import factories as f

    second = f.make_parent(world.student, username="father")
    conv = start(world, world.class_teacher, [world.parent, second], student=world.student)
    kinds = dict(conv.participants.values_list("user__username", "kind"))
    assert kinds == {"classteacher": "staff", "parent": "guardian", "father": "guardian"}


def test_one_forbidden_recipient_refuses_the_whole_conversation(world):
    with pytest.raises(PermissionDeniedError):
        start(world, world.teacher, [world.parent, world.other_parent], student=world.student)
    assert not Conversation.objects.exists()


def test_recipient_of_another_school_is_refused(world):
    with pytest.raises(PermissionDeniedError):
        start(world, world.director, [world.foreign_teacher])
    with pytest.raises(DomainError):
        start(world, world.director, [world.foreign_student.user], student=world.foreign_student)
