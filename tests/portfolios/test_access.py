"""Who sees and changes which portfolio (R8.2, docs/portfolios.md "Who sees what"): tables that try to break every
rule — another school, another class, another child, another student, a read-only viewer, an anonymous user."""

from __future__ import annotations

import pytest

from classbook.access import portfolios as rules
from classbook.core.models import AuditEntry
from classbook.portfolios.models import Entry
from tests.conftest import client_for
from tests.portfolios.conftest import add, ctx_for


@pytest.fixture
def entries(world):
    """Four entries of world.student (one per sharing state) and one of other_student (family only)."""
    made = {s: add(world, s, sharing=s) for s in ("family", "requested", "class", "school")}
    made["other"] = add(world, "other", student=world.other_student)
    return made


VISIBLE = {
    "student": {"family", "requested", "class", "school"},
    "parent": {"family", "requested", "class", "school"},
    "class_teacher": {"family", "requested", "class", "school"},
    "teacher": {"class", "school"},  # teaches class_a: what the class teacher shared
    "other_teacher": {"school"},  # another class: only what was shared with the school
    "director": {"school"},
    "secretary": {"school"},
    "other_student": {"other"},  # another student: only their own
    "other_parent": {"other"},  # another child's parent
    "viewer": set(),  # a read-only authority viewer
}


@pytest.mark.parametrize(("persona", "titles"), list(VISIBLE.items()))
def test_entries_each_persona_sees(world, entries, persona, titles):
    ctx = ctx_for(world, world.persona(persona))
    assert {e.title for e in rules.visible_entries(ctx)} == titles


def test_another_schools_staff_sees_nothing_of_this_school(world, entries):
    foreign = ctx_for(world, world.foreign_admin)
    assert foreign is None  # no role here: every page and route answers 404
    other = ctx_for(world, world.foreign_teacher)
    assert other is None


PAGE = {
    "student": 200,
    "parent": 200,
    "class_teacher": 200,
    "teacher": 200,
    "admin": 200,
    "other_teacher": 404,  # another class
    "other_student": 404,
    "other_parent": 404,  # another child
    "viewer": 403,
    "foreign_admin": 404,  # another school
    "anonymous": 302,
}


@pytest.mark.parametrize(("persona", "status"), list(PAGE.items()))
def test_who_opens_a_students_portfolio_page(world, persona, status):
    url = f"/s/{world.school.slug}/portfolios/students/{world.student.pk}/"
    assert client_for(world.persona(persona)).get(url).status_code == status


def test_another_schools_student_in_our_url_is_404(world):
    url = f"/s/{world.school.slug}/portfolios/students/{world.foreign_student.pk}/"
    assert client_for(world.admin).get(url).status_code == 404


@pytest.mark.parametrize(
    ("persona", "status", "saved"),
    [("parent", 403, False), ("teacher", 302, True), ("other_student", 404, False), ("anonymous", 302, False)],
)
def test_who_may_add_an_entry(world, persona, status, saved):
    """The student and the class's teachers add; a parent reads only; others do not reach the page."""
    url = f"/s/{world.school.slug}/portfolios/students/{world.student.pk}/"
    form = {"kind": "olympiad", "title": "Олімпіада", "day": "2026-10-01"}
    response = client_for(world.persona(persona)).post(url, form)
    assert response.status_code == status
    assert Entry.objects.filter(title="Олімпіада").exists() == saved


@pytest.mark.parametrize("persona", ["teacher", "student", "parent", "other_teacher"])
def test_only_the_class_teacher_decides_on_sharing(world, persona):
    entry = add(world, "Есе", sharing="requested")
    before = AuditEntry.objects.count()
    response = client_for(world.persona(persona)).post(
        f"/s/{world.school.slug}/portfolios/entries/{entry.pk}/decide/", {"sharing": "school"}
    )
    assert response.status_code in (302, 404)
    entry.refresh_from_db()
    assert entry.sharing == "requested" and entry.shared_by is None
    assert AuditEntry.objects.count() == before


@pytest.mark.parametrize(
    ("persona", "family", "shared"),
    [("parent", 200, 200), ("teacher", 404, 200), ("other_parent", 404, 404), ("other_student", 404, 404)],
)
def test_files_follow_the_entries(world, persona, family, shared):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from classbook.portfolios import services
    from tests.portfolios.conftest import TODAY

    ctx = ctx_for(world, world.student.user)
    made = [
        services.add_entry(
            ctx=ctx,
            student=world.student,
            kind="certificate",
            title=t,
            day=TODAY,
            upload=SimpleUploadedFile(f"{t}.pdf", b"%PDF-1.4 certificate"),
        )
        for t in ("a", "b")
    ]
    services.decide_sharing(ctx=ctx_for(world, world.class_teacher), entry=made[1], sharing="class")
    client = client_for(world.persona(persona))
    codes = []
    for e in made:
        response = client.get(f"/s/{world.school.slug}/portfolios/entries/{e.pk}/file/")
        codes.append(response.status_code)
        if response.status_code == 200:  # read to the end: the test client closes the file then
            assert b"".join(response.streaming_content) == b"%PDF-1.4 certificate"
    assert codes == [family, shared]
