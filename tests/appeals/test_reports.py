"""Parents report reasons of absence, the class teacher decides (R2.11, R2.8): scoped, validated, recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classbook.appeals import services
from classbook.appeals.models import AbsenceReport
from classbook.appeals.signals import absence_report_decided, absence_report_submitted
from classbook.core.models import AuditEntry
from classbook.journal.models import Attendance, JournalChange
from classbook.people.models import GuardianLink
from tests import factories as f
from tests.appeals.conftest import MON, TODAY, TUE, WED, absent, api, page, send

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 medical certificate"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 20


def _report(client, world, *, student=None, start="2026-10-05", end="2026-10-06", name="cert.pdf", content=PDF, **kw):
    data = {
        "student": (student or world.student).pk,
        "start": start,
        "end": end,
        "kind": kw.pop("kind", "illness"),
        "text": kw.pop("text", "Хворів, довідка № 12"),
    }
    if name:
        data["document"] = SimpleUploadedFile(name, content)
    return client.post(api(world, "/absence-reports"), data)


def _submit(world, **kw):
    return services.submit_absence_report(
        acting_user=world.parent,
        student=world.student,
        start=kw.get("start", MON),
        end=kw.get("end", TUE),
        kind="illness",
        text="Хворів",
        document=kw.get("document"),
    )


def test_parent_reports_with_a_document_and_it_is_recorded_and_announced(
    world, week, as_user, media, django_capture_on_commit_callbacks
):
    seen = []
    absence_report_submitted.connect(
        lambda sender, instance, **kw: seen.append((sender, instance.pk)), weak=False, dispatch_uid="test"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            res = _report(as_user(world.parent), world)
    finally:
        absence_report_submitted.disconnect(dispatch_uid="test")  # only this test's receiver
    assert res.status_code == 201, res.content
    body = res.json()
    assert (body["status"], body["start"], body["end"], body["reported_by"]) == (
        "pending",
        "2026-10-05",
        "2026-10-06",
        world.parent.short_name,
    )
    report = AbsenceReport.objects.get()
    assert report.document_name == "cert.pdf" and report.document_type == "application/pdf"
    assert report.document.name.startswith(f"absence-reports/{world.school.pk}/") and "cert" not in report.document.name
    assert seen == [(AbsenceReport, report.pk)]
    assert AuditEntry.objects.filter(action="appeals.absence_report.submitted", actor=world.parent).exists()


def test_parent_reports_from_the_page(world, week, as_user):
    client = as_user(world.parent)
    assert client.get(page(world, "/reports/new/")).status_code == 200
    response = client.post(
        page(world, "/reports/new/"),
        {"student": world.student.pk, "start": "2026-10-08", "end": "2026-10-09", "kind": "family", "text": "Поїздка"},
    )
    assert response.status_code == 302
    assert AbsenceReport.objects.get().start == dt.date(2026, 10, 8)  # in advance
    assert "Поїздка" in client.get(page(world, "/reports/")).content.decode()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"start": "2026-10-06", "end": "2026-10-05"}, "invalid_range"),
        ({"start": "2026-10-08", "end": "2026-11-20"}, "range_too_long"),
        ({"start": "2026-11-20", "end": "2026-11-21"}, "too_far_ahead"),
        ({"start": "2026-07-01", "end": "2026-07-02"}, "too_far_back"),
        ({"name": "cert.exe", "content": b"MZ"}, "invalid_document_type"),
        ({"name": "cert.pdf", "content": PNG}, "invalid_document_type"),
        ({"name": "cert.png", "content": b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024)}, "invalid_document_size"),
        ({"name": "empty.pdf", "content": b""}, "invalid_document_size"),
        ({"kind": "holiday"}, "invalid_kind"),
        ({"text": "   "}, "required"),
    ],
)
def test_bad_reports_are_refused_clearly_and_nothing_is_stored(world, week, as_user, media, change, code):
    res = _report(as_user(world.parent), world, **change)
    assert res.status_code == 422, res.content
    error = res.json()["error"]
    assert error["code"] == code and error["message"]
    assert not AbsenceReport.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_page_form_shows_the_error_for_a_reversed_range(world, week, as_user):
    response = as_user(world.parent).post(
        page(world, "/reports/new/"),
        {"student": world.student.pk, "start": "2026-10-06", "end": "2026-10-05", "kind": "illness", "text": "x"},
    )
    assert response.status_code == 200 and "The last day is before the first day." in response.content.decode()
    assert not AbsenceReport.objects.exists()


@pytest.mark.parametrize("link", [{"may_see": False}, {"ended_on": TODAY}, {"ended_on": TODAY - dt.timedelta(days=3)}])
def test_a_restricted_or_ended_guardian_link_cannot_report(world, week, as_user, link):
    GuardianLink.objects.filter(guardian=world.parent).update(**link)
    res = _report(as_user(world.parent), world)
    assert res.status_code in (403, 404)
    assert not AbsenceReport.objects.exists()
    with pytest.raises(services.PermissionDeniedError):
        _submit(world)


@pytest.mark.parametrize("persona", ["other_parent", "student", "other_student", "class_teacher", "foreign_admin"])
def test_only_the_childs_parent_reports(world, week, as_user, persona):
    res = _report(as_user(world.persona(persona)), world)
    assert res.status_code in (403, 404)
    assert not AbsenceReport.objects.exists()


def test_accepting_puts_the_reason_on_the_absences_of_those_days_audited(world, week, as_user):
    week_thursday = f.make_assignment(world.other_teacher, world.class_a)  # a second subject of the class
    other_subject = week_thursday.lessons.create(school=world.school, date=TUE, created_by=world.other_teacher)
    third = absent(world, other_subject)
    outside = absent(world, week.lessons[WED])  # Wednesday: not in the report
    already = Attendance.objects.get(pk=week.absences[TUE].pk)
    from classbook.journal import services as journal_services

    journal_services.record_absence_reason(
        acting_user=world.class_teacher, attendance=already, reason="відомо", expected_version=1
    )
    report = _submit(world)
    res = send(
        as_user(world.class_teacher),
        "post",
        api(world, f"/absence-reports/{report.pk}/decision"),
        {"decision": "accept", "excused": True, "comment": "Довідку бачила"},
    )
    assert res.status_code == 200, res.content
    assert (res.json()["status"], res.json()["applied"], res.json()["excused"]) == ("accepted", 2, True)
    rows = {a.pk: a for a in Attendance.objects.all()}
    assert (rows[week.absences[MON].pk].reason, rows[week.absences[MON].pk].reason_excused) == ("Хворів", True)
    assert rows[third.pk].reason == "Хворів"
    assert rows[already.pk].reason == "відомо"  # a reason already recorded is kept
    assert rows[outside.pk].reason == ""
    change = JournalChange.objects.get(kind="reason", object_id=third.pk)
    assert change.actor == world.class_teacher and change.reason == f"Absence report No {report.pk}"
    assert change.new_value == "[Illness, excused] Хворів"
    # The parent sees the outcome.
    seen = as_user(world.parent).get(api(world, "/absence-reports")).json()["items"]
    assert [(r["status"], r["comment"], r["decided_by"]) for r in seen] == [
        ("accepted", "Довідку бачила", world.class_teacher.short_name)
    ]


def test_rejecting_needs_a_comment_and_changes_no_absence(world, week, as_user, django_capture_on_commit_callbacks):
    report = _submit(world)
    client = as_user(world.class_teacher)
    url = api(world, f"/absence-reports/{report.pk}/decision")
    res = send(client, "post", url, {"decision": "reject"})
    assert res.status_code == 422 and res.json()["error"]["fields"] == {"comment": [res.json()["error"]["message"]]}
    assert AbsenceReport.objects.get().status == "pending"
    decided = []
    absence_report_decided.connect(
        lambda sender, instance, **kw: decided.append(instance.status), weak=False, dispatch_uid="test"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            res = send(client, "post", url, {"decision": "reject", "comment": "Довідка не від лікаря"})
    finally:
        absence_report_decided.disconnect(dispatch_uid="test")  # only this test's receiver
    assert res.status_code == 200 and res.json()["status"] == "rejected"
    assert decided == ["rejected"]
    assert not JournalChange.objects.filter(kind="reason").exists()
    again = send(client, "post", url, {"decision": "accept"})
    assert again.status_code == 422 and again.json()["error"]["code"] == "already_decided"
    assert "Довідка не від лікаря" in as_user(world.parent).get(page(world, "/reports/")).content.decode()


@pytest.mark.parametrize(("persona", "status"), [("deputy", 403), ("teacher", 404), ("other_parent", 404)])
def test_only_the_class_teacher_decides(world, week, as_user, persona, status):
    report = _submit(world)
    res = send(
        as_user(world.persona(persona)),
        "post",
        api(world, f"/absence-reports/{report.pk}/decision"),
        {"decision": "accept"},
    )
    assert res.status_code == status
    assert AbsenceReport.objects.get().status == "pending"


def test_the_parent_cannot_decide_their_own_report(world, week, as_user):
    report = _submit(world)
    res = send(
        as_user(world.parent), "post", api(world, f"/absence-reports/{report.pk}/decision"), {"decision": "accept"}
    )
    assert res.status_code == 403 and AbsenceReport.objects.get().status == "pending"


def test_a_report_in_advance_is_applied_to_absences_recorded_later(world, week, as_user):
    report = _submit(world, start=WED, end=WED)
    client = as_user(world.class_teacher)
    decided = send(client, "post", api(world, f"/absence-reports/{report.pk}/decision"), {"decision": "accept"})
    assert decided.json()["applied"] == 0
    row = absent(world, week.lessons[WED])
    res = send(client, "post", api(world, f"/absence-reports/{report.pk}/apply"))
    assert res.status_code == 200 and res.json()["applied"] == 1
    assert Attendance.objects.get(pk=row.pk).reason == "Хворів"


DOC_PERSONAS = [
    ("parent", 200),
    ("class_teacher", 200),
    ("deputy", 200),
    ("director", 200),
    ("student", 200),
    ("teacher", 404),
    ("other_teacher", 404),
    ("secretary", 404),
    ("viewer", 404),
    ("other_parent", 404),
    ("other_student", 404),
    ("foreign_admin", 404),
    ("foreign_student", 404),
]


@pytest.mark.parametrize(("persona", "status"), DOC_PERSONAS)
def test_document_is_served_only_to_those_who_may_read_the_report(world, week, as_user, persona, status):
    report = _submit(world, document=SimpleUploadedFile("cert.pdf", PDF))
    client = as_user(world.persona(persona))
    for url in (page(world, f"/reports/{report.pk}/document/"), api(world, f"/absence-reports/{report.pk}/document")):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 200:
            assert b"".join(response.streaming_content) == PDF
            assert "cert.pdf" in response["Content-Disposition"]


def test_document_is_hidden_once_the_guardian_link_ends(world, week, as_user):
    report = _submit(world, document=SimpleUploadedFile("cert.pdf", PDF))
    GuardianLink.objects.filter(guardian=world.parent).update(ended_on=TODAY)
    assert as_user(world.parent).get(page(world, f"/reports/{report.pk}/document/")).status_code == 404


def test_anonymous_is_sent_to_login_or_401(world, week, client):
    report = _submit(world, document=SimpleUploadedFile("cert.pdf", PDF))
    assert client.get(page(world, f"/reports/{report.pk}/document/")).status_code == 302
    assert client.get(api(world, f"/absence-reports/{report.pk}/document")).status_code == 401


@pytest.mark.parametrize(
    ("persona", "visible"),
    # None: refused (403), as by the page (access.appeals.may_open_reports)
    [("parent", 1), ("student", 1), ("class_teacher", 1), ("deputy", 1), ("teacher", None), ("other_parent", 0)],
)
def test_report_lists_are_scoped(world, week, as_user, persona, visible):
    _submit(world)
    res = as_user(world.persona(persona)).get(api(world, "/absence-reports"))
    assert res.status_code == (403 if visible is None else 200)
    assert visible is None or len(res.json()["items"]) == visible == res.json()["count"]


def test_reports_page_costs_the_same_with_more_reports(world, week, as_user, django_assert_max_num_queries):
    client = as_user(world.class_teacher)
    _submit(world)
    with django_assert_max_num_queries(30) as small:
        assert client.get(page(world, "/reports/")).status_code == 200
    for i in range(6):
        student = f.make_student(world.class_a)
        parent = f.make_parent(student)
        report = services.submit_absence_report(
            acting_user=parent, student=student, start=MON, end=MON, kind="illness", text=f"r{i}"
        )
        if i % 2:
            services.decide_absence_report(acting_user=world.class_teacher, report=report, accept=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(page(world, "/reports/"))
    assert len(response.context["pending"]) + len(response.context["decided"]) == 7
