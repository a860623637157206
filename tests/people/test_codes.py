"""Activation codes and their printable slips (R1.2)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import ActivationCode
from tests import factories as f

CODE_RE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")


def codes_url(world, school=None):
    return reverse("school_people:codes", kwargs={"school": (school or world.school).slug})


def slips_url(world, school=None):
    return reverse("school_people:codes_slips", kwargs={"school": (school or world.school).slug})


def pdf_text(response) -> str:
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- the code itself ----------------------------------------------------------------


def test_generated_codes_are_four_groups_without_ambiguous_symbols():
    codes = {credentials.generate_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert CODE_RE.fullmatch(code)
        assert not set(code) & set("0O1IL")


@pytest.mark.parametrize(
    "typed", ["abcd-efgh-jkmn-pqrs", "ABCD EFGH JKMN PQRS", "abcdefghjkmnpqrs", " ABCD-EFGH-JKMN-PQRS "]
)
def test_typed_code_is_normalized_before_hashing(typed):
    assert credentials.hash_code(typed) == credentials.hash_code("ABCD-EFGH-JKMN-PQRS")


@pytest.mark.parametrize(
    "bad", ["", "ABCD", "ABCD-EFGH-JKMN-PQR0", "ABCD-EFGH-JKMN-PQRS-TUVW", "x" * 10_000, "ЖЖЖЖ-EFGH-JKMN-PQRS"]
)
def test_malformed_codes_are_not_codes(bad):
    assert credentials.normalize_code(bad) is None


def test_only_the_hash_is_stored_and_a_new_code_revokes_the_previous_unused_one(world):
    first = credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.teacher])[0]
    second = credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.teacher])[0]
    rows = ActivationCode.objects.filter(user=world.teacher).order_by("pk")
    assert [r.code_hash for r in rows] == [credentials.hash_code(first.code), credentials.hash_code(second.code)]
    assert not ActivationCode.objects.filter(code_hash__contains=first.code.replace("-", "")).exists()
    assert rows[0].revoked_at is not None and rows[1].revoked_at is None
    assert credentials.find_usable_code(first.code) is None
    assert credentials.find_usable_code(second.code).user == world.teacher
    actions = list(AuditEntry.objects.filter(school=world.school).values_list("action", flat=True).order_by("id"))
    assert actions == [
        "people.activation_code.issued",
        "people.activation_code.revoked",
        "people.activation_code.issued",
    ]


def test_code_expires_after_the_configured_days(world, settings):
    settings.CLASSBOOK_ACTIVATION_CODE_DAYS = 3
    issued = credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.parent])[0]
    assert issued.expires_at - timezone.now() == pytest.approx(dt.timedelta(days=3), abs=dt.timedelta(seconds=5))
    with time_machine.travel(timezone.now() + dt.timedelta(days=3, minutes=1)):
        assert credentials.find_usable_code(issued.code) is None


def test_issuing_for_a_deactivated_account_is_refused_and_changes_nothing(world):
    world.parent.is_active = False
    world.parent.save()
    with pytest.raises(credentials.DomainError):
        credentials.issue_activation_codes(
            acting_user=world.admin, school=world.school, users=[world.student.user, world.parent]
        )
    assert not ActivationCode.objects.exists()


# --- the codes page ------------------------------------------------------------------


def test_admin_sees_staff_students_and_parents_with_their_status(world, as_user):
    credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.parent])
    world.teacher.last_login = timezone.now()
    world.teacher.save()
    response = as_user(world.admin).get(codes_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    for person in (world.teacher, world.student.user, world.other_student.user, world.parent, world.director):
        assert escape(person.full_name) in html
    assert escape(world.foreign_student.user.full_name) not in html
    rows = {row.user: row for row in response.context["rows"]}
    assert rows[world.teacher].has_logged_in
    assert rows[world.parent].code_issued_at is not None
    assert rows[world.parent].describe.endswith("5-А")
    assert rows[world.student.user].code_issued_at is None and not rows[world.student.user].has_logged_in


def test_class_teacher_sees_only_own_class_students_and_parents(world, as_user):
    response = as_user(world.class_teacher).get(codes_url(world))
    assert response.status_code == 200
    people = {row.user for row in response.context["rows"]}
    assert people == {world.student.user, world.parent}


def test_admin_filters_by_class_and_kind(world, as_user):
    client = as_user(world.admin)
    response = client.get(codes_url(world), {"school_class": world.class_b.pk})
    assert {row.user for row in response.context["rows"]} == {world.other_student.user, world.other_parent}
    response = client.get(codes_url(world), {"school_class": world.class_a.pk, "kind": "parents"})
    assert {row.user for row in response.context["rows"]} == {world.parent}
    response = client.get(codes_url(world), {"kind": "staff"})
    people = {row.user for row in response.context["rows"]}
    assert world.teacher in people and world.student.user not in people


@pytest.mark.parametrize("garbage", ["abc", "-1", "9" * 40, "<script>", ""])
def test_codes_page_ignores_garbage_filters(world, as_user, garbage):
    response = as_user(world.admin).get(codes_url(world), {"school_class": garbage, "kind": garbage})
    assert response.status_code == 200


def test_class_teacher_cannot_list_another_class(world, as_user):
    response = as_user(world.class_teacher).get(codes_url(world), {"school_class": world.class_b.pk})
    assert response.status_code == 200
    assert {row.user for row in response.context["rows"]} == {world.student.user, world.parent}


def test_codes_page_query_count_does_not_grow_with_people(world, as_user, django_assert_max_num_queries):
    for _ in range(15):
        student = f.make_student(world.class_a)
        f.make_parent(student)
    client = as_user(world.admin)
    with django_assert_max_num_queries(17):
        response = client.get(codes_url(world))
    assert len(response.context["rows"]) > 30


# --- slips ------------------------------------------------------------------------------


def test_slips_pdf_has_name_username_and_a_code_that_works(world, as_user):
    response = as_user(world.class_teacher).post(slips_url(world), {"user": [world.student.user.pk, world.parent.pk]})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    text = pdf_text(response)
    assert world.student.user.full_name in text
    assert world.parent.full_name in text
    assert world.school.name in text
    assert "5-А" in text
    codes = CODE_RE.findall(text)
    assert len(codes) == 2
    owners = {credentials.find_usable_code(code).user for code in codes}
    assert owners == {world.student.user, world.parent}
    assert ActivationCode.objects.filter(issued_by=world.class_teacher, school=world.school).count() == 2


def test_slips_for_a_whole_class_fit_eight_to_a_page(world, as_user):
    for _ in range(14):
        f.make_student(world.class_a)
    client = as_user(world.admin)
    rows = client.get(codes_url(world), {"school_class": world.class_a.pk, "kind": "students"}).context["rows"]
    response = client.post(slips_url(world), {"user": [row.user.pk for row in rows]})
    reader = PdfReader(io.BytesIO(response.content))
    assert len(rows) == 15
    assert len(reader.pages) == 2


# persona -> (GET codes page status, POST slips for the student's parent status)
PERMISSIONS = [
    ("admin", 200, 200),
    ("class_teacher", 200, 200),
    ("teacher", 403, 403),
    ("other_teacher", 403, 403),
    ("director", 403, 403),
    ("secretary", 403, 403),
    ("student", 403, 403),
    ("parent", 403, 403),
    ("viewer", 403, 403),
    ("foreign_admin", 404, 404),
    ("anonymous", 302, 302),
]


@pytest.mark.parametrize(("persona", "page_status", "slips_status"), PERMISSIONS)
def test_who_may_issue_codes(world, as_user, persona, page_status, slips_status):
    client = as_user(world.persona(persona))
    response = client.get(codes_url(world))
    assert response.status_code == page_status
    if page_status == 302:
        assert reverse("people:login") in response["Location"]
    response = client.post(slips_url(world), {"user": [world.parent.pk]})
    assert response.status_code == slips_status
    if slips_status != 200:
        assert not ActivationCode.objects.exists()


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("class_teacher", "other_student"),  # another class
        ("class_teacher", "other_parent"),
        ("class_teacher", "teacher"),  # staff: administrators only
        ("class_teacher", "foreign_student"),  # another school
        ("admin", "foreign_student"),
        ("admin", "foreign_teacher"),
        ("admin", "viewer"),  # no role in the school
    ],
)
def test_codes_for_people_out_of_reach_answer_404_and_change_nothing(world, as_user, persona, target):
    client = as_user(world.persona(persona))
    response = client.post(slips_url(world), {"user": [world.parent.pk, world.persona(target).pk]})
    assert response.status_code == 404
    revoke = reverse(
        "school_people:codes_revoke", kwargs={"school": world.school.slug, "user_id": world.persona(target).pk}
    )
    assert client.post(revoke).status_code == 404
    assert not ActivationCode.objects.exists()


def test_foreign_admin_cannot_issue_through_own_school_for_our_people(world, as_user):
    response = as_user(world.foreign_admin).post(
        slips_url(world, world.other_school), {"user": [world.student.user.pk]}
    )
    assert response.status_code == 404
    assert not ActivationCode.objects.exists()


@pytest.mark.parametrize(
    "ids",
    [[], ["abc"], ["1 OR 1=1"], ["9" * 40], ["-5"], ["x" * 100_000], [str(i) for i in range(501)]],
)
def test_bad_selection_gives_a_clear_message_and_changes_nothing(world, as_user, ids):
    client = as_user(world.admin)
    response = client.post(slips_url(world), {"user": ids}, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert any(word in messages[0] for word in ("Select", "selection"))
    assert not ActivationCode.objects.exists()


def test_slips_need_post(world, as_user):
    assert as_user(world.admin).get(slips_url(world)).status_code == 405


def test_revoking_a_lost_slip_makes_its_code_useless(world, as_user):
    issued = credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.parent])[0]
    url = reverse("school_people:codes_revoke", kwargs={"school": world.school.slug, "user_id": world.parent.pk})
    response = as_user(world.class_teacher).post(url)
    assert response.status_code == 302
    assert credentials.find_usable_code(issued.code) is None
    assert AuditEntry.objects.filter(action="people.activation_code.revoked", actor=world.class_teacher).count() == 1


@pytest.mark.parametrize(
    ("persona", "shown"), [("admin", True), ("class_teacher", True), ("teacher", False), ("parent", False)]
)
def test_navigation_links_the_codes_page_for_those_who_may_issue(world, as_user, persona, shown):
    html = as_user(world.persona(persona)).get(reverse("schools:dashboard", kwargs={"school": "lyceum-1"})).content
    assert (codes_url(world).encode() in html) is shown
