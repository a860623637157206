"""Who may open a student's diary and information letter (R1.3, R5.1, R5.6).

- A student: only their own diary.
- A parent: only children linked with "may see" whose link has not ended (``ctx.child_student_ids``).
- A class teacher: a read-only preview of the students now in their homeroom class, and the
  information letters of that class (one student or the whole class in one PDF).
- Nobody else: other staff (administration, subject teachers, the secretary) and authority viewers
  read the journal, not the diary, and get 404 here like a stranger.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.utils import timezone

from classbook.access.context import SchoolContext
from classbook.core.bulk import is_postgres
from classbook.people.models import Enrolment, GuardianLink, Role, Student, current_enrolment_q
from classbook.schools.models import SchoolClass


def family_student_ids(ctx: SchoolContext) -> set[int]:
    """The user's own student record and their visible children (no query: resolved with the context)."""
    ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        ids.add(ctx.own_student_id)
    return ids


def diary_scope_values(ctx: SchoolContext) -> dict[str, Any]:
    """The values the diary's rule needs, as plain ints and a date (0 = the user has no such relationship).

    The relationships are those the context resolved (``build_context``): a parent's links count only for
    the parent role, the homeroom class only for the teacher role, the own record only for the student role.
    """
    return {
        "school": ctx.school.pk,
        "own": ctx.own_student_id or 0,
        "guardian": ctx.user.pk if Role.PARENT in ctx.roles else 0,
        "class_teacher": ctx.user.pk if ctx.homeroom_class_ids else 0,
        "today": timezone.localdate(),
    }


def diary_student_filter(*, school: int, own: int, guardian: int, class_teacher: int, today: dt.date) -> Q:
    """Students whose diary the user may open, as a filter of one fixed shape (the diary compiles it once).

    The same rule as ``SchoolContext``: links with "may see" that have not ended (a link ending today no
    longer counts), students now enrolled in a class whose class teacher the user is.
    """
    links = (
        GuardianLink.objects.filter(school_id=school, guardian_id=guardian, may_see=True)
        .exclude(ended_on__lte=today)
        .values("student_id")
    )
    homeroom = (
        Enrolment.objects.filter(school_id=school, school_class__class_teacher_id=class_teacher)
        .filter(current_enrolment_q(school))
        .values("student_id")
    )
    # The union of the three (not three ORed conditions): PostgreSQL cannot estimate an OR of subqueries and
    # took it for most of the school, then read every user of the database to join the names (25,000 rows a
    # diary request with ten schools, 11 ms). On PostgreSQL as "id = ANY(ARRAY(union))": the union runs once
    # and the students are fetched by primary key, a plan that does not depend on the values, so the prepared
    # statement keeps its generic plan; "id IN (union)" was re-planned on every request (~2 ms of planning).
    own_record = Student.objects.filter(school_id=school, pk=own).values("pk")
    union = own_record.union(links, homeroom, all=True)
    if is_postgres():
        return Q(_AnyOf(F("pk"), ArraySubquery(union)))
    return Q(pk__in=union)


class _AnyOf(Func):
    """``<expression> = ANY(<array>)`` as a condition (PostgreSQL)."""

    arg_joiner = " = ANY("
    template = "%(expressions)s)"
    output_field = BooleanField()
    conditional = True


def diary_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students whose diary the user may open (see the module docstring); empty for everybody else."""
    values = diary_scope_values(ctx)
    return Student.objects.filter(school_id=values["school"]).filter(diary_student_filter(**values))


def may_keep_offline(ctx: SchoolContext, student_id: int) -> bool:
    """Whether the browser may keep this diary offline: one's own or one's child's, never a staff preview."""
    return student_id in family_student_ids(ctx)


def letter_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose information letters the user prints as a whole: their homeroom classes."""
    return SchoolClass.objects.filter(school=ctx.school, pk__in=ctx.homeroom_class_ids).select_related("year")


def uses_diary(ctx: SchoolContext) -> bool:
    """Whether the diary belongs in the user's navigation."""
    return bool(family_student_ids(ctx) or ctx.homeroom_class_ids)
