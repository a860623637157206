"""Who may read and change calendar-thematic plans (R3.1-R3.3).

- The teacher of a teaching assignment edits its plan (import, copy, bind, submit, publish to the base)
  and confirms the topics it suggested for the lessons they give.
- Directors, deputies and administrators (``VIEW_ALL_PLANS``) read every plan and the programme
  completion; those with ``APPROVE_PLANS`` approve or return plans and set the deadline.
- A class teacher reads the plans of their own class; a substitute the plans of the journals in which
  they gave a lesson (they confirm the suggested topics of those lessons).
- Every staff member reads the school's shared base of plans and, to copy it, a colleague's plan of the
  same subject and year level (a parallel class, an earlier year).
- Students, parents and authority viewers have no access.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.journal.models import Lesson
from classbook.people.models import Role, User
from classbook.planning.models import Plan, PlanningDeadline
from classbook.schools.models import TeachingAssignment


def reads_all(ctx: SchoolContext) -> bool:
    return ctx.has(Perm.VIEW_ALL_PLANS)


def may_approve(ctx: SchoolContext) -> bool:
    return ctx.has(Perm.APPROVE_PLANS) and not ctx.is_read_only


def may_edit_plan(user: User | AnonymousUser, assignment: TeachingAssignment) -> bool:
    """Only the assignment's teacher edits its plan (checked again inside every service)."""
    return bool(getattr(user, "pk", None)) and assignment.teacher_id == user.pk


def may_open_plans(ctx: SchoolContext) -> bool:
    """The plans pages and API (and the navigation's link): the administration and teachers."""
    return reads_all(ctx) or Role.TEACHER in ctx.roles


def may_write_plan(ctx: SchoolContext, assignment: TeachingAssignment) -> bool:
    """The assignment's teacher, acting in their role (not as a read-only viewer): page and API."""
    return not ctx.is_read_only and may_edit_plan(ctx.user, assignment)


def may_withdraw_shared(ctx: SchoolContext, plan: Plan) -> bool:
    """A plan of the shared base is taken out by its author or by those who approve plans (R3.3)."""
    return not ctx.is_read_only and (plan.created_by_id == ctx.user.pk or may_approve(ctx))


def plan_assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """Teaching assignments whose plans the user may read (without joins, so aggregates stay exact)."""
    qs = TeachingAssignment.objects.filter(school=ctx.school).select_related(
        "teacher", "school_class", "school_class__year_level", "subgroup", "subject", "year"
    )
    if reads_all(ctx):
        return qs
    if not ctx.is_staff_member or ctx.is_read_only:
        return qs.none()
    gave = Lesson.objects.filter(school=ctx.school, conducted_by=ctx.user).values("assignment_id")
    return qs.filter(Q(teacher=ctx.user) | Q(school_class_id__in=ctx.homeroom_class_ids) | Q(pk__in=gave))


def plans(ctx: SchoolContext) -> QuerySet[Plan]:
    """Plans of the assignments the user may read, and the shared base for staff."""
    qs = Plan.objects.filter(school=ctx.school).select_related("subject", "year_level", "year", "created_by")
    if reads_all(ctx):
        return qs
    if not ctx.is_staff_member or ctx.is_read_only:
        return qs.none()
    return qs.filter(
        Q(is_shared=True, withdrawn_at__isnull=True)
        | Q(assignment__teacher=ctx.user)
        | Q(assignment__school_class_id__in=ctx.homeroom_class_ids)
    )


def shared_plans(ctx: SchoolContext) -> QuerySet[Plan]:
    """The school's shared base of plans (R3.3): every staff member reads it."""
    if not (reads_all(ctx) or (ctx.is_staff_member and not ctx.is_read_only)):
        return Plan.objects.none()
    return Plan.objects.filter(school=ctx.school, is_shared=True, withdrawn_at__isnull=True).select_related(
        "subject", "year_level", "year", "created_by"
    )


def copy_sources(ctx: SchoolContext, assignment: TeachingAssignment) -> QuerySet[Plan]:
    """Plans the user may copy into ``assignment``'s plan: same subject and year level, with topics.

    The shared base, parallel classes' plans and earlier years' plans; never the plan itself.
    """
    if not (reads_all(ctx) or (ctx.is_staff_member and not ctx.is_read_only)):
        return Plan.objects.none()
    return (
        Plan.objects.filter(
            school=ctx.school,
            subject_id=assignment.subject_id,
            year_level_id=assignment.school_class.year_level_id,
            withdrawn_at__isnull=True,
            topics__isnull=False,
        )
        .exclude(assignment_id=assignment.pk)
        .select_related("assignment__teacher", "assignment__school_class", "assignment__subgroup", "year", "subject")
        .distinct()
        .order_by("-year__start", "is_shared", "pk")
    )


def deadlines(ctx: SchoolContext) -> QuerySet[PlanningDeadline]:
    return PlanningDeadline.objects.filter(school=ctx.school)
