"""Who may see and change the timetable (R4.1, R4.2, R1.3).

- Administrators, directors and deputies (``MANAGE_TIMETABLE``) change bells, the timetable and record
  substitutions; every staff member and authority viewer reads the school's timetable.
- A teacher sees the school's timetable and the changes that concern them (their lessons, their substitutions).
- A student sees only their own timetable; a parent only that of their linked children with "may see".
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.core.collation import name_order
from classbook.journal.models import Lesson
from classbook.people.models import Role, Student, User
from classbook.schools.models import Room, SchoolClass, TeachingAssignment
from classbook.timetable.models import BellSchedule, LessonChange, TimetableEntry


def can_manage(ctx: SchoolContext) -> bool:
    """Bells, timetable entries, lesson generation and lesson changes (R4.1, R4.2); never a read-only viewer."""
    return ctx.has(Perm.MANAGE_TIMETABLE) and not ctx.is_read_only


may_manage_timetable = can_manage  # the name the pages, the API and the navigation use


def may_open_lesson_changes(ctx: SchoolContext) -> bool:
    """The journal of missed and substituted lessons (R4.2), page and API: staff only.

    An authority viewer without a role of their own does not open it (docs/timetable.md); until issue 10
    the API let them read it while the page answered 403.
    """
    return ctx.is_staff_member


def reads_all_lesson_changes(ctx: SchoolContext) -> bool:
    """Every teacher's changes (and the per-teacher filter): those who manage the timetable or control journals."""
    return ctx.has(Perm.MANAGE_TIMETABLE) or ctx.has(Perm.VIEW_ALL_JOURNALS)


def may_see_changes_of(ctx: SchoolContext, teacher_id: int) -> bool:
    """Filtering the changes by a teacher: any teacher for those who read all; a teacher only themselves."""
    return reads_all_lesson_changes(ctx) or teacher_id == ctx.user.pk


def reads_own_teaching(ctx: SchoolContext) -> bool:
    """A teacher's own timetable shows their lessons and substitutions (not only a class's)."""
    return Role.TEACHER in ctx.roles


def reads_whole_school(ctx: SchoolContext) -> bool:
    """Staff and authority viewers read every class's, teacher's and room's timetable."""
    return ctx.has(Perm.VIEW_SCHOOL_DIRECTORY)


def bell_schedules(ctx: SchoolContext) -> QuerySet[BellSchedule]:
    """Bells are reference data: every member of the school reads them."""
    return BellSchedule.objects.filter(school=ctx.school).prefetch_related("bells", "classes")


def timetable_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students whose own timetable the user may open: staff all; a student themselves; a parent their children."""
    qs = Student.objects.filter(school=ctx.school).select_related("user")
    if reads_whole_school(ctx):
        return qs
    ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        ids.add(ctx.own_student_id)
    return qs.filter(pk__in=ids)


def timetable_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose whole timetable the user may open (staff and viewers only; families use their own)."""
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year")
    return qs if reads_whole_school(ctx) else qs.none()


def timetable_teachers(ctx: SchoolContext) -> QuerySet[User]:
    """Teachers whose timetable the user may open: any teacher of the school for staff; nobody for families."""
    if not reads_whole_school(ctx):
        return User.objects.none()
    return User.objects.filter(teaching_assignments__school=ctx.school).distinct()


def timetable_rooms(ctx: SchoolContext) -> QuerySet[Room]:
    qs = Room.objects.filter(school=ctx.school)
    return qs if reads_whole_school(ctx) else qs.none()


def editable_entries(ctx: SchoolContext) -> QuerySet[TimetableEntry]:
    qs = TimetableEntry.objects.filter(school=ctx.school)
    return qs if can_manage(ctx) else qs.none()


def editable_assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    qs = TeachingAssignment.objects.filter(school=ctx.school).select_related(
        "teacher", "school_class", "subgroup", "subject", "year"
    )
    return qs if can_manage(ctx) else qs.none()


def entries(ctx: SchoolContext) -> QuerySet[TimetableEntry]:
    """Timetable entries the user may read: staff all; families those of their students' classes and subgroups."""
    qs = TimetableEntry.objects.filter(school=ctx.school).select_related(
        "assignment__teacher", "assignment__subject", "assignment__school_class", "assignment__subgroup", "room"
    )
    if reads_whole_school(ctx):
        return qs
    return qs.filter(student_entry_filter(list(timetable_students(ctx).values_list("pk", flat=True)))).distinct()


def student_entry_filter(student_ids: list[int]) -> Q:
    """Entries of the students' classes: whole-class lessons and the lessons of the subgroups they are in."""
    in_class = Q(
        assignment__school_class__enrolments__student_id__in=student_ids,
        assignment__school_class__enrolments__end__isnull=True,
    )
    return in_class & (Q(assignment__subgroup__isnull=True) | Q(assignment__subgroup__students__in=student_ids))


def lessons(ctx: SchoolContext) -> QuerySet[Lesson]:
    """Dated lessons the user may see in a timetable (not their journal contents)."""
    qs = Lesson.objects.filter(school=ctx.school)
    if reads_whole_school(ctx):
        return qs
    ids = list(timetable_students(ctx).values_list("pk", flat=True))
    return (
        qs.filter(
            assignment__school_class__enrolments__student_id__in=ids,
            assignment__school_class__enrolments__end__isnull=True,
        )
        .filter(Q(assignment__subgroup__isnull=True) | Q(assignment__subgroup__students__in=ids))
        .distinct()
    )


def substitute_candidates(ctx: SchoolContext) -> QuerySet[User]:
    """Teachers of the school who may be named as a substitute."""
    if not can_manage(ctx):
        return User.objects.none()
    return (
        User.objects.filter(memberships__school=ctx.school, memberships__role="teacher", memberships__is_active=True)
        .distinct()
        .order_by(*name_order())
    )


def lesson_changes(ctx: SchoolContext) -> QuerySet[LessonChange]:
    """The journal of missed and substituted lessons (R4.2): the administration all; a teacher those
    concerning them; families those of their students' lessons."""
    qs = LessonChange.objects.filter(school=ctx.school).select_related(
        "teacher",
        "substitute",
        "lesson__assignment__subject",
        "lesson__assignment__school_class",
        "lesson__assignment__subgroup",
    )
    if reads_all_lesson_changes(ctx):
        return qs
    if ctx.is_staff_member:
        return qs.filter(Q(teacher=ctx.user) | Q(substitute=ctx.user))
    return qs.filter(lesson__in=lessons(ctx))
