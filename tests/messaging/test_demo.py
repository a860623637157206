"""The demo school has conversations (one parent message unanswered for 5 days), announcements and a forum topic."""

from __future__ import annotations

from classbook.access import messaging as rules
from classbook.access.context import build_context
from classbook.demo.generator import DemoOptions, generate
from classbook.people.models import User
from classbook.schools.models import School


def test_demo_school_shows_messaging(db):
    generate(DemoOptions(seed=5, students=60))
    school = School.objects.get(slug="demo")

    def ctx(username):
        return build_context(User.objects.get(username=username), school)

    teacher, deputy, parent = ctx("teacher"), ctx("deputy"), ctx("parent")
    assert [c.subject for c in rules.unanswered(teacher)] == ["Перескладання контрольної роботи"]
    assert rules.school_unanswered_count(deputy) == 1
    assert rules.unread_count(teacher) == 1 and rules.unread_count(deputy) == 1
    assert rules.conversations(parent).count() == 2
    titles = set(rules.announcements(parent).values_list("title", flat=True))
    assert "Педагогічна рада" not in titles and "Загальношкільні батьківські збори" in titles
    assert "Педагогічна рада" in set(rules.announcements(teacher).values_list("title", flat=True))
    assert rules.forum_topics(parent).count() == 1
    assert rules.forum_replies(parent).count() == 2
