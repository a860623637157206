"""Who reads, publishes and changes materials (R8.1): tables that try to break every rule — another school,
another class, another child, a student of another class, a parent, the secretary, an authority viewer and
an anonymous user."""

from __future__ import annotations

import pytest
from django.http import Http404

from classbook.access import materials as rules
from classbook.access.context import resolve_school
from classbook.core.errors import PermissionDeniedError
from classbook.materials import services
from tests.conftest import client_for
from tests.materials.conftest import ctx_of, lesson_of, publish, subgroup_of

READERS = ["admin", "director", "deputy", "secretary", "teacher", "class_teacher", "other_teacher"]
FAMILY_A = ["student", "parent"]  # of class_a
FAMILY_B = ["other_student", "other_parent"]  # of class_b


def _published(world):
    """One material of each audience, keyed by name."""
    group = subgroup_of(world)
    return {
        "library": publish(world, title="library"),
        "class_a": publish(world, title="class_a", audience="class", school_class=world.class_a),
        "class_b": publish(world, "other_teacher", title="class_b", audience="class", school_class=world.class_b),
        "subgroup": publish(world, title="subgroup", audience="subgroup", subgroup=group),
        "lesson": publish(world, title="lesson", audience="lesson", lesson=lesson_of(world)),
        "analytical": publish(world, "teacher", title="analytical", kind="analytical"),
        "foreign": publish(world, "foreign_teacher", title="foreign"),
    }


EXPECTED = {
    "admin": {"library", "class_a", "class_b", "subgroup", "lesson", "analytical"},
    "director": {"library", "class_a", "class_b", "subgroup", "lesson", "analytical"},
    "deputy": {"library", "class_a", "class_b", "subgroup", "lesson", "analytical"},
    "secretary": {"library", "class_a", "class_b", "subgroup", "lesson"},
    "teacher": {"library", "class_a", "class_b", "subgroup", "lesson", "analytical"},  # the author
    "other_teacher": {"library", "class_a", "class_b", "subgroup", "lesson"},
    "student": {"library", "class_a", "subgroup", "lesson"},
    "parent": {"library", "class_a", "subgroup", "lesson"},
    "other_student": {"library", "class_b"},
    "other_parent": {"library", "class_b"},
    "foreign_admin": {"foreign"},
    "foreign_student": {"foreign"},
}


def test_who_reads_what(world):
    _published(world)
    for persona, expected in EXPECTED.items():
        school = world.other_school if persona.startswith("foreign") else world.school
        ctx = resolve_school(world.persona(persona), school.slug)
        seen = set(rules.visible_materials(ctx).values_list("title", flat=True))
        assert seen == expected, persona


def test_a_student_outside_the_subgroup_and_an_ended_link_see_no_subgroup_material(world):
    group = subgroup_of(world, with_student=False)
    publish(world, title="g", audience="subgroup", subgroup=group)
    assert not rules.visible_materials(ctx_of(world, "student")).filter(title="g").exists()
    assert not rules.visible_materials(ctx_of(world, "parent")).filter(title="g").exists()


def test_outsiders_and_viewers_open_nothing(world):
    publish(world)
    with pytest.raises(Http404):
        resolve_school(world.foreign_teacher, world.school.slug)
    viewer = resolve_school(world.viewer, world.school.slug)
    assert not rules.may_open_materials(viewer) and not rules.visible_materials(viewer).exists()
    assert not rules.may_publish_materials(viewer)


@pytest.mark.parametrize(
    ("persona", "target", "allowed"),
    [
        ("teacher", "class_a", True),
        ("class_teacher", "class_a", True),  # leads it
        ("teacher", "class_b", False),  # another class
        ("other_teacher", "class_a", False),
        ("deputy", "class_b", True),  # the administration: any class
        ("other_teacher", "lesson", False),  # another teacher's lesson
        ("teacher", "lesson", True),
        ("teacher", "subgroup", True),
        ("other_teacher", "subgroup", False),
    ],
)
def test_who_publishes_where(world, persona, target, allowed):
    kwargs = {
        "class_a": {"audience": "class", "school_class": world.class_a},
        "class_b": {"audience": "class", "school_class": world.class_b},
        "lesson": {"audience": "lesson", "lesson": lesson_of(world)} if target == "lesson" else {},
        "subgroup": {"audience": "subgroup", "subgroup": subgroup_of(world)} if target == "subgroup" else {},
    }[target]
    if allowed:
        assert publish(world, persona, **kwargs).pk
    else:
        with pytest.raises(PermissionDeniedError):
            publish(world, persona, **kwargs)


@pytest.mark.parametrize("persona", ["secretary", "student", "parent"])
def test_non_publishers_are_refused(world, persona):
    with pytest.raises(PermissionDeniedError):
        publish(world, persona)


def test_a_foreign_class_cannot_be_a_target(world):
    with pytest.raises(PermissionDeniedError):
        publish(world, "admin", audience="class", school_class=world.foreign_class)


@pytest.mark.parametrize(("persona", "allowed"), [("teacher", True), ("deputy", True), ("other_teacher", False)])
def test_only_the_author_and_the_administration_withdraw(world, persona, allowed):
    material = publish(world)
    ctx = ctx_of(world, persona)
    assert rules.editable_materials(ctx).filter(pk=material.pk).exists() is allowed
    if allowed:
        services.withdraw_material(ctx=ctx, material=material)
        assert not rules.visible_materials(ctx_of(world, "student")).exists()
    else:
        with pytest.raises(PermissionDeniedError):
            services.withdraw_material(ctx=ctx, material=material)


def test_pages_refuse_by_persona(world):
    material = publish(world, audience="class", school_class=world.class_a, title="for 5-A")
    slug = world.school.slug
    edit = f"/s/{slug}/materials/{material.pk}/"
    expect = {
        "anonymous": (302, 302),
        "foreign_admin": (404, 404),
        "viewer": (403, 403),
        "student": (200, 403),
        "other_student": (200, 403),
        "other_teacher": (200, 404),
        "teacher": (200, 200),
    }
    for persona, (index_status, edit_status) in expect.items():
        client = client_for(world.persona(persona))
        assert client.get(f"/s/{slug}/materials/").status_code == index_status, persona
        assert client.get(edit).status_code == edit_status, persona
    assert "for 5-A" not in client_for(world.other_student.user).get(f"/s/{slug}/materials/").content.decode()
