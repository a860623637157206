"""Who may print which journal pages and summary sheets, and who may verify a printed copy (R6.6).

- A teacher prints the journals of their own subjects (their teaching assignments) in any class.
- A class teacher prints every subject of their class, its summary sheets, attendance and student pages.
- The director, deputies and administrators print every class of the school.
- Authority viewers read journals but do not print copies of the school's record (a printed copy is
  certified by the school); students, parents and the secretary never print the journal (they have the diary).
- A printed copy's verification code is checked by the school's staff (the page shows who printed it);
  another school's people never reach the school at all (``resolve_school``).
"""

from __future__ import annotations

from typing import cast

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.people.models import Role, User
from classbook.printing.models import PrintedCopy
from classbook.schools.models import School, SchoolClass, TeachingAssignment

# The administration prints the whole school's journals.
SCHOOL_PRINTERS = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})


def prints_whole_school(ctx: SchoolContext) -> bool:
    return bool(ctx.roles & SCHOOL_PRINTERS)


def may_print(ctx: SchoolContext) -> bool:
    """The printing pages and API (and the navigation's link): the administration and teachers."""
    return prints_whole_school(ctx) or Role.TEACHER in ctx.roles


def printable_assignments(ctx: SchoolContext, school_class: SchoolClass) -> QuerySet[TeachingAssignment]:
    """The journals of ``school_class`` the user may print: all of them, or their own subjects."""
    qs = TeachingAssignment.objects.filter(school=ctx.school, school_class=school_class)
    if school_class.school_id != ctx.school.pk:
        return qs.none()
    if prints_whole_school(ctx) or (Role.TEACHER in ctx.roles and school_class.pk in ctx.homeroom_class_ids):
        return qs
    if Role.TEACHER in ctx.roles:
        return qs.filter(teacher=ctx.user)
    return qs.none()


def printable_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes with at least one journal the user may print."""
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year", "year_level")
    if prints_whole_school(ctx):
        return qs
    if Role.TEACHER not in ctx.roles:
        return qs.none()
    own = TeachingAssignment.objects.filter(school=ctx.school, teacher=ctx.user).values("school_class_id")
    return qs.filter(pk__in=own) | qs.filter(pk__in=ctx.homeroom_class_ids)


def may_print_whole_class(ctx: SchoolContext, school_class: SchoolClass) -> bool:
    """The class's own pages (title, summary of achievements, attendance, students, remarks) and its summary
    sheet: the administration and the class's class teacher."""
    if school_class.school_id != ctx.school.pk:
        return False
    return prints_whole_school(ctx) or (Role.TEACHER in ctx.roles and school_class.pk in ctx.homeroom_class_ids)


def may_certify(ctx: SchoolContext) -> bool:
    """A certified copy bears the signature of the director or a deputy director (the school's administration
    certifies copies of its records, R6.6; seed 004 §4.6.1: the deputies print the journal's pages)."""
    return certifier_role(ctx) is not None


def may_verify(ctx: SchoolContext) -> bool:
    """The verification page names who printed the copy: the school's staff only."""
    return ctx.is_staff_member


def verifiable_copies(ctx: SchoolContext) -> QuerySet[PrintedCopy]:
    qs = PrintedCopy.objects.filter(school=ctx.school).select_related("school_class", "printed_by")
    return qs if may_verify(ctx) else qs.none()


def system_context(school: School) -> SchoolContext:
    """The context of copies printed by the system (the archive's weekly copies): every journal of ``school``,
    no user, so nothing is editable (the journal's edit rules need a signed-in user, ``can_edit_lesson_of``)."""
    return SchoolContext(school=school, user=cast(User, AnonymousUser()), roles=frozenset({Role.ADMIN}))


def may_print_contacts(ctx: SchoolContext, school_class: SchoolClass) -> bool:
    """Addresses, phones and guardians on the information page: who reads contacts (``VIEW_CONTACTS``) and the
    class's class teacher, who keeps that page of the paper journal."""
    from classbook.access.rules import Perm

    return ctx.has(Perm.VIEW_CONTACTS) or (Role.TEACHER in ctx.roles and school_class.pk in ctx.homeroom_class_ids)


def may_print_journal(ctx: SchoolContext, assignment: TeachingAssignment) -> bool:
    """``printable_assignments`` for one journal already read (the journal page's "Print" link)."""
    if assignment.school_id != ctx.school.pk:
        return False
    if prints_whole_school(ctx):
        return True
    return Role.TEACHER in ctx.roles and (
        assignment.teacher_id == ctx.user.pk or assignment.school_class_id in ctx.homeroom_class_ids
    )


def certifier_role(ctx: SchoolContext) -> str | None:
    """The role a certified copy names the certifier by: the director's, else a deputy's; None: may not certify."""
    if Role.DIRECTOR in ctx.roles:
        return Role.DIRECTOR
    return Role.DEPUTY if Role.DEPUTY in ctx.roles else None
