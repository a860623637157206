"""Roster pages doing their job: what users see and what the forms change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from classbook.people.models import Consent, Enrolment, GuardianLink, Membership, Role, Student, User
from classbook.roster import services
from tests import factories as f
from tests.roster.conftest import fill_class, snapshot, url


def test_admin_adds_a_staff_member_with_roles(world, as_user):
    response = as_user(world.admin).post(
        url("staff_add"),
        {"last_name": "Бондар", "first_name": "Ганна", "position": "Вчитель історії", "roles": ["teacher"]},
    )
    user = User.objects.get(username="bondar.hanna")
    assert response.status_code == 302 and response["Location"] == url("staff_member", user_id=user.pk)
    assert Membership.objects.get(user=user, school=world.school).role == "teacher"


def test_staff_list_shows_roles_and_positions(world, as_user):
    Membership.objects.filter(user=world.teacher).update(position="Вчитель математики")
    services.revoke_role(acting_user=world.admin, school=world.school, user=world.deputy, role="deputy")
    page = as_user(world.director).get(url("staff")).content.decode()
    assert "Вчитель математики" in page
    assert "<s>Deputy director</s>" in page  # a revoked role stays visible, struck out
    assert f'<td class="muted">{world.student.user.username}</td>' not in page


def test_director_removing_the_last_administrator_sees_why(world, as_user):
    client = as_user(world.director)
    response = client.post(url("role_revoke", user_id=world.admin.pk), {"role": "admin"}, follow=True)
    assert "at least one administrator" in response.content.decode()
    assert Membership.objects.get(user=world.admin, role="admin").is_active


def test_secretary_adds_a_student_into_a_class(world, as_user):
    response = as_user(world.secretary).post(
        url("student_add"),
        {
            "school_class": world.class_b.pk,
            "last_name": "Ткаченко",
            "first_name": "Богдан",
            "birth_date": "2015-02-03",
            "gender": "m",
            "personal_file_number": "Т-5",
        },
    )
    student = Student.objects.get(user__username="tkachenko.bohdan")
    assert response["Location"] == url("student", student_id=student.pk)
    assert Enrolment.objects.get(student=student).school_class == world.class_b


def test_a_student_born_in_the_future_is_refused_with_a_message(world, as_user):
    before = snapshot()
    response = as_user(world.secretary).post(
        url("student_add"),
        {"school_class": world.class_a.pk, "last_name": "А", "first_name": "Б", "birth_date": "2030-01-01"},
    )
    assert response.status_code == 200
    assert "The birth date is in the future." in response.content.decode()
    assert snapshot() == before


def test_a_class_from_another_school_is_not_offered_nor_accepted(world, as_user):
    before = snapshot()
    response = as_user(world.secretary).post(
        url("student_add"), {"school_class": world.foreign_class.pk, "last_name": "А", "first_name": "Б"}
    )
    assert response.status_code == 200 and snapshot() == before


def test_class_list_is_alphabetical_and_greys_those_who_left(world, as_user):
    a = f.make_student(world.class_a, user=f.UserFactory(last_name="Авраменко"))
    y = f.make_student(world.class_a, user=f.UserFactory(last_name="Яковенко"))
    services.withdraw_student(acting_user=world.secretary, student=y, on=dt.date(2026, 11, 16))
    page = as_user(world.secretary).get(url("students") + f"?class={world.class_a.pk}").content.decode()
    assert (
        page.index(escape(a.user.full_name))
        < page.index(escape(world.student.user.full_name))
        < page.index(escape(y.user.full_name))
    )
    row = page[page.index(escape(y.user.full_name)) - 300 : page.index(escape(y.user.full_name))]
    assert 'class="muted"' in row


def test_search_finds_students_by_any_part_of_the_name(world, as_user):
    f.make_student(world.class_b, user=f.UserFactory(last_name="Гнатюк", first_name="Оксана"))
    page = as_user(world.secretary).get(url("students") + "?q=гнатюк окс").content.decode()
    assert "Гнатюк Оксана" in page and escape(world.student.user.full_name) not in page


def test_class_teacher_sees_only_their_class_in_the_selector(world, as_user):
    page = as_user(world.class_teacher).get(url("students")).content.decode()
    assert escape(world.student.user.full_name) in page
    assert f'value="{world.class_b.pk}"' not in page


def test_alphabetical_book_lists_the_school_by_surname_and_prints(world, as_user):
    Student.objects.filter(pk=world.student.pk).update(personal_file_number="А-123")
    page = as_user(world.deputy).get(url("book")).content.decode()
    assert "А-123" in page and "classbook/student-book.css" in page  # its print layout
    assert page.index(escape(world.student.user.full_name)) < page.index(escape(world.other_student.user.full_name))
    assert escape(world.foreign_student.user.full_name) not in page


def test_moving_a_student_from_the_card(world, as_user):
    client = as_user(world.secretary)
    response = client.post(
        url("student_move", student_id=world.student.pk), {"school_class": world.class_b.pk, "on": "2026-11-16"}
    )
    assert response.status_code == 302
    assert Enrolment.objects.get(student=world.student, end__isnull=True).school_class == world.class_b


def test_a_refused_move_explains_itself_and_changes_nothing(world, as_user):
    before = snapshot()
    response = as_user(world.secretary).post(
        url("student_move", student_id=world.student.pk),
        {"school_class": world.class_b.pk, "on": "2026-08-01"},
        follow=True,
    )
    assert "The move date must be after" in response.content.decode()
    assert snapshot() == before


def test_guardians_are_added_linked_restricted_and_ended_from_the_card(world, as_user):
    client = as_user(world.secretary)
    card = url("student", student_id=world.other_student.pk)
    client.post(
        url("guardian_add", student_id=world.other_student.pk),
        {"last_name": "Мельник", "first_name": "Петро", "relation": "батько", "may_see": "on"},
    )
    client.post(url("guardian_link", student_id=world.other_student.pk), {"guardian": world.parent.pk})
    links = GuardianLink.objects.filter(student=world.other_student)
    assert set(links.values_list("guardian__last_name", flat=True)) >= {"Мельник", world.parent.last_name}
    link = links.get(guardian=world.parent)
    client.post(url("guardian_access", link_id=link.pk), {"may_see": "0"})
    client.post(url("guardian_end", link_id=link.pk))
    link.refresh_from_db()
    assert not link.may_see and link.ended_on is not None
    assert "Мельник" in client.get(card).content.decode()


def test_a_parent_of_another_school_cannot_be_linked(world, as_user):
    foreign_parent = f.make_parent(world.foreign_student)
    before = snapshot()
    as_user(world.secretary).post(url("guardian_link", student_id=world.student.pk), {"guardian": foreign_parent.pk})
    assert snapshot() == before


def test_class_teacher_edits_a_parents_phone(world, as_user):
    response = as_user(world.class_teacher).post(
        url("guardian_edit", user_id=world.parent.pk) + f"?student={world.student.pk}",
        {"last_name": world.parent.last_name, "first_name": world.parent.first_name, "phone": "+380991112233"},
    )
    assert response["Location"] == url("student", student_id=world.student.pk)
    world.parent.refresh_from_db()
    assert world.parent.phone == "+380991112233"


def test_class_teacher_cannot_edit_a_parent_of_another_class(world, as_user):
    before = snapshot()
    response = as_user(world.class_teacher).post(
        url("guardian_edit", user_id=world.other_parent.pk), {"last_name": "X", "first_name": "Y"}
    )
    assert response.status_code == 404 and snapshot() == before


def test_consent_list_shows_students_without_a_personal_data_consent(world, as_user):
    with_consent = f.make_student(world.class_a, user=f.UserFactory(last_name="Згодний"))
    Consent.objects.create(
        school=world.school,
        student=with_consent,
        given_by="Мати",
        given_on=dt.date(2026, 9, 1),
        recorded_by=world.admin,
    )
    page = as_user(world.class_teacher).get(url("consents") + f"?class={world.class_a.pk}").content.decode()
    assert escape(world.student.user.full_name) in page and escape(with_consent.user.full_name) not in page


def test_class_page_shows_guardians_and_consent_status(world, as_user):
    f.make_parent(world.student, last_name="Опікун", may_see=False)
    page = as_user(world.class_teacher).get(url("class", class_id=world.class_a.pk)).content.decode()
    assert escape(world.parent.full_name) in page and "Опікун" in page and "restricted" in page
    assert "missing" in page


# --- query counts: constant in the number of students ---------------------------------------------------


def _count_queries(client, target):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(target).status_code == 200
    return len(ctx.captured_queries)


LIST_PAGES = {
    "students": lambda w: url("students") + f"?class={w.class_a.pk}",
    "search": lambda w: url("students") + "?q=Учень",
    "book": lambda w: url("book"),
    "class_page": lambda w: url("class", class_id=w.class_a.pk),
    "consents": lambda w: url("consents") + f"?class={w.class_a.pk}",
    "staff": lambda w: url("staff"),
}


@pytest.mark.parametrize("page", LIST_PAGES)
def test_list_pages_make_a_constant_number_of_queries(world, as_user, page, django_assert_max_num_queries):
    client = as_user(world.admin)
    target = LIST_PAGES[page](world)
    fill_class(world.class_a, 5)
    for _ in range(5):
        f.make_member(world.school, Role.TEACHER)
    client.get(target)  # the first request of a session records the session itself
    small = _count_queries(client, target)
    fill_class(world.class_a, 25)
    for _ in range(25):
        f.make_member(world.school, Role.TEACHER)
    large = _count_queries(client, target)
    assert small == large
    with django_assert_max_num_queries(15):
        client.get(target)


def test_class_teacher_edit_form_changes_contacts_but_never_names(world, as_user):
    client = as_user(world.class_teacher)
    form_page = client.get(url("student_edit", student_id=world.student.pk)).content.decode()
    assert 'name="phone"' in form_page and 'name="last_name"' not in form_page
    client.post(url("student_edit", student_id=world.student.pk), {"last_name": "Підмінений", "phone": "+380671112233"})
    world.student.refresh_from_db()
    world.student.user.refresh_from_db()
    assert world.student.phone == "+380671112233"
    assert world.student.user.last_name != "Підмінений"


def test_staff_member_page_edits_position_and_grants_a_role(world, as_user):
    client = as_user(world.director)
    client.post(
        url("staff_member", user_id=world.teacher.pk),
        {"last_name": world.teacher.last_name, "first_name": world.teacher.first_name, "position": "Методист"},
    )
    client.post(url("role_grant", user_id=world.teacher.pk), {"role": "deputy"})
    roles = dict(Membership.objects.filter(user=world.teacher).values_list("role", "position"))
    assert roles == {"teacher": "Методист", "deputy": ""}


def test_class_teacher_withdraws_a_consent_from_the_card(world, as_user):
    consent = Consent.objects.create(
        school=world.school,
        student=world.student,
        given_by="Мати",
        given_on=dt.date(2026, 9, 1),
        recorded_by=world.admin,
    )
    response = as_user(world.class_teacher).post(url("consent_withdraw", consent_id=consent.pk))
    assert response["Location"] == url("student", student_id=world.student.pk)
    consent.refresh_from_db()
    assert consent.withdrawn_on == dt.date(2026, 11, 16)


def test_secretary_withdraws_a_student_who_then_shows_as_left(world, as_user):
    client = as_user(world.secretary)
    client.post(url("student_withdraw", student_id=world.student.pk), {"on": "2026-11-16"})
    page = client.get(url("student", student_id=world.student.pk)).content.decode()
    assert "left" in page
    assert "Move to another class" not in page
