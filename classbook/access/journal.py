"""Who may read and write which journal (R1.4, R2.7, R2.8, R2.9, R6.10).

- The teacher of a teaching assignment edits its journal; a substitute edits the lessons they conducted.
- The class teacher reads every subject of their class and records reasons of absence (R2.8).
- Directors, deputies, administrators and authority viewers read every journal (control);
  directors, deputies and administrators leave remarks, viewers only read (R6.10).
- Period grades are corrected only by the roles the school's journal rules name (R2.7).
- Students and parents never open the journal (they have the diary).
- The director and the administrators import marks from another system's gradebook (OneRoster, issue 13):
  while an import runs (``journal.services.imported_by``) they write the journals of their school through
  the same services, every change recorded under their own name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.core.collation import name_order
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    HomeworkAttachment,
    JournalChange,
    Lesson,
    PeriodGrade,
    Remark,
    WorkType,
)
from classbook.people.models import Membership, Role, Student, User
from classbook.schools.models import SchoolClass, TeachingAssignment

# Control of journal keeping (R6.10): the administration leaves remarks; authority viewers only read.
REMARK_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})


def readable_values(ctx: SchoolContext) -> dict[str, int] | None:
    """The values of ``readable_in`` for the user (None: no journal at all, the query need not run).

    Control (R6.10) reads every journal of the school: ``{"school"}`` alone. Another staff member reads their
    own journals (``teacher``), every subject of their homeroom classes (``class_teacher``: the user when the
    context gives them a homeroom class, which it does for the teacher's role only, else 0) and the journals
    where they conducted a lesson as a substitute (R2.9). Students, parents and strangers read none.
    """
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return {"school": ctx.school.pk}
    if not ctx.is_staff_member:
        return None
    return {
        "school": ctx.school.pk,
        "teacher": ctx.user.pk,
        "class_teacher": ctx.user.pk if ctx.homeroom_class_ids else 0,
    }


def readable_in(school: Any, teacher: Any = None, class_teacher: Any = None) -> QuerySet[TeachingAssignment]:
    """The journals ``readable_values`` allows, as a filter of one fixed shape per kind of reader (control, or
    a staff member), so that a page may compile it once (``journal.queries.journal_index``).

    The substitute's journals as ``EXISTS`` rather than a join: a join repeats the journal per lesson conducted
    and needed a ``DISTINCT`` over the joined rows, which PostgreSQL spent more time planning than running.
    The homeroom arm asks the journal's class row what ``build_context`` asks for ``homeroom_class_ids`` (the
    school's classes whose class teacher is the user), so that no list of ids has to be bound.
    """
    qs = TeachingAssignment.objects.filter(school_id=school)
    if teacher is None:
        return qs
    conducted = Lesson.objects.filter(assignment_id=OuterRef("pk"), conducted_by_id=teacher)
    return qs.filter(Q(teacher_id=teacher) | Q(school_class__class_teacher_id=class_teacher) | Exists(conducted))


def readable_assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """Journals the user may open (read): ``readable_in`` with the user's ``readable_values``."""
    values = readable_values(ctx)
    if values is None:
        return TeachingAssignment.objects.none()
    return readable_in(**values).select_related("teacher", "school_class", "subgroup", "subject", "year")


def may_read_assignment(ctx: SchoolContext, assignment: TeachingAssignment) -> bool:
    """The rule of ``readable_assignments`` for one row already fetched (of ``ctx.school``).

    Decided from the row and the context for everyone but a substitute teacher, who needs one query
    (a lesson of that journal they conducted); the grid then spends no subquery on the common case.
    """
    if assignment.school_id != ctx.school.pk:
        return False
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return True
    if not ctx.is_staff_member:
        return False
    if assignment.teacher_id == ctx.user.pk or assignment.school_class_id in ctx.homeroom_class_ids:
        return True
    return Lesson.objects.filter(assignment_id=assignment.pk, conducted_by=ctx.user).exists()


def _readable_ids(ctx: SchoolContext) -> QuerySet[TeachingAssignment, Any]:  # rows {"pk": id}, for a subquery
    return readable_assignments(ctx).order_by().values("pk")


def lessons(ctx: SchoolContext) -> QuerySet[Lesson]:
    """Lessons of the journals the user may open."""
    qs = Lesson.objects.filter(school=ctx.school).select_related("assignment", "school")
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return qs
    return qs.filter(assignment__in=_readable_ids(ctx))


def offline_lessons(ctx: SchoolContext) -> QuerySet[Lesson]:
    """Lessons a teacher may write offline and sync (issue 17): of their own journals, or that they conducted as
    a substitute, in this school; none for a read-only viewer. Never another teacher's journal."""
    if ctx.is_read_only or not ctx.user.is_authenticated:
        return Lesson.objects.none()
    own = Q(assignment__teacher_id=ctx.user.pk) | Q(conducted_by_id=ctx.user.pk)
    return Lesson.objects.filter(own, school=ctx.school).select_related("assignment", "school")


def may_keep_journal_offline(ctx: SchoolContext, assignment: TeachingAssignment) -> bool:
    """The grid page may be kept on the device for offline work only for the teacher's own journal (issue 17)."""
    return not ctx.is_read_only and can_edit_assignment(ctx.user, assignment)


def attendance(ctx: SchoolContext) -> QuerySet[Attendance]:
    qs = Attendance.objects.filter(school=ctx.school).select_related("code", "lesson__assignment", "student")
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return qs
    return qs.filter(lesson__assignment__in=_readable_ids(ctx))


def period_grades(ctx: SchoolContext) -> QuerySet[PeriodGrade]:
    qs = PeriodGrade.objects.filter(school=ctx.school).select_related("value", "assignment", "student", "period")
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return qs
    return qs.filter(assignment__in=_readable_ids(ctx))


def journal_students(ctx: SchoolContext, assignment: TeachingAssignment) -> QuerySet[Student]:
    """Students who are or were in the class of a journal the user may open (the service checks dates)."""
    return Student.objects.filter(school=ctx.school, enrolments__school_class_id=assignment.school_class_id).distinct()


def work_types(ctx: SchoolContext) -> QuerySet[WorkType]:
    """The school's work types: anybody who opens a journal reads them."""
    return WorkType.objects.filter(school=ctx.school)


def attendance_codes(ctx: SchoolContext) -> QuerySet[AttendanceCode]:
    """The school's attendance codes: anybody who opens a journal or the administration area reads them."""
    return AttendanceCode.objects.filter(school=ctx.school)


def remarks(ctx: SchoolContext) -> QuerySet[Remark]:
    """Control remarks on the journals the user may open."""
    qs = Remark.objects.filter(school=ctx.school).select_related(
        "assignment__teacher",
        "assignment__school_class",
        "assignment__subject",
        "assignment__subgroup",
        "lesson",
        "student__user",
        "author",
        "fixed_by",
    )
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return qs
    return qs.filter(assignment__in=_readable_ids(ctx))


def journal_changes(ctx: SchoolContext) -> QuerySet[JournalChange]:
    """The journal's audit trail for the journals the user may open (per cell and, for control, as a log)."""
    qs = JournalChange.objects.filter(school=ctx.school).select_related(
        "actor",
        "assignment__subject",
        "assignment__school_class",
        "assignment__subgroup",
        "assignment__teacher",
        "lesson",
        "student__user",
        "period",
    )
    if ctx.has(Perm.VIEW_ALL_JOURNALS):
        return qs
    return qs.filter(assignment__in=_readable_ids(ctx))


def may_open_journals(ctx: SchoolContext) -> bool:
    """The journal pages and API: staff and control roles; students and parents have the diary (R1.3, R1.4)."""
    return ctx.is_staff_member or ctx.has(Perm.VIEW_ALL_JOURNALS)


def may_control_journals(ctx: SchoolContext) -> bool:
    """Control of every journal (R6.10): the remarks log, the changes log, the control label of a journal."""
    return ctx.has(Perm.VIEW_ALL_JOURNALS)


def may_open_own_remarks(ctx: SchoolContext) -> bool:
    """ "My remarks": the control remarks on one's own journals, to mark fixed; teachers (who keep journals)."""
    return Role.TEACHER in ctx.roles


def may_edit_journal(ctx: SchoolContext, assignment: TeachingAssignment) -> bool:
    """The assignment's own teacher, acting in their role (never a read-only viewer): the journal as a whole."""
    return not ctx.is_read_only and can_edit_assignment(ctx.user, assignment)


def may_edit_lesson(ctx: SchoolContext, lesson: Lesson) -> bool:
    """The assignment's teacher or the lesson's substitute (R2.9), never a read-only viewer."""
    return not ctx.is_read_only and can_edit_lesson(ctx.user, lesson)


def may_edit_lesson_row(ctx: SchoolContext, teacher_id: int, conducted_by_id: int | None) -> bool:
    """``may_edit_lesson`` on the ids a read model already selected (the grid's lesson rows)."""
    return not ctx.is_read_only and can_edit_lesson_of(ctx.user, teacher_id, conducted_by_id)


def may_correct_with(ctx: SchoolContext, correction_roles: Iterable[str]) -> bool:
    """Holds one of the roles the school's journal policy lets correct period grades (R2.7), not read-only.

    The service checks again (``may_correct_grades``); this is the page's and the API's gate.
    """
    return not ctx.is_read_only and bool(ctx.roles & frozenset(correction_roles))


def can_edit_assignment(user: User | AnonymousUser, assignment: TeachingAssignment) -> bool:
    """Only the assignment's own teacher edits its journal as a whole (R1.4)."""
    return bool(user.is_authenticated and assignment.teacher_id == user.pk)


def can_edit_lesson(user: User | AnonymousUser, lesson: Lesson) -> bool:
    """The assignment's teacher, or the substitute who conducted this lesson (R2.9)."""
    return can_edit_lesson_of(user, lesson.assignment.teacher_id, lesson.conducted_by_id)


def can_edit_lesson_of(user: User | AnonymousUser, teacher_id: int, conducted_by_id: int | None) -> bool:
    """``can_edit_lesson`` on ids, for a service that read them in its own query."""
    if not user.is_authenticated:
        return False
    return teacher_id == user.pk or (conducted_by_id is not None and conducted_by_id == user.pk)


# Who imports a gradebook into the school's journals (issue 13): the administration that runs the school's
# data exchange (access/oneroster.py ``may_exchange_oneroster``), not deputies or teachers.
JOURNAL_IMPORT_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})


def may_import_journal(user: User | AnonymousUser, school_id: int) -> bool:
    """Whether ``user`` may import marks into every journal of the school (a OneRoster gradebook)."""
    return bool(school_roles(user, school_id) & JOURNAL_IMPORT_ROLES)


def can_remark(ctx: SchoolContext) -> bool:
    """Directors, deputies and administrators leave control remarks (R6.10); viewers and teachers do not."""
    return not ctx.is_read_only and bool(ctx.roles & REMARK_ROLES)


def school_roles(user: User | AnonymousUser, school_id: int) -> frozenset[str]:
    """The user's active roles in a school (for services, which get a user rather than a context)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return frozenset(
        Membership.objects.filter(school_id=school_id, user=user, is_active=True)
        .exclude(until__lt=timezone.localdate())
        .values_list("role", flat=True)
    )


def may_remark(user: User | AnonymousUser, school_id: int) -> bool:
    return bool(school_roles(user, school_id) & REMARK_ROLES)


def may_correct_grades(user: User | AnonymousUser, school_id: int, roles: Iterable[str]) -> bool:
    """Whether the user holds one of the roles the school lets correct period grades (R2.7)."""
    return bool(school_roles(user, school_id) & frozenset(roles))


def is_class_teacher_of(user: User | AnonymousUser, school_class: SchoolClass) -> bool:
    """The class teacher (homeroom) of the class; records reasons of absence (R2.8)."""
    return bool(getattr(user, "is_authenticated", False) and school_class.class_teacher_id == user.pk)


def teachers_with_journals(ctx: SchoolContext) -> QuerySet[User]:
    """Teachers of the journals the user may open (for filters on control pages)."""
    return User.objects.filter(teaching_assignments__in=_readable_ids(ctx)).distinct().order_by(*name_order())


def homework_files(ctx: SchoolContext) -> QuerySet[HomeworkAttachment]:
    """Homework files the user may download: journal readers, and the students of the lesson's class
    (or subgroup) and their parents with "may see" (R1.3, R5.7). Removed files are hidden."""
    qs = HomeworkAttachment.objects.filter(school=ctx.school, removed_at__isnull=True).select_related(
        "lesson__assignment"
    )
    family = set(ctx.child_student_ids) | ({ctx.own_student_id} if ctx.own_student_id else set())
    cond = Q(lesson__assignment__in=readable_assignments(ctx))
    if family:
        in_class = Q(
            lesson__assignment__school_class__enrolments__student_id__in=family,
            lesson__assignment__school_class__enrolments__end__isnull=True,
        )
        cond |= in_class & (
            Q(lesson__assignment__subgroup__isnull=True) | Q(lesson__assignment__subgroup__students__in=family)
        )
    return qs.filter(cond).distinct()
