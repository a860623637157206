"""``@school_view``: login first; 404 without a role in the school; 403 without the permission, or a viewer writing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from classbook.access.decorators import school_view
from classbook.access.rules import Perm
from tests.conftest import client_for

DASHBOARD = [
    *[(p, 200) for p in ["admin", "director", "deputy", "secretary", "teacher", "class_teacher"]],
    *[(p, 200) for p in ["student", "parent", "viewer"]],
    ("foreign_admin", 404),  # another school's administrator: not even the school's existence
    ("foreign_student", 404),
    ("anonymous", 302),  # to the login page
]


@pytest.mark.parametrize(("persona", "status"), DASHBOARD)
def test_school_dashboard_opens_only_for_members_of_the_school(world, as_user, persona, status):
    url = reverse("schools:dashboard", kwargs={"school": world.school.slug})
    response = as_user(world.persona(persona)).get(url)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("people:login"))
    if status == 200:
        assert world.school.name in response.content.decode()


def test_unknown_school_is_404_like_a_forbidden_one(world):
    response = client_for(world.admin).get(reverse("schools:dashboard", kwargs={"school": "no-such-school"}))
    assert response.status_code == 404


@school_view(Perm.MANAGE_STUDENTS, writes=True)
def manage_students(request, ctx):
    return HttpResponse(f"ok {ctx.school.slug}")


@school_view(Perm.VIEW_ALL_STUDENTS)
def read_students(request, ctx):
    return HttpResponse("ok")


@school_view(staff=True)
def staff_only(request, ctx):
    return HttpResponse("ok")


GUARDED = [
    # view, persona, status
    (manage_students, "secretary", 200),
    (manage_students, "admin", 200),
    (manage_students, "director", 403),  # a member without the permission: 403
    (manage_students, "teacher", 403),
    (manage_students, "parent", 403),
    (manage_students, "viewer", 403),  # read-only, and lacks the permission
    (manage_students, "foreign_admin", 404),  # no role here: 404 before any permission check
    (read_students, "viewer", 200),
    (read_students, "deputy", 200),
    (read_students, "teacher", 403),
    (read_students, "student", 403),
    (staff_only, "teacher", 200),
    (staff_only, "secretary", 200),
    (staff_only, "student", 403),
    (staff_only, "parent", 403),
    (staff_only, "viewer", 403),
]


@pytest.mark.parametrize(("view", "persona", "status"), GUARDED, ids=lambda v: getattr(v, "__name__", str(v)))
def test_school_view_checks_role_permissions(world, view, persona, status):
    request = RequestFactory().get("/s/x/")
    request.user = world.persona(persona)
    outcome: int
    try:
        outcome = view(request, school=world.school.slug).status_code
    except PermissionDenied:
        outcome = 403
    except Http404:
        outcome = 404
    assert outcome == status


def test_read_only_viewer_is_refused_a_writing_view_even_with_the_permission(world):
    @school_view(Perm.VIEW_ALL_STUDENTS, writes=True)
    def write_something(request, ctx):
        return HttpResponse("written")

    request = RequestFactory().post("/s/x/")
    request.user = world.viewer
    with pytest.raises(PermissionDenied):
        write_something(request, school=world.school.slug)
    request.user = world.deputy
    assert write_something(request, school=world.school.slug).status_code == 200


def test_school_view_puts_the_context_on_the_request_for_the_templates(world):
    request = RequestFactory().get("/s/x/")
    request.user = world.secretary
    manage_students(request, school=world.school.slug)
    assert request.school_ctx.school == world.school
    assert request.school_ctx.roles == {"secretary"}
