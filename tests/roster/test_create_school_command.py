from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from classbook.people.credentials import find_usable_code
from classbook.people.models import Membership
from classbook.schools.models import School


def test_create_school_prints_a_working_activation_code_for_the_first_administrator(db):
    out = io.StringIO()
    call_command(
        "create_school",
        "--slug",
        "lyceum-5",
        "--name",
        "Ліцей № 5",
        "--admin-last-name",
        "Коваленко",
        "--admin-first-name",
        "Олена",
        stdout=out,
    )
    school = School.objects.get(slug="lyceum-5")
    admin = Membership.objects.get(school=school, role="admin").user
    code = out.getvalue().split("code ")[1].split(" ")[0]
    assert find_usable_code(code, admin.username).user == admin
    assert school.default_scale.kind == "12"


@pytest.mark.parametrize("slug", ["Bad Slug!", "x"])
def test_create_school_refuses_a_bad_slug_and_creates_nothing(db, slug):
    with pytest.raises(CommandError):
        call_command(
            "create_school",
            "--slug",
            slug,
            "--name",
            "N",
            "--admin-last-name",
            "A",
            "--admin-first-name",
            "B",
            stdout=io.StringIO(),
        )
    assert not School.objects.exists()


def test_create_school_refuses_an_existing_slug(db):
    School.objects.create(slug="lyceum-5", name="x")
    with pytest.raises(CommandError):
        call_command(
            "create_school",
            "--slug",
            "lyceum-5",
            "--name",
            "N",
            "--admin-last-name",
            "A",
            "--admin-first-name",
            "B",
            stdout=io.StringIO(),
        )
