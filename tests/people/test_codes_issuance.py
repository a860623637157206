"""Who may issue an activation code to whom (R1.2; issue 9, account takeover through codes).

A code resets the password, so it is issued only by someone whose authority covers every membership the
person has, in every school (``classbook/access/codes.py``). One table, tried through every door: the
page's listing, the slips endpoint, the revoke endpoint and the service itself. A refused request writes
nothing: no code, no revocation, no audit row.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from classbook.access import codes as codes_access
from classbook.core.errors import DomainError
from classbook.core.models import AuditEntry
from classbook.people import credentials
from classbook.people.models import ActivationCode, AuthorityViewer, GuardianLink, Membership, Role, User

CODE_RE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")


def _also(user: User, school, role: str, **fields) -> User:
    Membership.objects.create(school=school, user=user, role=role, **fields)
    return user


TARGETS: dict[str, Callable] = {
    "student": lambda w: w.student.user,
    "guardian_only": lambda w: w.parent,
    "guardian_and_staff_here": lambda w: _also(w.parent, w.school, Role.DEPUTY),
    "guardian_here_staff_elsewhere": lambda w: _also(w.parent, w.other_school, Role.ADMIN),
    "staff_of_another_school": lambda w: w.foreign_teacher,
    "staff_here": lambda w: w.teacher,
    "student_here_staff_elsewhere": lambda w: _also(w.student.user, w.other_school, Role.TEACHER),
}

# issuer -> targets they may issue codes for; everything else is refused.
ALLOWED: dict[str, set[str]] = {
    "admin": {"student", "guardian_only", "guardian_and_staff_here", "staff_here"},
    "class_teacher": {"student", "guardian_only"},
    "teacher": set(),  # teaches the class, is not its class teacher
    "other_teacher": set(),
    "deputy": set(),
    "secretary": set(),
    "director": set(),
    "foreign_admin": {"staff_of_another_school"},  # acting in their own school
}
# Those who may not open the codes page at all get 403; those who may, 404 for a person out of reach.
NO_CODES_PAGE = {"teacher", "other_teacher", "deputy", "secretary", "director"}

TABLE = [(issuer, target, target in allowed) for issuer, allowed in ALLOWED.items() for target in TARGETS]


def _school_of(world, issuer: str):
    return world.other_school if issuer == "foreign_admin" else world.school


def _written() -> tuple[int, int, int]:
    revoked = ActivationCode.objects.filter(revoked_at__isnull=False).count()
    return ActivationCode.objects.count(), revoked, AuditEntry.objects.count()


def _refusal_status(issuer: str) -> int:
    return 403 if issuer in NO_CODES_PAGE else 404


@pytest.mark.parametrize(("issuer", "target", "allowed"), TABLE)
def test_codes_page_offers_exactly_the_people_the_rule_allows(world, as_user, issuer, target, allowed):
    person = TARGETS[target](world)
    school = _school_of(world, issuer)
    response = as_user(world.persona(issuer)).get(
        reverse("school_people:codes", kwargs={"school": school.slug}), {"q": person.username}
    )
    if issuer in NO_CODES_PAGE:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    offered = {row.user.pk for row in response.context["rows"]}
    assert (person.pk in offered) is allowed


@pytest.mark.parametrize(("issuer", "target", "allowed"), TABLE)
def test_slips_issue_a_code_only_when_the_rule_allows(world, as_user, issuer, target, allowed):
    person = TARGETS[target](world)
    school = _school_of(world, issuer)
    before = _written()
    response = as_user(world.persona(issuer)).post(
        reverse("school_people:codes_slips", kwargs={"school": school.slug}), {"user": [person.pk]}
    )
    if allowed:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        row = ActivationCode.objects.get()
        assert (row.user, row.issued_by, row.school) == (person, world.persona(issuer), school)
    else:
        assert response.status_code == _refusal_status(issuer)
        assert _written() == before


@pytest.mark.parametrize(("issuer", "target", "allowed"), TABLE)
def test_revoking_follows_the_same_rule(world, as_user, issuer, target, allowed):
    person = TARGETS[target](world)
    school = _school_of(world, issuer)
    (issued,) = credentials.issue_activation_codes(acting_user=None, school=school, users=[person])
    before = _written()
    response = as_user(world.persona(issuer)).post(
        reverse("school_people:codes_revoke", kwargs={"school": school.slug, "user_id": person.pk})
    )
    if allowed:
        assert response.status_code == 302
        assert credentials.find_usable_code(issued.code) is None
    else:
        assert response.status_code == _refusal_status(issuer)
        assert _written() == before
        assert credentials.find_usable_code(issued.code).user == person


@pytest.mark.parametrize(("issuer", "target", "allowed"), TABLE)
def test_the_service_checks_the_rule_itself(world, issuer, target, allowed):
    """Defence in depth: a future door that forgets the scope still cannot issue a code."""
    person = TARGETS[target](world)
    school = _school_of(world, issuer)
    before = _written()
    if allowed:
        credentials.issue_activation_codes(acting_user=world.persona(issuer), school=school, users=[person])
        assert ActivationCode.objects.filter(user=person).count() == 1
        return
    with pytest.raises(DomainError) as refused:
        credentials.issue_activation_codes(acting_user=world.persona(issuer), school=school, users=[person])
    assert refused.value.code == "not_found"
    with pytest.raises(DomainError):
        credentials.revoke_activation_codes(acting_user=world.persona(issuer), school=school, user=person)
    assert _written() == before


def test_one_person_out_of_reach_refuses_the_whole_selection(world, as_user):
    _also(world.parent, world.other_school, Role.TEACHER)
    before = _written()
    response = as_user(world.class_teacher).post(
        reverse("school_people:codes_slips", kwargs={"school": world.school.slug}),
        {"user": [world.student.user.pk, world.parent.pk]},
    )
    assert response.status_code == 404
    assert _written() == before


# --- the finer points of the rule ------------------------------------------------------------------


def reach(world, issuer: str, school=None) -> set[User]:
    return set(codes_access.issuable_people(world.persona(issuer), school or world.school))


def test_class_teacher_covers_a_parent_through_one_visible_child(world):
    GuardianLink.objects.create(school=world.school, guardian=world.parent, student=world.other_student)
    assert world.parent in reach(world, "class_teacher")  # one child in 5-А is enough


@pytest.mark.parametrize(
    "change",
    [
        {"may_see": False},  # restricted by custody
        {"ended_on": dt.date(2020, 1, 1)},  # ended
    ],
)
def test_class_teacher_does_not_cover_a_parent_through_a_hidden_or_ended_link(world, change):
    GuardianLink.objects.filter(guardian=world.parent).update(**change)
    assert world.parent not in reach(world, "class_teacher")
    assert world.parent in reach(world, "admin")


def test_class_teacher_does_not_cover_a_student_who_left_the_class(world):
    world.student.enrolments.update(end=F("start"))
    assert world.student.user not in reach(world, "class_teacher")


def test_a_revoked_or_ended_staff_role_elsewhere_still_counts(world):
    """One click switches a staff role on again: the account must not be in someone else's hands then."""
    _also(world.parent, world.other_school, Role.TEACHER, is_active=False)
    _also(world.other_parent, world.other_school, Role.ADMIN, until=dt.date(2020, 1, 1))
    assert world.parent not in reach(world, "class_teacher") | reach(world, "admin")
    assert world.other_parent not in reach(world, "admin")


def test_an_ended_family_role_elsewhere_does_not_count(world):
    """A student who moved here, a parent whose child left another school: this school issues their codes."""
    _also(world.parent, world.other_school, Role.PARENT, until=dt.date(2020, 1, 1))
    _also(world.student.user, world.other_school, Role.STUDENT, is_active=False)
    assert {world.parent, world.student.user} <= reach(world, "class_teacher")


def test_a_future_family_role_elsewhere_counts(world):
    _also(world.parent, world.other_school, Role.PARENT, since=timezone.localdate() + dt.timedelta(days=30))
    assert world.parent not in reach(world, "class_teacher") | reach(world, "admin")


@pytest.mark.parametrize("kind", ["superuser", "django_staff", "authority_viewer"])
def test_superusers_and_viewers_get_codes_only_from_the_operator(world, kind):
    if kind == "authority_viewer":
        AuthorityViewer.objects.create(authority=world.viewer.authority_roles.get().authority, user=world.parent)
    else:
        User.objects.filter(pk=world.parent.pk).update(**{"is_superuser" if kind == "superuser" else "is_staff": True})
    assert world.parent not in reach(world, "admin") | reach(world, "class_teacher")


def test_nobody_issues_a_code_for_themselves(world):
    assert world.admin not in reach(world, "admin")
    with pytest.raises(DomainError):
        credentials.issue_activation_codes(acting_user=world.admin, school=world.school, users=[world.admin])


def test_an_administrator_of_both_schools_covers_staff_of_both(world):
    _also(world.admin, world.other_school, Role.ADMIN)
    _also(world.teacher, world.other_school, Role.TEACHER)
    assert world.teacher in reach(world, "admin")
    assert world.teacher not in reach(world, "foreign_admin", world.other_school)


def test_an_administrator_whose_role_ended_issues_nothing(world):
    Membership.objects.filter(user=world.admin).update(until=dt.date(2020, 1, 1))
    assert reach(world, "admin") == set()
    User.objects.filter(pk=world.class_teacher.pk).update(is_active=False)
    world.class_teacher.refresh_from_db()
    assert reach(world, "class_teacher") == set()


def test_a_viewer_who_is_also_a_teacher_here_issues_nothing(world):
    _also(world.viewer, world.school, Role.TEACHER)
    assert reach(world, "viewer") == set()


# --- the platform operator's command ------------------------------------------------------------------


def test_operator_command_issues_a_code_nobody_in_a_school_may_issue(world):
    _also(world.teacher, world.other_school, Role.TEACHER)  # staff of two schools
    out = io.StringIO()
    call_command("issue_activation_code", "--username", "teacher", "--school", world.school.slug, stdout=out)
    code = CODE_RE.search(out.getvalue()).group(0)
    row = credentials.find_usable_code(code, "teacher")
    assert row.user == world.teacher and row.issued_by is None and row.school == world.school
    entry = AuditEntry.objects.get(action="people.activation_code.issued")
    assert entry.actor is None and entry.data["via"] == "operator command"


def test_operator_command_reissuing_revokes_the_earlier_code_with_an_audit_row(world):
    call_command("issue_activation_code", "--username", "teacher", "--school", world.school.slug, stdout=io.StringIO())
    call_command("issue_activation_code", "--username", "teacher", "--school", world.school.slug, stdout=io.StringIO())
    revoked = AuditEntry.objects.get(action="people.activation_code.revoked")
    assert revoked.actor is None and revoked.data["via"] == "operator command"


@pytest.mark.parametrize(("username", "school"), [("nobody", "lyceum-1"), ("teacher", "no-such-school")])
def test_operator_command_refuses_unknown_names_and_writes_nothing(world, username, school):
    with pytest.raises(CommandError):
        call_command("issue_activation_code", "--username", username, "--school", school, stdout=io.StringIO())
    assert _written() == (0, 0, 0)


def test_operator_command_refuses_a_deactivated_account(world):
    User.objects.filter(pk=world.teacher.pk).update(is_active=False)
    with pytest.raises(CommandError):
        call_command("issue_activation_code", "--username", "teacher", "--school", "lyceum-1", stdout=io.StringIO())
    assert _written() == (0, 0, 0)


def test_the_one_person_predicate_agrees_with_the_scope(world):
    assert codes_access.may_issue_code(world.class_teacher, world.school, world.parent)
    _also(world.parent, world.school, Role.DEPUTY)
    assert not codes_access.may_issue_code(world.class_teacher, world.school, world.parent)
    assert codes_access.may_issue_code(world.admin, world.school, world.parent)
