"""The start page shows each person what they work with, and nothing of others."""

from __future__ import annotations

import pytest
from django.utils.html import escape


def test_parent_dashboard_lists_own_child_only(world, as_user):
    html = as_user(world.parent).get(f"/s/{world.school.slug}/").content.decode()
    assert escape(world.student.user.full_name) in html
    assert escape(world.other_student.user.full_name) not in html


def test_teacher_dashboard_links_own_journal_and_class_teacher_sees_own_class(world, as_user):
    teacher_html = as_user(world.teacher).get(f"/s/{world.school.slug}/").content.decode()
    assert world.subject.name in teacher_html
    class_teacher_html = as_user(world.class_teacher).get(f"/s/{world.school.slug}/").content.decode()
    assert f"/roster/classes/{world.class_a.pk}/" in class_teacher_html
    assert f"/roster/classes/{world.class_b.pk}/" not in class_teacher_html


@pytest.mark.parametrize("persona", ["admin", "teacher", "class_teacher", "parent", "student", "viewer"])
def test_dashboard_query_count_is_small(world, as_user, persona, django_assert_max_num_queries):
    client = as_user(world.persona(persona))
    client.get(f"/s/{world.school.slug}/")
    with django_assert_max_num_queries(16):
        assert client.get(f"/s/{world.school.slug}/").status_code == 200
