"""Who may open a student's diary and information letter (R1.3, R5.1, R5.6).

- A student: only their own diary.
- A parent: only children linked with "may see" whose link has not ended (``ctx.child_student_ids``).
- A class teacher: a read-only preview of the students now in their homeroom class, and the
  information letters of that class (one student or the whole class in one PDF).
- Nobody else: other staff (administration, subject teachers, the secretary) and authority viewers
  read the journal, not the diary, and get 404 here like a stranger.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.people.models import Enrolment, Student
from classbook.schools.models import SchoolClass


def family_student_ids(ctx: SchoolContext) -> set[int]:
    """The user's own student record and their visible children (no query: resolved with the context)."""
    ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        ids.add(ctx.own_student_id)
    return ids


def diary_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students whose diary the user may open (see the module docstring); empty for everybody else."""
    qs = Student.objects.filter(school=ctx.school)
    allowed = Q(pk__in=family_student_ids(ctx))
    if ctx.homeroom_class_ids:
        in_homeroom = Enrolment.objects.filter(
            school=ctx.school, school_class_id__in=ctx.homeroom_class_ids, end__isnull=True
        ).values("student_id")
        allowed |= Q(pk__in=in_homeroom)
    return qs.filter(allowed)


def letter_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose information letters the user prints as a whole: their homeroom classes."""
    return SchoolClass.objects.filter(school=ctx.school, pk__in=ctx.homeroom_class_ids).select_related("year")


def uses_diary(ctx: SchoolContext) -> bool:
    """Whether the diary belongs in the user's navigation."""
    return bool(family_student_ids(ctx) or ctx.homeroom_class_ids)
