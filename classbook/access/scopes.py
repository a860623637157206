"""Scoped querysets: every school-owned row a view or the API sees comes from here.

Deny by default: a role without a rule sees an empty queryset, and ``get_or_404``
answers 404 both for rows that do not exist and for rows the user may not see.
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db import models
from django.db.models import BooleanField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.http import Http404
from django.utils import timezone

from classbook.access import codes
from classbook.access.context import SchoolContext, current_memberships
from classbook.access.rules import Perm
from classbook.core.collation import name_order
from classbook.core.models import AuditEntry
from classbook.people.models import (
    STAFF_ROLES,
    ActivationCode,
    Consent,
    Enrolment,
    GuardianLink,
    Membership,
    Student,
    User,
    current_enrolment_q,
)
from classbook.schools.models import (
    AcademicYear,
    MarkingScale,
    Room,
    School,
    SchoolClass,
    SpecialDay,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)

M = TypeVar("M", bound=models.Model)

# Reference data every member of the school may read (names of classes, subjects, the calendar).
DIRECTORY_MODELS: tuple[type[models.Model], ...] = (
    AcademicYear,
    StudyPeriod,
    SpecialDay,
    YearLevel,
    Subject,
    Room,
    MarkingScale,
)


def get_or_404(queryset: QuerySet[M], **lookup: object) -> M:
    """The one row matching ``lookup`` inside an already scoped queryset, else 404 (never 403: no leak)."""
    try:
        return queryset.get(**lookup)
    # The base classes of every model's ``DoesNotExist`` / ``MultipleObjectsReturned``.
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None
    except MultipleObjectsReturned:
        raise Http404 from None


def directory(ctx: SchoolContext, model: type[M]) -> QuerySet[M]:
    """Reference data of the school (calendar, subjects, rooms, scales, year levels): any member reads it."""
    if model not in DIRECTORY_MODELS:
        raise TypeError(f"{model.__name__} is not school reference data")
    return model._default_manager.filter(school=ctx.school)  # type: ignore[attr-defined]


def classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes the user may see: staff and viewers all; students and parents their own children's."""
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year", "year_level", "class_teacher")
    if ctx.has(Perm.VIEW_SCHOOL_DIRECTORY):
        return qs
    student_ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        student_ids.add(ctx.own_student_id)
    return qs.filter(enrolments__student_id__in=student_ids).distinct()


def subgroups(ctx: SchoolContext) -> QuerySet[Subgroup]:
    return Subgroup.objects.filter(school=ctx.school, school_class__in=classes(ctx)).select_related("school_class")


def assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """Teaching assignments: staff and viewers see the school's workload; others none."""
    qs = TeachingAssignment.objects.filter(school=ctx.school).select_related(
        "teacher", "school_class", "subgroup", "subject", "year"
    )
    return qs if ctx.has(Perm.VIEW_SCHOOL_DIRECTORY) else qs.none()


def students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students the user may see (R1.3): all for the administration, class and taught students for
    teachers, the linked children (with "may see") for parents, themselves for students."""
    qs = Student.objects.filter(school=ctx.school).select_related("user")
    if ctx.has(Perm.VIEW_ALL_STUDENTS):
        return qs
    cond = Q(pk__in=ctx.child_student_ids)
    if ctx.own_student_id:
        cond |= Q(pk=ctx.own_student_id)
    class_ids = ctx.homeroom_class_ids | ctx.taught_class_ids
    if class_ids:
        cond |= Q(enrolments__school_class_id__in=class_ids) & current_enrolment_q(ctx.school.pk, "enrolments__")
    return qs.filter(cond).distinct()


def enrolments(ctx: SchoolContext) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(school=ctx.school, student__in=students(ctx)).select_related(
        "student__user", "school_class"
    )


def class_students(ctx: SchoolContext, school_class: SchoolClass) -> QuerySet[Student]:
    """Current students of a class the user may see, alphabetically."""
    return (
        students(ctx)
        .filter(Q(enrolments__school_class=school_class) & current_enrolment_q(ctx.school.pk, "enrolments__"))
        .order_by(*name_order("user__"))
    )


def guardian_links(ctx: SchoolContext) -> QuerySet[GuardianLink]:
    """Guardian links of the students the user may manage, and a parent's own current, visible links.

    A link switched off by custody (``may_see=False``) or ended is invisible to the parent too (R1.3):
    it would still name the child.
    """
    qs = GuardianLink.objects.filter(school=ctx.school).select_related("guardian", "student__user")
    if ctx.has(Perm.VIEW_ALL_STUDENTS):
        return qs
    cond = Q(guardian=ctx.user, student_id__in=ctx.child_student_ids)
    if ctx.homeroom_class_ids:
        cond |= Q(student__enrolments__school_class_id__in=ctx.homeroom_class_ids) & current_enrolment_q(
            ctx.school.pk, "student__enrolments__"
        )
    return qs.filter(cond).distinct()


def consents(ctx: SchoolContext) -> QuerySet[Consent]:
    qs = Consent.objects.filter(school=ctx.school).select_related("student__user", "recorded_by")
    if ctx.has(Perm.MANAGE_CONSENTS) or ctx.has(Perm.VIEW_ALL_STUDENTS):
        return qs
    if ctx.homeroom_class_ids:
        return qs.filter(
            Q(student__enrolments__school_class_id__in=ctx.homeroom_class_ids)
            & current_enrolment_q(ctx.school.pk, "student__enrolments__")
        ).distinct()
    return qs.none()


def memberships(ctx: SchoolContext) -> QuerySet[Membership]:
    """Roles in the school: the administration sees all; others none."""
    qs = Membership.objects.filter(school=ctx.school).select_related("user")
    return qs if ctx.has(Perm.MANAGE_STAFF) or ctx.has(Perm.VIEW_ALL_STUDENTS) else qs.none()


def staff(ctx: SchoolContext) -> QuerySet[User]:
    """Staff of the school (for the directory): any staff member or viewer sees names and positions."""
    if not ctx.has(Perm.VIEW_SCHOOL_DIRECTORY):
        return User.objects.none()
    # A subquery, not exclude(memberships__until__lt=...): that would hide anyone with *any* ended role.
    current = current_memberships(timezone.localdate()).filter(school=ctx.school, role__in=list(STAFF_ROLES))
    return User.objects.filter(pk__in=current.values("user_id")).order_by(*name_order())


def people_for_codes(ctx: SchoolContext) -> QuerySet[User]:
    """Users the current user may issue activation codes for or withdraw them from (R1.2).

    The rule (authority over every membership the person has) lives in ``access/codes.py``.
    """
    return codes.people_for_codes(ctx)


def activation_codes(ctx: SchoolContext) -> QuerySet[ActivationCode]:
    return ActivationCode.objects.filter(school=ctx.school, user__in=people_for_codes(ctx)).select_related(
        "user", "issued_by"
    )


def may_view_audit_log(ctx: SchoolContext) -> bool:
    """The school's audit log (page and API): administrators and directors (VIEW_AUDIT_LOG)."""
    return ctx.has(Perm.VIEW_AUDIT_LOG)


def audit_entries(ctx: SchoolContext) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.filter(school=ctx.school).select_related("actor")
    return qs if ctx.has(Perm.VIEW_AUDIT_LOG) else qs.none()


def audit_entries_of_members(ctx: SchoolContext) -> QuerySet[AuditEntry]:
    """Entries without a school that a person wrote about their own account (logins, new devices, their own
    two-factor and token changes) or the system wrote, when that person is a member of this school today:
    each school where a person has a role sees their account's security events. Never another school's
    entries, nor school-less entries someone else wrote about them (that someone may be of another school);
    a former member's logins are no longer shown."""
    qs = own_entries_of_members(ctx.school)
    return qs if ctx.has(Perm.VIEW_AUDIT_LOG) else qs.none()


def own_entries_of_members(school: School) -> QuerySet[AuditEntry]:
    """The school-less entries about their own account of the school's members today (``audit_entries_of_members``
    without the reader's check: the caller decides who reads them, e.g. the logins of the user activity report)."""
    members = current_memberships().filter(school=school).values("user_id")
    # COALESCE(actor = subject, true): by the person, or by nobody (the system). Not "actor = subject OR
    # actor IS NULL", which PostgreSQL estimates at 0.5 % and answers by reading every school-less row.
    own = Coalesce(Exact(F("actor_id"), F("subject_id")), Value(True), output_field=BooleanField())
    return AuditEntry.objects.filter(own, school=None, subject__in=members)


# --- Roster: the people of a school (R1.7, R1.8, R7.3, R7.4) ----------------------------------------


def may_view_roster(ctx: SchoolContext) -> bool:
    """Roster pages: whoever sees every student (administration, authority viewers) and class teachers."""
    return ctx.has(Perm.VIEW_ALL_STUDENTS) or ctx.is_class_teacher


def may_write_roster(ctx: SchoolContext) -> bool:
    """Read-only authority viewers never write, whatever else they hold."""
    return not ctx.is_read_only


def may_manage_students(ctx: SchoolContext) -> bool:
    """Admit, move, withdraw students, link guardians, import class lists (R7.1, R7.2): page and API."""
    return ctx.has(Perm.MANAGE_STUDENTS) and may_write_roster(ctx)


def edits_whole_student_file(ctx: SchoolContext) -> bool:
    """Which fields an allowed edit of a student covers: the whole personal file for those who manage
    students, the contacts only for a class teacher (``may_edit_student_contacts`` decides whether at all)."""
    return ctx.has(Perm.MANAGE_STUDENTS)


def may_manage_staff(ctx: SchoolContext) -> bool:
    """Staff accounts and their roles (R1.7, R1.8): the staff pages, and the staff API's full rows."""
    return ctx.has(Perm.MANAGE_STAFF) and may_write_roster(ctx)


def may_read_alphabetical_book(ctx: SchoolContext) -> bool:
    """The alphabetical book of every student of the school (R7.1): those who see every student."""
    return ctx.has(Perm.VIEW_ALL_STUDENTS)


def may_read_staff_directory(ctx: SchoolContext) -> bool:
    """The staff directory (names and positions): every staff member and authority viewer."""
    return ctx.has(Perm.VIEW_SCHOOL_DIRECTORY)


def may_see_contacts(ctx: SchoolContext, class_id: int | None) -> bool:
    """Home addresses and phones of a class's students and their guardians: those who hold VIEW_CONTACTS,
    and the class teacher of that class. An authority viewer reads records, not contact details."""
    return ctx.has(Perm.VIEW_CONTACTS) or (class_id is not None and class_id in ctx.homeroom_class_ids)


def may_edit_student_contacts(ctx: SchoolContext, student: Student) -> bool:
    """Secretaries and admins edit every student; a class teacher the contacts of their own class (R7.3)."""
    if ctx.is_read_only:
        return False
    if ctx.has(Perm.MANAGE_STUDENTS):
        return True
    return student.pk in _homeroom_student_ids(ctx)


def may_manage_consents(ctx: SchoolContext, student: Student) -> bool:
    """Consents are recorded by those who manage them and by the student's class teacher (R7.4)."""
    if ctx.is_read_only:
        return False
    return ctx.has(Perm.MANAGE_CONSENTS) or student.pk in _homeroom_student_ids(ctx)


def may_edit_guardian_contacts(ctx: SchoolContext, guardian: User) -> bool:
    """Parents' contacts: those who manage students, and the class teacher of one of their children (R7.6)."""
    if ctx.is_read_only:
        return False
    if ctx.has(Perm.MANAGE_STUDENTS):
        return True
    homeroom = _homeroom_student_ids(ctx)
    return bool(homeroom) and guardian.guardian_links.filter(school=ctx.school, student_id__in=homeroom).exists()


def _homeroom_student_ids(ctx: SchoolContext) -> set[int]:
    if not ctx.homeroom_class_ids:
        return set()
    return set(
        Enrolment.objects.filter(school=ctx.school, school_class_id__in=ctx.homeroom_class_ids)
        .filter(current_enrolment_q(ctx.school.pk))
        .values_list("student_id", flat=True)
    )


def roster_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students on roster pages: all (including those who left) for the administration and viewers,
    the current students of their own classes for class teachers; nobody else's."""
    qs = Student.objects.filter(school=ctx.school).select_related("user")
    if ctx.has(Perm.VIEW_ALL_STUDENTS):
        return qs
    if ctx.homeroom_class_ids:
        return qs.filter(pk__in=_homeroom_student_ids(ctx))
    return qs.none()


def roster_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose lists the user keeps or controls: all for the administration, own for class teachers."""
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year", "year_level", "class_teacher")
    if ctx.has(Perm.VIEW_ALL_STUDENTS):
        return qs
    return qs.filter(pk__in=ctx.homeroom_class_ids)


def roster_enrolments(ctx: SchoolContext) -> QuerySet[Enrolment]:
    """Enrolments (class history) of the roster students."""
    return Enrolment.objects.filter(school=ctx.school, student__in=roster_students(ctx)).select_related(
        "school_class__year"
    )


def roster_guardian_links(ctx: SchoolContext) -> QuerySet[GuardianLink]:
    """Guardian links of the roster students (custody flags included: the staff must see them)."""
    return GuardianLink.objects.filter(school=ctx.school, student__in=roster_students(ctx)).select_related(
        "guardian", "student__user"
    )


def roster_consents(ctx: SchoolContext) -> QuerySet[Consent]:
    return Consent.objects.filter(school=ctx.school, student__in=roster_students(ctx)).select_related(
        "student__user", "recorded_by"
    )


def school_parents(ctx: SchoolContext) -> QuerySet[User]:
    """Parents of the school who may be linked to another child: only for those who manage students."""
    if not ctx.has(Perm.MANAGE_STUDENTS):
        return User.objects.none()
    return (
        User.objects.filter(memberships__school=ctx.school, memberships__role="parent", memberships__is_active=True)
        .distinct()
        .order_by(*name_order())
    )


def roster_guardians(ctx: SchoolContext) -> QuerySet[User]:
    """Guardians (parent accounts) of the roster students, for their contact data."""
    return User.objects.filter(
        guardian_links__school=ctx.school, guardian_links__student__in=roster_students(ctx)
    ).distinct()


def staff_people(ctx: SchoolContext) -> QuerySet[User]:
    """Everybody who has or had a staff role in the school (managers of staff only, R1.7, R1.8)."""
    if not ctx.has(Perm.MANAGE_STAFF):
        return User.objects.none()
    return (
        User.objects.filter(memberships__school=ctx.school, memberships__role__in=list(STAFF_ROLES))
        .distinct()
        .order_by(*name_order())
    )


def staff_memberships(ctx: SchoolContext) -> QuerySet[Membership]:
    """Staff roles (active and revoked) in the school, for those who manage staff."""
    qs = Membership.objects.filter(school=ctx.school, role__in=list(STAFF_ROLES)).select_related("user")
    return qs if ctx.has(Perm.MANAGE_STAFF) else qs.none()


def staff_directory_memberships(ctx: SchoolContext) -> QuerySet[Membership]:
    """Current staff roles and positions: the directory every staff member and viewer reads."""
    qs = Membership.objects.filter(school=ctx.school, role__in=list(STAFF_ROLES), is_active=True).exclude(
        until__lt=timezone.localdate()
    )
    return qs if ctx.has(Perm.VIEW_SCHOOL_DIRECTORY) else qs.none()
