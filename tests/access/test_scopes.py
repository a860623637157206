"""Scoped querysets (R1.3, R1.4, R1.7, R7.4): for each persona and each scope, exactly which rows are visible.

Rows are named by something readable (a username, a class attribute of ``world``), so each table says
"this persona sees these rows and no others" — including the other class, the other child and the other school.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404
from django.utils import timezone

from classbook.access import scopes
from classbook.core.audit import log_action
from classbook.people.models import (
    ActivationCode,
    Consent,
    Enrolment,
    GuardianLink,
    Membership,
    Role,
    Student,
)
from classbook.schools.models import AcademicYear, MarkingScale, Subject
from tests import factories as f

# Personas of `school` by what they are, for tables that treat a group alike.
MANAGEMENT = ["admin", "director", "deputy", "secretary"]
TEACHERS = ["teacher", "class_teacher", "other_teacher"]
FAMILY = ["student", "other_student", "parent", "other_parent"]
EVERYONE = [*MANAGEMENT, *TEACHERS, *FAMILY, "viewer"]

BOTH_STUDENTS = {"student", "otherstudent"}
BOTH_CLASSES = {"class_a", "class_b"}


@pytest.fixture
def rows(world):
    """The rows the scopes choose from, in both schools."""
    for school_class in (world.class_a, world.class_b, world.foreign_class):
        f.SubgroupFactory(school_class=school_class, name=f"sub-{school_class.pk}")
    f.SubjectFactory(school=world.other_school, name="Фізика")
    for student in (world.student, world.other_student, world.foreign_student):
        Consent.objects.create(
            school=student.school,
            student=student,
            given_by="Parent",
            given_on=dt.date(2026, 9, 1),
            recorded_by=world.admin,
        )
    expires = timezone.now() + dt.timedelta(days=30)
    for n, (user, school, issuer) in enumerate(
        [
            (world.teacher, world.school, world.admin),
            (world.student.user, world.school, world.class_teacher),
            (world.parent, world.school, world.class_teacher),
            (world.other_parent, world.school, world.admin),
            (world.foreign_teacher, world.other_school, world.foreign_admin),
        ]
    ):
        ActivationCode.objects.create(
            school=school, user=user, code_hash=f"{n:064d}", issued_by=issuer, expires_at=expires
        )
    log_action("test.school", actor=world.admin, school=world.school)
    log_action("test.other_school", actor=world.foreign_admin, school=world.other_school)
    log_action("test.no_school", actor=world.admin)
    return world


def class_names(world, qs) -> set[str]:
    by_pk = {world.class_a.pk: "class_a", world.class_b.pk: "class_b", world.foreign_class.pk: "foreign_class"}
    return {by_pk[c.pk] for c in qs}


# --- students, enrolments, class_students -------------------------------------------------------------

STUDENTS = [
    *[(p, BOTH_STUDENTS) for p in MANAGEMENT],
    ("viewer", BOTH_STUDENTS),
    ("teacher", {"student"}),  # teaches class_a
    ("class_teacher", {"student"}),  # homeroom of class_a
    ("other_teacher", {"otherstudent"}),  # teaches class_b
    ("student", {"student"}),
    ("other_student", {"otherstudent"}),
    ("parent", {"student"}),
    ("other_parent", {"otherstudent"}),
]


@pytest.mark.parametrize(("persona", "visible"), STUDENTS)
def test_students_scope_shows_each_persona_exactly_their_students(rows, ctx_of, persona, visible):
    ctx = ctx_of(persona)
    assert {s.user.username for s in scopes.students(ctx)} == visible
    assert {e.student.user.username for e in scopes.enrolments(ctx)} == visible


@pytest.mark.parametrize(("persona", "visible"), [("foreign_admin", {"foreignstudent"}), ("foreign_teacher", set())])
def test_students_scope_of_the_other_school_never_shows_our_students(rows, ctx_of, persona, visible):
    ctx = ctx_of(persona, school=rows.other_school)
    assert {s.user.username for s in scopes.students(ctx)} == visible


@pytest.mark.parametrize(
    ("change", "sees"),
    [({}, True), ({"may_see": False}, False), ({"ended_on": -1}, False), ({"ended_on": 7}, True)],
)
def test_parent_sees_no_student_through_a_hidden_or_ended_link(rows, ctx_of, change, sees):
    values = {k: (timezone.localdate() + dt.timedelta(days=v) if k == "ended_on" else v) for k, v in change.items()}
    GuardianLink.objects.filter(guardian=rows.parent).update(**values)
    ctx = ctx_of("parent")
    expected = {"student"} if sees else set()
    assert {s.user.username for s in scopes.students(ctx)} == expected
    assert {g.guardian.username for g in scopes.guardian_links(ctx)} == ({"parent"} if sees else set())
    assert class_names(rows, scopes.classes(ctx)) == ({"class_a"} if sees else set())


def test_parent_of_two_children_sees_both_and_nobody_else(rows, ctx_of):
    GuardianLink.objects.create(school=rows.school, guardian=rows.parent, student=rows.other_student)
    ctx = ctx_of("parent")
    assert {s.user.username for s in scopes.students(ctx)} == BOTH_STUDENTS
    assert class_names(rows, scopes.classes(ctx)) == BOTH_CLASSES


def test_teacher_no_longer_sees_a_student_who_left_the_class(rows, ctx_of):
    Enrolment.objects.filter(student=rows.student).update(end=rows.class_a.year.start + dt.timedelta(days=30))
    assert not scopes.students(ctx_of("teacher")).exists()
    assert not scopes.students(ctx_of("class_teacher")).exists()
    assert {s.user.username for s in scopes.students(ctx_of("secretary"))} == BOTH_STUDENTS


def test_teacher_of_a_subgroup_sees_the_students_of_its_class(rows, ctx_of):
    subgroup = rows.class_b.subgroups.get()
    f.make_assignment(rows.teacher, rows.class_b, rows.subject, subgroup=subgroup)
    assert {s.user.username for s in scopes.students(ctx_of("teacher"))} == BOTH_STUDENTS


def test_students_scope_lists_a_student_once_whatever_the_number_of_paths(rows, ctx_of):
    """Homeroom and taught class at once must not duplicate rows (distinct)."""
    rows.class_a.class_teacher = rows.teacher
    rows.class_a.save()
    assert [s.user.username for s in scopes.students(ctx_of("teacher"))] == ["student"]


CLASS_STUDENTS = [
    ("admin", ["student"]),
    ("viewer", ["student"]),
    ("teacher", ["student"]),
    ("class_teacher", ["student"]),
    ("other_teacher", []),
    ("student", ["student"]),
    ("other_student", []),
    ("parent", ["student"]),
    ("other_parent", []),
]


@pytest.mark.parametrize(("persona", "visible"), CLASS_STUDENTS)
def test_class_students_of_class_a_are_cut_to_what_the_persona_may_see(rows, ctx_of, persona, visible):
    assert [s.user.username for s in scopes.class_students(ctx_of(persona), rows.class_a)] == visible


def test_class_students_are_current_members_in_alphabetical_order(rows, ctx_of):
    for last_name in ["Яковенко", "Антоненко", "Мельник"]:
        f.make_student(rows.class_a, user=f.UserFactory(last_name=last_name))
    Enrolment.objects.filter(student=rows.student).update(end=rows.class_a.year.start + dt.timedelta(days=30))
    names = [s.user.last_name for s in scopes.class_students(ctx_of("class_teacher"), rows.class_a)]
    assert names == ["Антоненко", "Мельник", "Яковенко"]


# --- classes, subgroups, assignments, directory ---------------------------------------------------------

CLASSES = [
    *[(p, BOTH_CLASSES) for p in [*MANAGEMENT, *TEACHERS, "viewer"]],
    ("student", {"class_a"}),
    ("other_student", {"class_b"}),
    ("parent", {"class_a"}),
    ("other_parent", {"class_b"}),
]


@pytest.mark.parametrize(("persona", "visible"), CLASSES)
def test_classes_and_subgroups_scope_by_persona(rows, ctx_of, persona, visible):
    ctx = ctx_of(persona)
    assert class_names(rows, scopes.classes(ctx)) == visible
    assert class_names(rows, [g.school_class for g in scopes.subgroups(ctx)]) == visible


def test_classes_of_the_other_school_are_its_own(rows, ctx_of):
    ctx = ctx_of("foreign_admin", school=rows.other_school)
    assert class_names(rows, scopes.classes(ctx)) == {"foreign_class"}
    assert class_names(rows, [g.school_class for g in scopes.subgroups(ctx)]) == {"foreign_class"}


ASSIGNMENTS = [
    *[(p, {"teacher", "otherteacher"}) for p in [*MANAGEMENT, *TEACHERS, "viewer"]],
    *[(p, set()) for p in FAMILY],
]


@pytest.mark.parametrize(("persona", "teachers"), ASSIGNMENTS)
def test_assignments_scope_is_the_workload_for_staff_and_viewers_only(rows, ctx_of, persona, teachers):
    assert {a.teacher.username for a in scopes.assignments(ctx_of(persona))} == teachers


@pytest.mark.parametrize("persona", EVERYONE)
def test_every_member_reads_the_directory_of_their_own_school_only(rows, ctx_of, persona):
    ctx = ctx_of(persona)
    assert {s.name for s in scopes.directory(ctx, Subject)} == {"Математика", "Історія"}
    for model in scopes.DIRECTORY_MODELS:
        visible = scopes.directory(ctx, model)
        assert set(visible) == set(model._default_manager.filter(school=rows.school))
    assert scopes.directory(ctx, MarkingScale).count() == 4
    assert scopes.directory(ctx, AcademicYear).get().school == rows.school


def test_directory_of_the_other_school_shows_its_subjects_only(rows, ctx_of):
    ctx = ctx_of("foreign_admin", school=rows.other_school)
    assert {s.name for s in scopes.directory(ctx, Subject)} == {"Фізика"}


@pytest.mark.parametrize("model", [Student, Membership, Consent, GuardianLink])
def test_directory_refuses_models_that_are_not_reference_data(rows, ctx_of, model):
    with pytest.raises(TypeError):
        scopes.directory(ctx_of("admin"), model)


# --- guardians, consents, memberships, staff ----------------------------------------------------------

GUARDIAN_LINKS = [
    *[(p, {"parent", "otherparent"}) for p in [*MANAGEMENT, "viewer"]],
    ("class_teacher", {"parent"}),  # parents of the homeroom class
    ("teacher", set()),
    ("other_teacher", set()),
    ("student", set()),
    ("other_student", set()),
    ("parent", {"parent"}),  # only their own link
    ("other_parent", {"otherparent"}),
]


@pytest.mark.parametrize(("persona", "guardians"), GUARDIAN_LINKS)
def test_guardian_links_scope_by_persona(rows, ctx_of, persona, guardians):
    assert {g.guardian.username for g in scopes.guardian_links(ctx_of(persona))} == guardians


CONSENTS = [
    *[(p, BOTH_STUDENTS) for p in [*MANAGEMENT, "viewer"]],
    ("class_teacher", {"student"}),
    *[(p, set()) for p in ["teacher", "other_teacher", *FAMILY]],
]


@pytest.mark.parametrize(("persona", "students"), CONSENTS)
def test_consents_scope_by_persona(rows, ctx_of, persona, students):
    assert {c.student.user.username for c in scopes.consents(ctx_of(persona))} == students


@pytest.mark.parametrize(
    ("persona", "sees_all"),
    [*[(p, True) for p in [*MANAGEMENT, "viewer"]], *[(p, False) for p in [*TEACHERS, *FAMILY]]],
)
def test_memberships_scope_is_all_roles_of_the_school_or_nothing(rows, ctx_of, persona, sees_all):
    visible = set(scopes.memberships(ctx_of(persona)))
    expected = set(Membership.objects.filter(school=rows.school)) if sees_all else set()
    assert visible == expected
    assert all(m.school_id == rows.school.pk for m in visible)


STAFF_USERNAMES = {"admin", "director", "deputy", "secretary", "teacher", "classteacher", "otherteacher"}


@pytest.mark.parametrize(
    ("persona", "visible"),
    [*[(p, STAFF_USERNAMES) for p in [*MANAGEMENT, *TEACHERS, "viewer"]], *[(p, set()) for p in FAMILY]],
)
def test_staff_directory_scope_by_persona(rows, ctx_of, persona, visible):
    assert {u.username for u in scopes.staff(ctx_of(persona))} == visible


def test_staff_directory_keeps_a_teacher_whose_role_elsewhere_ended(rows, ctx_of):
    """An ended role in another school (or an old role here) must not hide a current teacher."""
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Membership.objects.create(school=rows.other_school, user=rows.teacher, role=Role.TEACHER, until=yesterday)
    Membership.objects.create(school=rows.school, user=rows.other_teacher, role=Role.DEPUTY, until=yesterday)
    assert {"teacher", "otherteacher"} <= {u.username for u in scopes.staff(ctx_of("admin"))}


@pytest.mark.parametrize("change", [{"is_active": False}, {"until": -1}])
def test_staff_directory_drops_a_teacher_whose_role_here_is_not_current(rows, ctx_of, change):
    values = {k: (timezone.localdate() + dt.timedelta(days=v) if k != "is_active" else v) for k, v in change.items()}
    Membership.objects.filter(school=rows.school, user=rows.other_teacher).update(**values)
    assert "otherteacher" not in {u.username for u in scopes.staff(ctx_of("admin"))}


def test_staff_directory_lists_a_person_with_two_roles_once(rows, ctx_of):
    Membership.objects.create(school=rows.school, user=rows.teacher, role=Role.DEPUTY)
    assert [u.username for u in scopes.staff(ctx_of("admin"))].count("teacher") == 1


# --- credentials and the audit log ----------------------------------------------------------------

FAMILY_USERNAMES = {"student", "otherstudent", "parent", "otherparent"}
PEOPLE_FOR_CODES = [
    ("admin", (STAFF_USERNAMES - {"admin"}) | FAMILY_USERNAMES),  # everyone but themselves
    ("class_teacher", {"student", "parent"}),  # students and parents of the homeroom class (R1.2)
    *[(p, set()) for p in ["director", "deputy", "secretary", "teacher", "other_teacher", *FAMILY, "viewer"]],
]


@pytest.mark.parametrize(("persona", "visible"), PEOPLE_FOR_CODES)
def test_people_for_codes_by_persona(rows, ctx_of, persona, visible):
    assert {u.username for u in scopes.people_for_codes(ctx_of(persona))} == visible


ACTIVATION_CODES = [
    ("admin", {"teacher", "student", "parent", "otherparent"}),
    ("class_teacher", {"student", "parent"}),
    *[(p, set()) for p in ["director", "secretary", "teacher", "parent", "student", "viewer"]],
]


@pytest.mark.parametrize(("persona", "owners"), ACTIVATION_CODES)
def test_activation_codes_scope_follows_people_for_codes(rows, ctx_of, persona, owners):
    assert {c.user.username for c in scopes.activation_codes(ctx_of(persona))} == owners


def test_activation_codes_of_the_other_school_stay_there(rows, ctx_of):
    ctx = ctx_of("foreign_admin", school=rows.other_school)
    assert {c.user.username for c in scopes.activation_codes(ctx)} == {"foreignteacher"}


AUDIT = [
    *[(p, {"test.school"}) for p in ["admin", "director"]],
    *[(p, set()) for p in ["deputy", "secretary", *TEACHERS, *FAMILY, "viewer"]],
]


@pytest.mark.parametrize(("persona", "actions"), AUDIT)
def test_audit_log_scope_by_persona(rows, ctx_of, persona, actions):
    assert {e.action for e in scopes.audit_entries(ctx_of(persona))} == actions


def test_audit_log_of_the_other_school_stays_there(rows, ctx_of):
    ctx = ctx_of("foreign_admin", school=rows.other_school)
    assert {e.action for e in scopes.audit_entries(ctx)} == {"test.other_school"}


# --- get_or_404 ---------------------------------------------------------------------------------------


def test_get_or_404_returns_a_visible_row(rows, ctx_of):
    assert scopes.get_or_404(scopes.students(ctx_of("parent")), pk=rows.student.pk) == rows.student


@pytest.mark.parametrize(
    ("persona", "target"),
    [
        ("parent", "other_student"),  # exists, but not their child
        ("student", "other_student"),
        ("teacher", "other_student"),  # class_b is not taught by them
        ("class_teacher", "other_student"),
        ("admin", "foreign_student"),  # another school's row, by its id
        ("viewer", "foreign_student"),
    ],
)
def test_get_or_404_answers_404_for_rows_the_persona_may_not_see(rows, ctx_of, persona, target):
    with pytest.raises(Http404):
        scopes.get_or_404(scopes.students(ctx_of(persona)), pk=getattr(rows, target).pk)


@pytest.mark.parametrize("pk", ["abc", "1; DROP TABLE people_student", "", None, "1.5", [1], {"a": 1}, 10**30])
def test_get_or_404_answers_404_for_malformed_ids(rows, ctx_of, pk):
    with pytest.raises(Http404):
        scopes.get_or_404(scopes.students(ctx_of("admin")), pk=pk)


def test_get_or_404_answers_404_when_the_lookup_is_ambiguous(rows, ctx_of):
    with pytest.raises(Http404):
        scopes.get_or_404(scopes.students(ctx_of("admin")), school=rows.school)


# --- cost ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "class_teacher", "parent", "student", "viewer"])
def test_resolving_the_school_costs_a_handful_of_queries(rows, persona, django_assert_max_num_queries):
    from classbook.access.context import resolve_school

    user = rows.persona(persona)
    with django_assert_max_num_queries(6):
        resolve_school(user, rows.school.slug)


def test_students_scope_is_one_query_for_a_page(rows, ctx_of, django_assert_num_queries):
    ctx = ctx_of("class_teacher")
    with django_assert_num_queries(1):
        [s.user.full_name for s in scopes.students(ctx)]
