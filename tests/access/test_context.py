"""Resolving the school in the URL into a SchoolContext (R1.1, R1.3, R1.4): who is who, and who gets a 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from classbook.access.context import build_context, resolve_school, user_schools
from classbook.access.rules import AUTHORITY_PERMS, ROLE_PERMS, Perm
from classbook.people.models import GuardianLink, Membership, Role
from tests import factories as f

TODAY = timezone.localdate
DAY = dt.timedelta(days=1)

# persona -> roles in `school`, or None for "404: no business there".
ROLES_IN_SCHOOL = [
    ("admin", {"admin"}),
    ("director", {"director"}),
    ("deputy", {"deputy"}),
    ("secretary", {"secretary"}),
    ("teacher", {"teacher"}),
    ("class_teacher", {"teacher"}),
    ("other_teacher", {"teacher"}),
    ("student", {"student"}),
    ("other_student", {"student"}),
    ("parent", {"parent"}),
    ("other_parent", {"parent"}),
    ("viewer", set()),  # no role of their own: sees through the authority
    ("foreign_admin", None),
    ("foreign_teacher", None),
    ("foreign_student", None),
    ("anonymous", None),
]


@pytest.mark.parametrize(("persona", "roles"), ROLES_IN_SCHOOL)
def test_resolve_school_gives_each_persona_their_roles_or_404(world, ctx_of, persona, roles):
    if roles is None:
        with pytest.raises(Http404):
            ctx_of(persona)
    else:
        ctx = ctx_of(persona)
        assert ctx.school == world.school
        assert ctx.roles == roles


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("foreign_admin", True),
        ("foreign_teacher", True),
        ("foreign_student", True),
        ("admin", False),
        ("teacher", False),
        ("parent", False),
        ("student", False),
        ("viewer", False),  # the authority oversees `school` only
        ("anonymous", False),
    ],
)
def test_resolve_other_school_answers_404_to_everyone_without_a_role_there(world, ctx_of, persona, allowed):
    if allowed:
        assert ctx_of(persona, school=world.other_school).school == world.other_school
    else:
        with pytest.raises(Http404):
            ctx_of(persona, school=world.other_school)


@pytest.mark.parametrize("slug", ["no-such-school", "", "LYCEUM-1", "lyceum-1/../gymnasium-2"])
def test_unknown_school_slug_is_404_even_for_its_admin(world, slug):
    with pytest.raises(Http404):
        resolve_school(world.admin, slug)


def test_inactive_school_is_404_for_its_own_admin(world):
    world.school.is_active = False
    world.school.save()
    with pytest.raises(Http404):
        resolve_school(world.admin, world.school.slug)
    assert world.school not in user_schools(world.admin)


def test_inactive_user_is_404_even_with_an_active_role(world):
    world.admin.is_active = False
    world.admin.save()
    with pytest.raises(Http404):
        resolve_school(world.admin, world.school.slug)
    assert build_context(world.admin, world.school) is None
    assert user_schools(world.admin) == []


def test_anonymous_user_has_no_context_and_no_schools(world):
    assert build_context(AnonymousUser(), world.school) is None
    assert user_schools(AnonymousUser()) == []


# How a membership row is changed -> does it still open the school?
MEMBERSHIP_CHANGES = [
    ({"is_active": False}, False),
    ({"until": -1}, False),  # ended yesterday
    ({"until": -400}, False),
    ({"until": 0}, True),  # the last day still counts
    ({"until": 30}, True),
]


@pytest.mark.parametrize(("change", "opens"), MEMBERSHIP_CHANGES)
def test_membership_opens_the_school_only_while_active_and_not_ended(world, change, opens):
    values = {k: (TODAY() + v * DAY if k == "until" else v) for k, v in change.items()}
    Membership.objects.filter(user=world.teacher, school=world.school).update(**values)
    if opens:
        assert resolve_school(world.teacher, world.school.slug).roles == {"teacher"}
        assert world.school in user_schools(world.teacher)
    else:
        with pytest.raises(Http404):
            resolve_school(world.teacher, world.school.slug)
        assert world.school not in user_schools(world.teacher)


def test_ended_role_drops_out_but_the_other_active_role_stays(world):
    Membership.objects.create(school=world.school, user=world.teacher, role=Role.DEPUTY, until=TODAY() - DAY)
    Membership.objects.create(school=world.school, user=world.teacher, role=Role.SECRETARY, is_active=False)
    ctx = resolve_school(world.teacher, world.school.slug)
    assert ctx.roles == {"teacher"}
    assert not ctx.has(Perm.VIEW_ALL_STUDENTS)


def test_two_roles_give_the_union_of_their_permissions(world):
    Membership.objects.create(school=world.school, user=world.teacher, role=Role.SECRETARY)
    ctx = resolve_school(world.teacher, world.school.slug)
    assert ctx.roles == {"teacher", "secretary"}
    assert ctx.perms == ROLE_PERMS[Role.TEACHER] | ROLE_PERMS[Role.SECRETARY]
    assert ctx.taught_class_ids == {world.class_a.pk}


# persona -> the relationship sets resolved once per request.
RELATIONSHIPS = [
    # persona, homeroom classes, taught classes, children, own student
    ("admin", set(), set(), set(), None),
    ("teacher", set(), {"class_a"}, set(), None),
    ("class_teacher", {"class_a"}, set(), set(), None),
    ("other_teacher", set(), {"class_b"}, set(), None),
    ("student", set(), set(), set(), "student"),
    ("other_student", set(), set(), set(), "other_student"),
    ("parent", set(), set(), {"student"}, None),
    ("other_parent", set(), set(), {"other_student"}, None),
    ("viewer", set(), set(), set(), None),
]


@pytest.mark.parametrize(("persona", "homeroom", "taught", "children", "own"), RELATIONSHIPS)
def test_context_knows_homeroom_taught_classes_children_and_own_record(
    world, ctx_of, persona, homeroom, taught, children, own
):
    ctx = ctx_of(persona)
    assert ctx.homeroom_class_ids == {getattr(world, c).pk for c in homeroom}
    assert ctx.taught_class_ids == {getattr(world, c).pk for c in taught}
    assert ctx.child_student_ids == {getattr(world, s).pk for s in children}
    assert ctx.own_student_id == (getattr(world, own).pk if own else None)
    assert ctx.is_class_teacher == bool(homeroom)


def test_class_teacher_role_is_the_relationship_not_a_membership(world):
    """Naming a teacher on a class makes them its class teacher; no extra role row is needed (R1.1)."""
    world.class_b.class_teacher = world.other_teacher
    world.class_b.save()
    ctx = resolve_school(world.other_teacher, world.school.slug)
    assert ctx.homeroom_class_ids == {world.class_b.pk}
    assert ctx.roles == {"teacher"}


def test_homeroom_in_another_school_does_not_count_here(world):
    Membership.objects.create(school=world.other_school, user=world.teacher, role=Role.TEACHER)
    world.foreign_class.class_teacher = world.teacher
    world.foreign_class.save()
    assert resolve_school(world.teacher, world.school.slug).homeroom_class_ids == frozenset()
    assert resolve_school(world.teacher, world.other_school.slug).homeroom_class_ids == {world.foreign_class.pk}


# How the parent's guardian link is changed -> does the parent still see the child?
LINK_CHANGES = [
    ({}, True),
    ({"may_see": False}, False),  # restricted by custody
    ({"ended_on": -1}, False),
    ({"ended_on": -365}, False),
    ({"ended_on": 0}, False),  # ended today
    ({"ended_on": 10}, True),  # ends later
]


@pytest.mark.parametrize(("change", "sees"), LINK_CHANGES)
def test_parent_sees_child_only_through_a_visible_current_link(world, change, sees):
    values = {k: (TODAY() + v * DAY if k == "ended_on" else v) for k, v in change.items()}
    GuardianLink.objects.filter(guardian=world.parent).update(**values)
    ctx = resolve_school(world.parent, world.school.slug)
    assert ctx.child_student_ids == ({world.student.pk} if sees else set())
    assert ctx.can_see_student(world.student.pk) is sees


def test_parent_role_without_links_resolves_but_sees_no_child(world):
    lonely = f.make_member(world.school, Role.PARENT)
    ctx = resolve_school(lonely, world.school.slug)
    assert ctx.roles == {"parent"}
    assert ctx.child_student_ids == frozenset()


def test_viewer_is_read_only_with_authority_permissions(world, ctx_of):
    ctx = ctx_of("viewer")
    assert ctx.is_authority_viewer and ctx.is_read_only
    assert ctx.perms == AUTHORITY_PERMS
    assert not ctx.is_staff_member


def test_viewer_with_own_role_in_the_school_is_not_read_only(world):
    Membership.objects.create(school=world.school, user=world.viewer, role=Role.TEACHER)
    ctx = resolve_school(world.viewer, world.school.slug)
    assert ctx.is_authority_viewer and not ctx.is_read_only
    assert ctx.perms == AUTHORITY_PERMS | ROLE_PERMS[Role.TEACHER]


@pytest.mark.parametrize(
    ("persona", "staff"),
    [
        ("admin", True),
        ("director", True),
        ("deputy", True),
        ("secretary", True),
        ("teacher", True),
        ("class_teacher", True),
        ("student", False),
        ("parent", False),
        ("viewer", False),
    ],
)
def test_staff_member_flag_follows_the_roles(world, ctx_of, persona, staff):
    assert ctx_of(persona).is_staff_member is staff


@pytest.mark.parametrize(
    ("persona", "student", "class_ids", "sees"),
    [
        ("admin", "other_student", set(), True),
        ("viewer", "other_student", set(), True),
        ("teacher", "student", {"class_a"}, True),
        ("teacher", "other_student", {"class_b"}, False),
        ("class_teacher", "student", {"class_a"}, True),
        ("class_teacher", "other_student", {"class_b"}, False),
        ("parent", "student", set(), True),
        ("parent", "other_student", {"class_b"}, False),
        ("student", "student", set(), True),
        ("student", "other_student", {"class_a"}, False),
    ],
)
def test_can_see_student_answers_like_the_students_scope(world, ctx_of, persona, student, class_ids, sees):
    ids = {getattr(world, c).pk for c in class_ids}
    assert ctx_of(persona).can_see_student(getattr(world, student).pk, ids) is sees


@pytest.mark.parametrize(
    ("persona", "class_name", "may"),
    [
        ("admin", "class_a", True),
        ("admin", "class_b", True),
        ("class_teacher", "class_a", True),
        ("class_teacher", "class_b", False),
        ("teacher", "class_a", False),  # teaching a class is not keeping it
        ("secretary", "class_a", False),
        ("director", "class_a", False),
    ],
)
def test_codes_for_a_class_are_issued_by_admins_and_its_class_teacher(world, ctx_of, persona, class_name, may):
    assert ctx_of(persona).can_issue_codes_for_class(getattr(world, class_name).pk) is may


def test_user_schools_lists_member_and_overseen_schools_once_in_name_order(world):
    Membership.objects.create(school=world.other_school, user=world.teacher, role=Role.TEACHER)
    Membership.objects.create(school=world.other_school, user=world.teacher, role=Role.PARENT)
    assert user_schools(world.teacher) == sorted([world.school, world.other_school], key=lambda s: s.name)
    assert user_schools(world.viewer) == [world.school]
    assert user_schools(world.foreign_admin) == [world.other_school]
