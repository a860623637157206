"""Roster services: business rules, atomicity and the audit trail (R1.7, R1.8, R7.2-R7.4)."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.people.models import Consent, Enrolment, GuardianLink, Membership, Role
from classbook.roster import services
from tests import factories as f
from tests.roster.conftest import snapshot

TODAY = dt.date(2026, 11, 16)


# --- staff -------------------------------------------------------------------------------------------


def test_new_staff_member_has_no_password_and_the_chosen_roles(world):
    user = services.add_staff_member(
        acting_user=world.admin,
        school=world.school,
        data={"last_name": "Коваленко", "first_name": "Олена", "email": "o@example.org"},
        roles=["teacher", "deputy"],
        position="Заступник з НВР",
    )
    assert user.username == "kovalenko.olena"
    assert not user.has_usable_password()
    roles = set(Membership.objects.filter(school=world.school, user=user).values_list("role", "position"))
    assert roles == {("teacher", "Заступник з НВР"), ("deputy", "Заступник з НВР")}
    entry = AuditEntry.objects.get(action="roster.staff.added")
    assert entry.actor == world.admin and entry.data["new"]["last_name"] == "Коваленко"


@pytest.mark.parametrize("roles", [[], ["student"], ["parent"], ["superuser"]])
def test_staff_member_needs_a_staff_role(world, roles):
    before = snapshot()
    with pytest.raises(DomainError):
        services.add_staff_member(
            acting_user=world.admin, school=world.school, data={"last_name": "А", "first_name": "Б"}, roles=roles
        )
    assert snapshot() == before


def test_editing_a_staff_member_records_old_and_new_values(world):
    services.update_staff_member(
        acting_user=world.director,
        school=world.school,
        user=world.teacher,
        data={"last_name": "Нове", "first_name": world.teacher.first_name, "phone": "+380501112233"},
        position="Вчитель математики",
    )
    world.teacher.refresh_from_db()
    assert world.teacher.last_name == "Нове"
    changes = AuditEntry.objects.get(action="roster.staff.updated").data["changes"]
    assert changes["last_name"]["new"] == "Нове" and changes["phone"]["old"] == ""
    assert Membership.objects.get(user=world.teacher, role="teacher").position == "Вчитель математики"


def test_revoking_a_role_keeps_the_row_with_an_end_date(world):
    m = services.revoke_role(acting_user=world.director, school=world.school, user=world.deputy, role="deputy")
    m.refresh_from_db()
    assert (m.is_active, m.until) == (False, TODAY)
    assert Membership.objects.filter(user=world.deputy, role="deputy").count() == 1


def test_director_cannot_remove_the_last_administrator(world):
    before = snapshot()
    with pytest.raises(ConflictError):
        services.revoke_role(acting_user=world.director, school=world.school, user=world.admin, role="admin")
    assert snapshot() == before


def test_an_administrator_can_be_removed_when_another_remains(world):
    second = f.make_member(world.school, Role.ADMIN)
    services.revoke_role(acting_user=world.director, school=world.school, user=world.admin, role="admin")
    assert not Membership.objects.get(user=world.admin, role="admin").is_active
    with pytest.raises(ConflictError):
        services.revoke_role(acting_user=world.director, school=world.school, user=second, role="admin")


def test_a_revoked_role_is_granted_again_on_the_same_row(world):
    services.revoke_role(acting_user=world.admin, school=world.school, user=world.deputy, role="deputy")
    m = services.grant_role(acting_user=world.admin, school=world.school, user=world.deputy, role="deputy")
    assert (m.is_active, m.until, m.since) == (True, None, TODAY)
    with pytest.raises(ConflictError):
        services.grant_role(acting_user=world.admin, school=world.school, user=world.deputy, role="deputy")


# --- students ----------------------------------------------------------------------------------------


def _new_student(world, **data):
    data = {"last_name": "Петренко", "first_name": "Марія", **data}
    return services.add_student(acting_user=world.secretary, school_class=world.class_a, data=data)


def test_adding_a_student_creates_account_role_file_and_enrolment(world):
    student = _new_student(world, birth_date=dt.date(2015, 3, 8), gender="f", personal_file_number="П-17")
    assert student.user.username == "petrenko.mariia" and not student.user.has_usable_password()
    assert Membership.objects.filter(user=student.user, role="student", school=world.school).exists()
    enrolment = Enrolment.objects.get(student=student)
    assert (enrolment.school_class, enrolment.start, enrolment.end) == (world.class_a, TODAY, None)
    assert AuditEntry.objects.filter(action="roster.student.added", object_id=str(student.pk)).exists()


@pytest.mark.parametrize(
    "birth_date", [dt.date(2026, 11, 17), dt.date(1900, 1, 1), dt.date(2026, 1, 1)], ids=["future", "old", "baby"]
)
def test_a_student_with_an_absurd_birth_date_is_refused(world, birth_date):
    before = snapshot()
    with pytest.raises(DomainError) as exc:
        _new_student(world, birth_date=birth_date)
    assert exc.value.field == "birth_date"
    assert snapshot() == before


def test_a_class_teacher_may_change_only_contacts(world):
    before = snapshot()
    with pytest.raises(PermissionDeniedError):
        services.update_student(
            acting_user=world.class_teacher,
            student=world.student,
            data={"last_name": "Інше"},
            fields=services.STUDENT_CONTACT_FIELDS,
        )
    assert snapshot() == before
    services.update_student(
        acting_user=world.class_teacher,
        student=world.student,
        data={"phone": "+380671234567"},
        fields=services.STUDENT_CONTACT_FIELDS,
    )
    change = AuditEntry.objects.get(action="roster.student.updated").data["changes"]["phone"]
    assert change == {"old": "", "new": "+380671234567"}


def test_moving_closes_the_current_enrolment_and_opens_a_new_one(world):
    services.move_student(acting_user=world.secretary, student=world.student, to_class=world.class_b, on=TODAY)
    rows = list(Enrolment.objects.filter(student=world.student).order_by("start").values_list("school_class", "end"))
    assert rows == [(world.class_a.pk, TODAY - dt.timedelta(days=1)), (world.class_b.pk, None)]


def test_moving_into_a_class_of_another_school_is_refused(world):
    before = snapshot()
    with pytest.raises(DomainError):
        services.move_student(
            acting_user=world.secretary, student=world.student, to_class=world.foreign_class, on=TODAY
        )
    assert snapshot() == before


def test_moving_into_a_class_of_another_year_is_refused(world):
    next_year = f.YearFactory(
        school=world.school, name="2027/2028", start=dt.date(2027, 9, 1), end=dt.date(2028, 6, 30), is_current=False
    )
    later_class = f.SchoolClassFactory(year=next_year, name="6-А")
    before = snapshot()
    with pytest.raises(DomainError):
        services.move_student(acting_user=world.secretary, student=world.student, to_class=later_class, on=TODAY)
    assert snapshot() == before


def test_moving_back_into_a_former_class_is_a_duplicate_enrolment(world):
    last_week = TODAY - dt.timedelta(days=7)
    services.move_student(acting_user=world.secretary, student=world.student, to_class=world.class_b, on=last_week)
    before = snapshot()
    with pytest.raises(ConflictError):
        services.move_student(acting_user=world.secretary, student=world.student, to_class=world.class_a, on=TODAY)
    assert snapshot() == before


def test_moving_into_the_same_class_is_refused(world):
    with pytest.raises(ConflictError):
        services.move_student(acting_user=world.secretary, student=world.student, to_class=world.class_a, on=TODAY)


def test_withdrawing_sets_left_date_closes_enrolment_and_role(world):
    services.withdraw_student(acting_user=world.secretary, student=world.student, on=TODAY)
    world.student.refresh_from_db()
    assert world.student.left_on == TODAY
    assert Enrolment.objects.get(student=world.student).end == TODAY
    assert not Membership.objects.get(user=world.student.user, role="student").is_active
    with pytest.raises(ConflictError):
        services.withdraw_student(acting_user=world.secretary, student=world.student, on=TODAY)


# --- guardians ---------------------------------------------------------------------------------------


def test_a_new_guardian_gets_an_account_a_parent_role_and_a_link(world):
    link = services.add_guardian(
        acting_user=world.secretary,
        student=world.student,
        data={"last_name": "Петренко", "first_name": "Ірина", "phone": "+380501234567"},
        relation="мати",
    )
    assert link.may_see and link.relation == "мати"
    assert Membership.objects.filter(user=link.guardian, role="parent", school=world.school).exists()
    assert not link.guardian.has_usable_password()


def test_an_existing_parent_can_be_linked_to_a_second_child(world):
    services.link_guardian(acting_user=world.secretary, student=world.other_student, guardian=world.parent)
    assert set(GuardianLink.objects.filter(guardian=world.parent).values_list("student", flat=True)) == {
        world.student.pk,
        world.other_student.pk,
    }


def test_linking_a_guardian_from_another_school_is_refused(world):
    foreign_parent = f.make_parent(world.foreign_student)
    before = snapshot()
    with pytest.raises(DomainError):
        services.link_guardian(acting_user=world.secretary, student=world.student, guardian=foreign_parent)
    assert snapshot() == before


def test_custody_restriction_and_ending_a_link_keep_the_row(world):
    link = GuardianLink.objects.get(guardian=world.parent, student=world.student)
    services.set_guardian_may_see(acting_user=world.secretary, link=link, may_see=False)
    services.end_guardian_link(acting_user=world.secretary, link=link)
    link.refresh_from_db()
    assert (link.may_see, link.ended_on) == (False, TODAY)
    assert AuditEntry.objects.get(action="roster.guardian.access_changed").data == {
        "may_see": {"old": True, "new": False}
    }
    # An ended link is opened again rather than duplicated.
    services.link_guardian(acting_user=world.secretary, student=world.student, guardian=world.parent)
    link.refresh_from_db()
    assert link.ended_on is None


# --- consents ----------------------------------------------------------------------------------------


def test_recording_and_withdrawing_a_consent(world):
    consent = services.record_consent(
        acting_user=world.class_teacher,
        student=world.student,
        purpose="personal_data",
        given_by="Петренко Ірина",
        given_on=dt.date(2026, 9, 1),
        document_ref="Заява № 12",
    )
    assert consent.recorded_by == world.class_teacher
    services.withdraw_consent(acting_user=world.secretary, consent=consent)
    consent.refresh_from_db()
    assert consent.withdrawn_on == TODAY
    assert Consent.objects.count() == 1


@pytest.mark.parametrize(
    ("purpose", "given_by", "given_on"),
    [("personal_data", "Мати", dt.date(2026, 12, 1)), ("marketing", "Мати", TODAY), ("photo", "  ", TODAY)],
    ids=["future", "unknown-purpose", "blank-giver"],
)
def test_an_invalid_consent_is_refused(world, purpose, given_by, given_on):
    before = snapshot()
    with pytest.raises(DomainError):
        services.record_consent(
            acting_user=world.secretary, student=world.student, purpose=purpose, given_by=given_by, given_on=given_on
        )
    assert snapshot() == before


@pytest.mark.parametrize("action", ["move", "withdraw"])
def test_moves_and_departures_are_not_recorded_in_advance(world, action):
    before = snapshot()
    tomorrow = TODAY + dt.timedelta(days=1)
    with pytest.raises(DomainError) as exc:
        if action == "move":
            services.move_student(
                acting_user=world.secretary, student=world.student, to_class=world.class_b, on=tomorrow
            )
        else:
            services.withdraw_student(acting_user=world.secretary, student=world.student, on=tomorrow)
    assert exc.value.field == "on"
    assert snapshot() == before


def test_nobody_but_an_administrator_gives_a_role_to_themselves(world):
    """A director may not make themselves administrator (privilege escalation); an admin may add a role."""
    with pytest.raises(PermissionDeniedError):
        services.grant_role(acting_user=world.director, school=world.school, user=world.director, role="admin")
    assert not Membership.objects.filter(user=world.director, role="admin").exists()
    services.grant_role(acting_user=world.admin, school=world.school, user=world.admin, role="teacher")
    assert Membership.objects.filter(user=world.admin, role="teacher", is_active=True).exists()
