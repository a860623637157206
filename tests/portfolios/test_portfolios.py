"""Portfolio flows (R8.2): files checked by content, the class teacher's approval with who and when, audited;
closed and kept after departure; projects of a group; the API; the PDF read back."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.portfolios import services
from classbook.portfolios.models import Entry, Project
from classbook.roster.services import withdraw_student
from tests.conftest import client_for
from tests.portfolios.conftest import NOW, TODAY, add, ctx_for


def _page(world, student=None):
    return f"/s/{world.school.slug}/portfolios/students/{(student or world.student).pk}/"


def test_student_adds_a_work_with_a_file_checked_by_its_content(world, django_assert_max_num_queries):
    client = client_for(world.student.user)
    form = {"kind": "work", "title": "Твір", "day": "2026-10-01", "description": "Осінь"}
    disguised = SimpleUploadedFile("work.pdf", b"<html><script>alert(1)</script></html>")
    refused = client.post(_page(world), {**form, "file": disguised})
    assert refused.status_code == 422 and not Entry.objects.exists()
    assert "cannot be attached" in refused.content.decode()

    pdf = SimpleUploadedFile("твір", b"%PDF-1.4 a real work")
    assert client.post(_page(world), {**form, "file": pdf}).status_code == 302
    entry = Entry.objects.get()
    assert (entry.file_name, entry.mime_type, entry.sharing) == ("твір.pdf", "application/pdf", "family")
    assert AuditEntry.objects.filter(action="portfolios.entry.added", object_id=str(entry.pk)).exists()
    with django_assert_max_num_queries(12):
        page = client.get(_page(world))
    assert "Твір" in page.content.decode() and "Family and class teacher only" in page.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("kind", "diploma", "invalid_kind"), ("day", TODAY.replace(day=8), "future_date"), ("title", " ", "required")],
)
def test_bad_input_is_refused_with_a_code(world, field, value, code):
    values = {"kind": "work", "title": "Т", "day": TODAY, field: value}
    with pytest.raises(DomainError) as refused:
        services.add_entry(ctx=ctx_for(world, world.student.user), student=world.student, **values)
    assert refused.value.code == code and not Entry.objects.exists()


def test_request_and_approval_record_who_and_when(world):
    entry = add(world, "Грамота", sharing="requested")
    assert (entry.sharing, entry.requested) == ("requested", "school")
    client = client_for(world.class_teacher)
    page = client.get(_page(world)).content.decode()
    assert "Waiting for the class teacher" in page and "Show to the school" in page
    client.post(f"/s/{world.school.slug}/portfolios/entries/{entry.pk}/decide/", {"sharing": "school"})
    entry.refresh_from_db()
    assert (entry.sharing, entry.shared_by, entry.shared_at) == ("school", world.class_teacher, NOW)
    shared = AuditEntry.objects.get(action="portfolios.entry.shared")
    assert shared.actor == world.class_teacher and shared.data == {"old": "requested", "new": "school"}

    services.decide_sharing(ctx=ctx_for(world, world.class_teacher), entry=entry, sharing="family")
    entry.refresh_from_db()
    assert (entry.sharing, entry.shared_by) == ("family", None)
    assert AuditEntry.objects.get(action="portfolios.entry.unshared").data == {"old": "school", "declined": False}


def test_a_teacher_may_not_remove_a_students_entry_but_the_class_teacher_may(world):
    entry = add(world, "Проєкт")
    with pytest.raises(PermissionDeniedError):
        services.remove_entry(ctx=ctx_for(world, world.teacher), entry=entry)
    services.remove_entry(ctx=ctx_for(world, world.class_teacher), entry=entry)
    assert not Entry.objects.exists()
    assert AuditEntry.objects.filter(action="portfolios.entry.removed", actor=world.class_teacher).exists()


def test_after_departure_the_portfolio_is_read_only_and_kept(world):
    entry = add(world, "Диплом", sharing="school")
    withdraw_student(acting_user=world.secretary, student=world.student, on=TODAY)
    parent = ctx_for(world, world.parent)
    with pytest.raises(ConflictError):
        services.remove_entry(ctx=parent, entry=entry)
    with pytest.raises(ConflictError):
        services.add_entry(ctx=ctx_for(world, world.teacher), student=world.student, kind="work", title="Т", day=TODAY)
    page = client_for(world.parent).get(_page(world)).content.decode()
    assert "Диплом" in page and 'id="portfolio-closed"' in page and 'id="entry-form"' not in page
    assert client_for(world.parent).post(_page(world), {"title": "x"}).status_code == 403
    # Kept with the personal file: the administration opens it from there and reads what the school was shown.
    file_page = client_for(world.secretary).get(f"/s/{world.school.slug}/records/students/{world.student.pk}/file/")
    assert f"/portfolios/students/{world.student.pk}/" in file_page.content.decode()
    assert "Диплом" in client_for(world.secretary).get(_page(world)).content.decode()
    assert Entry.objects.filter(pk=entry.pk).exists()


def test_a_project_of_a_group(world):
    client = client_for(world.class_teacher)
    form = {"school_class": world.class_a.pk, "title": "Екологія міста", "members": [world.student.pk]}
    stranger = client.post(
        f"/s/{world.school.slug}/portfolios/projects/new/", {**form, "members": [world.other_student.pk]}
    )
    assert stranger.status_code == 422 and not Project.objects.exists()  # another class's student
    assert client.post(f"/s/{world.school.slug}/portfolios/projects/new/", form).status_code == 302
    project = Project.objects.get()
    assert AuditEntry.objects.filter(action="portfolios.project.created", object_id=str(project.pk)).exists()

    member = client_for(world.student.user)
    url = f"/s/{world.school.slug}/portfolios/projects/{project.pk}/"
    assert member.post(url, {"kind": "work", "title": "Звіт", "day": "2026-10-02"}).status_code == 302
    entry = Entry.objects.get(project=project)
    assert "Звіт" in client_for(world.parent).get(url).content.decode()  # a member's family
    assert "Звіт" not in client_for(world.teacher).get(url).content.decode()  # not shared yet
    services.decide_sharing(ctx=ctx_for(world, world.class_teacher), entry=entry, sharing="class")
    assert "Звіт" in client_for(world.teacher).get(url).content.decode()
    assert client_for(world.other_student.user).get(url).status_code == 404
    assert (
        client_for(world.other_parent).post(url, {"kind": "work", "title": "x", "day": "2026-10-02"}).status_code == 404
    )
    with pytest.raises(PermissionDeniedError):
        services.create_project(
            ctx=ctx_for(world, world.other_teacher), school_class=world.class_a, title="x", members=[world.student]
        )


def _api(world, student):
    return f"/api/v1/schools/{world.school.slug}/portfolios/students/{student.pk}"


@pytest.mark.parametrize(
    ("persona", "status", "count"),
    [
        ("student", 200, 2),
        ("parent", 200, 2),
        ("teacher", 200, 1),
        ("other_parent", 404, None),
        ("viewer", 403, None),
        ("foreign_admin", 404, None),
        ("anonymous", 401, None),
    ],
)
def test_the_api_reads_own_or_childs_portfolio(world, persona, status, count, django_assert_max_num_queries):
    add(world, "Своє")
    add(world, "Для класу", sharing="class")
    client = client_for(world.persona(persona))
    with django_assert_max_num_queries(12):
        response = client.get(_api(world, world.student))
    assert response.status_code == status
    body = response.json()
    if count is None:
        assert "error" in body
    else:
        assert len(body["entries"]) == count and body["closed"] is False
        assert body["verification_code"] and body["entries"][0]["kind"] == "work"


def test_the_pdf_lists_the_entries_and_the_verification_code(world):
    from pypdf import PdfReader

    add(world, "Перемога в олімпіаді", sharing="school")
    client = client_for(world.parent)
    page = client.get(_page(world)).content.decode()
    response = client.get(f"{_page(world)}portfolio.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    code = text.split("verification code ")[1][:10]
    assert "Перемога в олімпіаді" in text and code in page
