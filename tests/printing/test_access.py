"""Who may print which journal pages (R6.6), tried from every side: other school, other class, another
teacher's subject, student, parent, secretary, authority viewer, anonymous. No PDF is rendered here except
one through the API (the page tests' PDFs are in ``test_journal_pdf``)."""

from __future__ import annotations

import json

import pytest

from classbook.access.context import build_context
from classbook.access.printing import may_print_whole_class, printable_assignments, printable_classes
from classbook.printing.models import PrintedCopy
from classbook.schools.models import TeachingAssignment
from tests import factories as f
from tests.conftest import client_for

# persona -> status of the print page of 5-А (class_a)
CLASS_A_PAGE = {
    "admin": 200,
    "director": 200,
    "deputy": 200,
    "teacher": 200,  # teaches mathematics in 5-А
    "class_teacher": 200,
    "other_teacher": 404,  # teaches 5-Б only: 5-А is not even named
    "secretary": 403,
    "student": 403,
    "parent": 403,
    "viewer": 403,  # authority viewers read journals, the school certifies its copies
    "foreign_admin": 404,
    "foreign_teacher": 404,
    "anonymous": 302,
}


@pytest.mark.parametrize(("persona", "status"), CLASS_A_PAGE.items())
def test_who_opens_the_print_page_of_a_class(world, persona, status):
    response = client_for(world.persona(persona)).get(f"/s/{world.school.slug}/print/class/{world.class_a.pk}/")
    assert response.status_code == status


def test_a_teacher_prints_only_own_subjects_and_a_class_teacher_the_whole_class(world):
    history = f.make_assignment(world.other_teacher, world.class_a, f.SubjectFactory(school=world.school))
    teacher = build_context(world.teacher, world.school)
    homeroom = build_context(world.class_teacher, world.school)
    other = build_context(world.other_teacher, world.school)
    math = TeachingAssignment.objects.get(school_class=world.class_a, subject=world.subject)
    assert set(printable_assignments(teacher, world.class_a)) == {math}
    assert set(printable_assignments(homeroom, world.class_a)) == {math, history}
    assert set(printable_assignments(other, world.class_a)) == {history}  # now teaches in 5-А too
    assert set(printable_assignments(teacher, world.foreign_class)) == set()
    assert not may_print_whole_class(teacher, world.class_a) and may_print_whole_class(homeroom, world.class_a)
    assert not may_print_whole_class(homeroom, world.class_b)
    assert world.foreign_class not in set(printable_classes(build_context(world.admin, world.school)))


def test_a_teacher_cannot_print_another_teachers_journal_or_the_summary_sheet(world):
    history = f.make_assignment(world.other_teacher, world.class_a, f.SubjectFactory(school=world.school))
    client = client_for(world.teacher)
    base = f"/s/{world.school.slug}/print/class/{world.class_a.pk}"
    data = {"start": "2026-09-01", "end": "2026-10-01", "journals": [history.pk], "sections": ["subjects"]}
    assert client.post(f"{base}/journal.pdf", data).status_code == 422
    assert client.post(f"{base}/summary.pdf", data).status_code == 403
    bad = {**data, "journals": [], "start": "2026-10-01", "end": "2026-09-01"}
    response = client.post(f"{base}/journal.pdf", bad)
    assert response.status_code == 422 and "The last day is before the first day." in response.content.decode()
    assert not PrintedCopy.objects.filter(school=world.school).exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("deputy", 200), ("teacher", 200), ("secretary", 200), ("parent", 403), ("student", 403), ("foreign_admin", 404)],
)
def test_who_verifies_a_printed_copy(world, persona, status):
    PrintedCopy.objects.create(
        school=world.school,
        code="ACDE-FGHJ",
        sha256="0" * 64,
        kind="journal",
        school_class=world.class_a,
        printed_by=world.deputy,
        printed_at="2026-12-01T10:00:00Z",
        start="2026-09-01",
        end="2026-12-01",
    )
    response = client_for(world.persona(persona)).get(f"/s/{world.school.slug}/print/verify/", {"code": "acde fghj"})
    assert response.status_code == status
    api = client_for(world.persona(persona)).get(f"/api/v1/schools/{world.school.slug}/print/copies/ACDE-FGHJ")
    assert api.status_code == status
    if status == 200:
        assert api.json()["printed_by"] == world.deputy.full_name


def test_the_api_prints_a_pdf_and_refuses_in_the_error_shape(world):
    url = f"/api/v1/schools/{world.school.slug}/print/classes/{world.class_a.pk}/journal"
    body = {"start": "2026-09-01", "end": "2026-09-30", "sections": ["title", "subjects"]}

    def post(user, payload):
        return client_for(user).post(url, data=json.dumps(payload), content_type="application/json")

    response = post(world.teacher, body)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert PrintedCopy.objects.filter(code=response["X-Verification-Code"], printed_by=world.teacher).exists()
    bad = post(world.teacher, {**body, "end": "2026-08-01"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid"
    assert post(world.teacher, {**body, "sections": ["diary"]}).status_code == 422
    assert post(world.student.user, body).status_code == 403
    assert post(world.other_teacher, body).status_code == 404
    assert post(world.foreign_admin, body).status_code == 404
    summary = url.replace("/journal", "/summary")
    assert client_for(world.teacher).post(summary, json.dumps(body), content_type="application/json").status_code == 403
    assert PrintedCopy.objects.count() == 1


def test_the_print_pages_cost_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    for _ in range(5):
        f.make_assignment(world.teacher, world.class_a, f.SubjectFactory(school=world.school))
    client = client_for(world.deputy)
    with django_assert_max_num_queries(12):
        assert client.get(f"/s/{world.school.slug}/print/class/{world.class_a.pk}/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/s/{world.school.slug}/print/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/s/{world.school.slug}/print/verify/", {"code": "ACDE-FGHJ"}).status_code == 404


def test_the_layout_follows_the_class(world):
    from classbook.printing.queries import Layout, layout_of
    from classbook.schools.models import ClassKind, Country

    assert layout_of(world.class_a) == Layout.UA  # 5-А of a Ukrainian school
    world.class_a.year_level.number = 3
    assert layout_of(world.class_a) == Layout.UA_PRIMARY  # order No. 412
    world.school.country = Country.RUSSIAN_STYLE
    world.class_a.school = world.school
    assert layout_of(world.class_a) == Layout.RU
    world.class_a.kind = ClassKind.GROUP
    assert layout_of(world.class_a) == Layout.GROUP
