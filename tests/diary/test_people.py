"""Whom the diary lists (``diary.queries.diary_people``): one's own record, one's children with a link that may see
and has not ended, one's homeroom class — their union, in one query, of this school only."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from classbook.access.context import resolve_school
from classbook.diary import queries
from classbook.people.models import GuardianLink, Membership, Role
from tests import factories as f


def _people(user, school):
    return {p.id for p in queries.diary_people(resolve_school(user, school.slug))}


def test_a_class_teacher_who_is_also_a_parent_lists_the_class_and_the_child(world):
    # The class teacher of class_a is the parent of other_student (class_b) too: both relationships count.
    Membership.objects.get_or_create(school=world.school, user=world.class_teacher, role=Role.PARENT)
    GuardianLink.objects.create(
        school=world.school, guardian=world.class_teacher, student=world.other_student, may_see=True
    )
    ctx = resolve_school(world.class_teacher, world.school.slug)
    with CaptureQueriesContext(connection) as queries_run:
        people = {p.id for p in queries.diary_people(ctx)}
    assert people == {world.student.pk, world.other_student.pk}
    assert len(queries_run.captured_queries) == 1


def test_each_relationship_alone_lists_only_its_students(world):
    assert _people(world.student.user, world.school) == {world.student.pk}
    assert _people(world.parent, world.school) == {world.student.pk}
    assert _people(world.class_teacher, world.school) == {world.student.pk}
    assert _people(world.teacher, world.school) == set()
    assert _people(world.foreign_student.user, world.other_school) == {world.foreign_student.pk}


def test_an_ended_or_restricted_link_lists_nothing(world):
    ended = f.make_parent(world.other_student, username="endedlink")
    GuardianLink.objects.filter(guardian=ended).update(ended_on=timezone.localdate() - dt.timedelta(days=1))
    restricted = f.make_parent(world.other_student, may_see=False, username="restrictedlink")
    assert _people(ended, world.school) == set()
    assert _people(restricted, world.school) == set()
