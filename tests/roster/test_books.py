"""The roster's books (issue 13): the book of certificates issued (R7.3), parents' requests to change personal
data (R7.6) and the weekly change feed (R7.1). Each access rule is tried by every persona (another school,
another child, a student, anonymous...); a refused request changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from html import escape

import pytest
from django.urls import reverse

from classbook.access.context import build_context
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.people.models import Role
from classbook.roster import books, feed, services
from classbook.roster.models import ChangeRequest, IssuedDocument, RequestStatus
from tests import factories as f
from tests.roster.conftest import ALL_PERSONAS, url

TODAY = dt.date(2026, 11, 16)
API = "/api/v1/schools/lyceum-1"

#                 adm  dir  dep  sec  tea  ct   ot   stu  par  opa  vie  fad  anon
BOOK_READ = [200, 200, 200, 200, 403, 403, 403, 403, 403, 403, 200, 404, 302]
BOOK_WRITE = [200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 404, 302]
REVIEW = [200, 403, 403, 200, 403, 200, 403, 403, 403, 403, 403, 404, 302]
REQUEST = [403, 403, 403, 403, 403, 403, 403, 403, 200, 200, 403, 404, 302]
FEED = [200, 403, 403, 200, 403, 403, 403, 403, 403, 403, 403, 404, 302]

# page -> (its URL, the API list of the same rule or None, expected per persona). The API answers the page's
# status, 401 where the page sends an anonymous user to the login page.
PAGES = {
    "certificates": (lambda w: url("certificates"), "/certificates", BOOK_READ),
    "certificate_add": (lambda w: url("certificate_add") + f"?student={w.student.pk}", None, BOOK_WRITE),
    "change_requests": (lambda w: url("change_requests"), "/change-requests", REVIEW),
    "my_requests": (lambda w: url("my_requests"), "/change-requests/mine", REQUEST),
    "changes": (lambda w: url("changes"), "/roster-changes", FEED),
}
CASES = [
    pytest.param(page, persona, expected[i], id=f"{page}-{persona}")
    for page, (_, _api, expected) in PAGES.items()
    for i, persona in enumerate(ALL_PERSONAS)
]


def ctx_of(world, user):
    return build_context(user, world.school)


def doc_data(**overrides):
    data = {"kind": "basic", "series": "ва", "number": "12345678", "issued_on": TODAY, "remarks": ""}
    return data | overrides


@pytest.mark.parametrize(("page", "persona", "expected"), CASES)
def test_page_and_api_refuse_the_same_callers(world, as_user, page, persona, expected):
    make_url, api_path, _ = PAGES[page]
    client = as_user(world.persona(persona))
    assert client.get(make_url(world)).status_code == expected
    if api_path is not None:
        assert client.get(API + api_path).status_code == (401 if expected == 302 else expected)


# --- the book of certificates issued ----------------------------------------------------------------------


def test_secretary_records_a_document_and_the_page_and_pdf_show_it(world, as_user):
    parent_id = world.parent.pk
    data = {**doc_data(), "issued_on": "2026-11-16", "received_by_guardian": parent_id, "receipt_signed": "on"}
    response = as_user(world.secretary).post(url("certificate_add"), {**data, "student": world.student.pk})
    assert response.status_code == 302
    doc = IssuedDocument.objects.get()
    assert (doc.series, doc.number, doc.received_by_name) == ("ВА", "12345678", world.parent.full_name)
    assert doc.receipt_signed and doc.recorded_by == world.secretary
    entry = AuditEntry.objects.get(action="roster.certificate.recorded")
    assert entry.actor == world.secretary and entry.data["new"]["number"] == "12345678"
    page = as_user(world.deputy).get(url("certificates")).content.decode()
    assert "12345678" in page and escape(world.parent.full_name) in page
    pdf = as_user(world.deputy).get(url("certificates_pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


@pytest.mark.parametrize("persona", ["deputy", "teacher", "class_teacher", "parent", "student", "viewer"])
def test_only_keepers_record_a_document(world, as_user, persona):
    before = IssuedDocument.objects.count(), AuditEntry.objects.count()
    data = {**doc_data(), "issued_on": "2026-11-16", "student": world.student.pk}
    response = as_user(world.persona(persona)).post(url("certificate_add") + f"?student={world.student.pk}", data)
    assert response.status_code == 403
    api = as_user(world.persona(persona)).post(
        API + "/certificates",
        json.dumps({**data, "student_id": world.student.pk}),
        content_type="application/json",
    )
    assert api.status_code == 403
    assert (IssuedDocument.objects.count(), AuditEntry.objects.count()) == before


def test_foreign_student_and_other_childs_guardian_are_refused(world, as_user):
    client = as_user(world.secretary)
    before = IssuedDocument.objects.count(), AuditEntry.objects.count()
    data = {**doc_data(), "issued_on": "2026-11-16"}
    assert client.get(url("certificate_add") + f"?student={world.foreign_student.pk}").status_code == 404
    assert client.get(url("certificate_add") + "?student=abc").status_code == 404
    api = client.post(
        API + "/certificates",
        json.dumps({**data, "student_id": world.foreign_student.pk}),
        content_type="application/json",
    )
    assert api.status_code == 422 and api.json()["error"]["fields"]["student_id"]
    ctx = ctx_of(world, world.secretary)
    with pytest.raises(DomainError) as exc:
        books.record_issued_document(
            ctx=ctx, student=world.student, data=doc_data(received_by_guardian=world.other_parent.pk)
        )
    assert exc.value.field == "received_by_guardian"
    assert (IssuedDocument.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "passport"}, "kind"),
        ({"series": ""}, "series"),
        ({"series": "=A1"}, "series"),
        ({"number": "12 34"}, "number"),
        ({"issued_on": TODAY + dt.timedelta(days=1)}, "issued_on"),
        ({"issued_on": dt.date(1900, 1, 1)}, "issued_on"),
        ({"issued_on": None}, "issued_on"),
        ({"remarks": "x" * 501}, "remarks"),
    ],
)
def test_bad_lines_are_refused_with_a_translated_message(world, overrides, field):
    ctx = ctx_of(world, world.secretary)
    with pytest.raises(DomainError) as exc:
        books.record_issued_document(ctx=ctx, student=world.student, data=doc_data(**overrides))
    assert exc.value.field == field and str(exc.value.message)
    assert not IssuedDocument.objects.exists()


def test_series_and_number_are_unique_in_the_school_but_not_across_schools(world):
    books.record_issued_document(ctx=ctx_of(world, world.secretary), student=world.student, data=doc_data())
    with pytest.raises(ConflictError):
        books.record_issued_document(
            ctx=ctx_of(world, world.director), student=world.other_student, data=doc_data(series="ВА ")
        )
    foreign = books.record_issued_document(
        ctx=build_context(world.foreign_admin, world.other_school), student=world.foreign_student, data=doc_data()
    )
    assert foreign.school == world.other_school
    assert IssuedDocument.objects.count() == 2


def test_a_correction_keeps_the_old_values_and_needs_a_reason_and_the_current_version(world, as_user):
    ctx = ctx_of(world, world.secretary)
    doc = books.record_issued_document(ctx=ctx, student=world.student, data=doc_data())
    with pytest.raises(DomainError):
        books.correct_issued_document(
            ctx=ctx, document=doc, data=doc_data(number="87654321"), reason=" ", expected_version=1
        )
    with pytest.raises(ConflictError):
        books.correct_issued_document(
            ctx=ctx, document=doc, data=doc_data(number="87654321"), reason="typo", expected_version=2
        )
    with pytest.raises(PermissionDeniedError):
        books.correct_issued_document(
            ctx=ctx_of(world, world.deputy), document=doc, data=doc_data(number="1"), reason="typo", expected_version=1
        )
    doc.refresh_from_db()
    assert (doc.number, doc.version) == ("12345678", 1)
    api = as_user(world.director).post(
        API + f"/certificates/{doc.pk}/corrections",
        json.dumps({**doc_data(number="87654321", issued_on="2026-11-16"), "reason": "typo", "version": 1}),
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["number"] == "87654321" and api.json()["version"] == 2
    entry = AuditEntry.objects.get(action="roster.certificate.corrected")
    assert entry.data["changes"]["number"] == {"old": "12345678", "new": "87654321"}
    assert entry.data["reason"] == "typo"
    stale = as_user(world.secretary).post(
        API + f"/certificates/{doc.pk}/corrections",
        json.dumps({**doc_data(number="1", issued_on="2026-11-16"), "reason": "x", "version": 1}),
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert as_user(world.secretary).delete(API + f"/certificates/{doc.pk}").status_code == 405
    assert IssuedDocument.objects.filter(pk=doc.pk, number="87654321").exists()


def test_book_page_reads_a_constant_number_of_queries(world, as_user, django_assert_max_num_queries):
    ctx = ctx_of(world, world.secretary)
    client = as_user(world.deputy)
    books.record_issued_document(ctx=ctx, student=world.student, data=doc_data())
    with django_assert_max_num_queries(12) as small:
        client.get(url("certificates"))
    for i in range(15):
        s = f.make_student(world.class_a)
        books.record_issued_document(ctx=ctx, student=s, data=doc_data(number=f"{i:08d}"))
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url("certificates")).status_code == 200


# --- parents report changes of personal data ------------------------------------------------------------


def _written(world):
    """What a request or a decision writes: requests, audit entries, the child's and the parent's data."""
    student = type(world.student).objects.select_related("user").get(pk=world.student.pk)
    parent = type(world.parent).objects.get(pk=world.parent.pk)
    return (
        ChangeRequest.objects.count(),
        AuditEntry.objects.count(),
        student.phone,
        student.user.last_name,
        parent.email,
        parent.phone,
    )


def _submit(world, as_user, parent, student, **changes):
    data = {"student": student.pk, "target": "student", **changes}
    return as_user(parent).post(url("my_requests"), data)


def test_parent_reports_a_new_phone_and_the_class_teacher_applies_it(world, as_user):
    assert _submit(world, as_user, world.parent, world.student, phone="+380 67 123 45 67").status_code == 302
    request = ChangeRequest.objects.get()
    assert request.status == RequestStatus.PENDING and request.changes == {"phone": "+380 67 123 45 67"}
    world.student.refresh_from_db()
    assert world.student.phone != "+380 67 123 45 67"  # nothing changes before a decision
    assert "+380 67 123 45 67" in as_user(world.class_teacher).get(url("change_requests")).content.decode()
    response = as_user(world.class_teacher).post(url("change_request_decide", request_id=request.pk), {"accept": "1"})
    assert response.status_code == 302
    world.student.refresh_from_db()
    assert world.student.phone == "+380 67 123 45 67"
    applied = AuditEntry.objects.get(action="roster.student.updated")
    assert applied.data["change_request"] == request.pk and applied.actor == world.class_teacher
    assert AuditEntry.objects.filter(action="roster.change_request.accepted", object_id=str(request.pk)).exists()
    outcome = as_user(world.parent).get(url("my_requests")).content.decode()
    assert "+380 67 123 45 67" in outcome
    twice = as_user(world.secretary).post(
        API + f"/change-requests/{request.pk}/decision",
        json.dumps({"accept": False, "reason": "x"}),
        content_type="application/json",
    )
    assert twice.status_code == 409


def test_parent_changes_own_email_through_the_api_and_the_secretary_rejects_then_accepts(world, as_user):
    client = as_user(world.parent)
    body = {"student_id": world.student.pk, "target": "guardian", "changes": {"email": "new@example.org"}}
    first = client.post(API + "/change-requests/mine", json.dumps(body), content_type="application/json")
    assert first.status_code == 201, first.content
    secretary = as_user(world.secretary)
    decision = API + f"/change-requests/{first.json()['id']}/decision"
    no_reason = secretary.post(decision, json.dumps({"accept": False}), content_type="application/json")
    assert no_reason.status_code == 422
    rejected = secretary.post(
        decision, json.dumps({"accept": False, "reason": "Підтвердіть"}), content_type="application/json"
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    world.parent.refresh_from_db()
    assert world.parent.email != "new@example.org"
    mine = client.get(API + "/change-requests/mine").json()["items"]
    assert mine[0]["status"] == "rejected" and mine[0]["decision_reason"] == "Підтвердіть"
    second = client.post(API + "/change-requests/mine", json.dumps(body), content_type="application/json")
    accepted = secretary.post(
        API + f"/change-requests/{second.json()['id']}/decision",
        json.dumps({"accept": True}),
        content_type="application/json",
    )
    assert accepted.status_code == 200
    world.parent.refresh_from_db()
    assert world.parent.email == "new@example.org"
    assert AuditEntry.objects.get(action="roster.guardian.updated").data["change_request"] == second.json()["id"]


@pytest.mark.parametrize(
    ("persona", "child", "expected"),
    [
        ("parent", "other_student", 404),
        ("parent", "foreign_student", 404),
        ("other_parent", "student", 404),
        ("student", "student", 403),
        ("class_teacher", "student", 403),
        ("secretary", "student", 403),
        ("viewer", "student", 403),
        ("foreign_admin", "student", 404),
        ("anonymous", "student", 401),
    ],
)
def test_a_request_only_for_ones_own_child(world, as_user, persona, child, expected):
    before = _written(world)
    body = {"student_id": getattr(world, child).pk, "target": "student", "changes": {"phone": "+380671234567"}}
    response = as_user(world.persona(persona)).post(
        API + "/change-requests/mine", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == expected
    page = as_user(world.persona(persona)).post(
        url("my_requests"), {"student": getattr(world, child).pk, "target": "student", "phone": "+380671234567"}
    )
    assert page.status_code in (200, 302, 403, 404)
    assert _written(world) == before


def test_the_service_refuses_a_request_for_another_child(world):
    with pytest.raises(PermissionDeniedError):
        books.submit_change_request(
            ctx=ctx_of(world, world.parent),
            student=world.other_student,
            target="student",
            changes={"phone": "+380671234567"},
        )


@pytest.mark.parametrize(
    ("target", "changes", "reason", "field"),
    [
        ("student", {"last_name": "Нова"}, "", "reason"),
        ("student", {"email": "a@b.c"}, "", "email"),
        ("guardian", {"address": "Київ"}, "", "address"),
        ("student", {"phone": "call me"}, "", "phone"),
        ("guardian", {"email": "not-an-email"}, "", "email"),
        ("student", {"address": "x" * 256}, "", "address"),
        ("student", {}, "", None),
        ("pet", {"phone": "+380671234567"}, "", "target"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(world, target, changes, reason, field):
    with pytest.raises(DomainError) as exc:
        books.submit_change_request(
            ctx=ctx_of(world, world.parent), student=world.student, target=target, changes=changes, reason=reason
        )
    assert exc.value.field == field and str(exc.value.message)
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize("persona", ["other_teacher", "teacher", "deputy", "director", "parent", "viewer"])
def test_only_the_class_teacher_and_the_secretary_decide(world, as_user, persona):
    request = books.submit_change_request(
        ctx=ctx_of(world, world.parent), student=world.student, target="student", changes={"phone": "+380671234567"}
    )
    before = _written(world)
    response = as_user(world.persona(persona)).post(
        API + f"/change-requests/{request.pk}/decision", json.dumps({"accept": True}), content_type="application/json"
    )
    assert response.status_code in (403, 404)
    page = as_user(world.persona(persona)).post(url("change_request_decide", request_id=request.pk), {"accept": "1"})
    assert page.status_code in (403, 404)
    request.refresh_from_db()
    assert request.status == RequestStatus.PENDING and _written(world) == before


def test_class_teacher_does_not_see_another_class_request(world, as_user):
    other = books.submit_change_request(
        ctx=ctx_of(world, world.other_parent),
        student=world.other_student,
        target="student",
        changes={"phone": "+380671234567"},
    )
    client = as_user(world.class_teacher)
    assert client.get(API + "/change-requests").json()["count"] == 0
    assert client.post(url("change_request_decide", request_id=other.pk), {"accept": "1"}).status_code == 404
    with pytest.raises(PermissionDeniedError):
        books.decide_change_request(ctx=ctx_of(world, world.class_teacher), request=other, accept=True)


def test_an_ended_link_stops_new_requests(world, as_user):
    services.end_guardian_link(acting_user=world.secretary, link=world.parent.guardian_links.get(), on=TODAY)
    response = _submit(world, as_user, world.parent, world.student, phone="+380671234567")
    assert response.status_code == 403
    assert not ChangeRequest.objects.exists()


# --- the weekly change feed -------------------------------------------------------------------------------


def _changes(world, n: int) -> None:
    for i in range(n):
        s = services.add_student(
            acting_user=world.secretary,
            school_class=world.class_a,
            data={"last_name": f"=Учень{i}", "first_name": "Іван"},
            start=TODAY,
        )
        services.update_student(
            acting_user=world.secretary, student=s, data={"phone": f"+38067{i:07d}"}, fields=("phone",)
        )


def test_feed_lists_enrolments_students_and_staff_changes_in_constant_queries(
    world, as_user, django_assert_max_num_queries
):
    client = as_user(world.secretary)
    _changes(world, 1)
    services.grant_role(acting_user=world.admin, school=world.school, user=world.teacher, role=Role.DEPUTY)
    with django_assert_max_num_queries(12) as small:
        page = client.get(url("changes") + "?since=2026-11-10")
    text = page.content.decode()
    assert "5-А" in text and "+380670000000" in text and world.teacher.last_name in text
    _changes(world, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url("changes") + "?since=2026-11-10").status_code == 200
    rows = feed.change_feed(ctx_of(world, world.secretary), dt.date(2026, 11, 10), TODAY)
    assert {r.section for r in rows} == {feed.CLASS_LISTS, feed.STAFF_LIST}
    assert len(rows) == 11 * 2 + 1


def test_feed_exports_csv_and_xlsx_without_formulas(world, as_user):
    from openpyxl import load_workbook

    _changes(world, 1)
    client = as_user(world.secretary)
    csv_text = client.get(url("changes") + "?since=2026-11-10&format=csv").content.decode("utf-8-sig")
    assert "'=Учень0" in csv_text and "\n=" not in csv_text and ";=" not in csv_text
    xlsx = client.get(API + "/roster-changes?since=2026-11-10&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [c.value for row in sheet.iter_rows() for c in row if c.value]
    assert any(str(v).startswith("'=Учень0") for v in values)
    assert not any(str(v).startswith("=") for v in values)


def test_feed_refuses_bad_days_with_a_message(world, as_user):
    client = as_user(world.secretary)
    assert client.get(url("changes") + "?since=2027-01-01").status_code == 400
    assert client.get(url("changes") + "?since=not-a-day").status_code == 400
    api = client.get(API + "/roster-changes?since=2026-11-16&until=2026-11-01")
    assert api.status_code == 422 and api.json()["error"]["fields"]["until"]
    assert client.get(API + "/roster-changes?since=2020-01-01").status_code == 422


def test_feed_never_shows_another_schools_changes(world, as_user):
    services.add_student(
        acting_user=world.foreign_admin,
        school_class=world.foreign_class,
        data={"last_name": "Чужий", "first_name": "Учень"},
    )
    assert "Чужий" not in as_user(world.secretary).get(url("changes")).content.decode()
    assert reverse("roster:changes", kwargs={"school": "gymnasium-2"})
    assert as_user(world.secretary).get(reverse("roster:changes", kwargs={"school": "gymnasium-2"})).status_code == 404
