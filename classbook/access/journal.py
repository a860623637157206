"""Who may read and write which journal (R1.4, R2.9, R6.10).

- The teacher of a teaching assignment edits its journal; a substitute edits the lessons they conducted.
- The class teacher reads every subject of their class; directors, deputies, administrators and
  authority viewers read every journal (control).
- Students and parents never open the journal (they have the diary).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.schools.models import TeachingAssignment


def readable_assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """Journals the user may open (read)."""
    qs = TeachingAssignment.objects.filter(school=ctx.school).select_related(
        "teacher", "school_class", "subgroup", "subject", "year"
    )
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return qs
    if not ctx.is_staff_member:
        return qs.none()
    return qs.filter(
        Q(teacher=ctx.user) | Q(school_class_id__in=ctx.homeroom_class_ids) | Q(lessons__conducted_by=ctx.user)
    ).distinct()


def can_edit_assignment(user: Any, assignment: TeachingAssignment) -> bool:
    """Only the assignment's own teacher edits its journal as a whole (R1.4)."""
    return bool(user.is_authenticated and assignment.teacher_id == user.pk)


def can_edit_lesson(user: Any, lesson: Any) -> bool:
    """The assignment's teacher, or the substitute who conducted this lesson (R2.9)."""
    if not user.is_authenticated:
        return False
    return lesson.assignment.teacher_id == user.pk or (
        lesson.conducted_by_id is not None and lesson.conducted_by_id == user.pk
    )


def can_remark(ctx: SchoolContext) -> bool:
    """Directors and deputies (and administrators) leave control remarks (R6.10); viewers only read."""
    return ctx.has(Perm.VIEW_ALL_JOURNALS) and not ctx.is_read_only
