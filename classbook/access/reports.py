"""Who may read which reports (R6.1, R6.2, R6.9) and change the school's report settings.

- Directors, deputies and administrators (``VIEW_ALL_JOURNALS``) read the reports of the whole school.
- An education-authority viewer reads the reports of the schools its authority oversees, read-only;
  the reports carry no contact details (``VIEW_CONTACTS`` is not needed for them).
- A teacher reads the figures of their own teaching assignments (their subjects in their classes);
  a class teacher those of every subject of their class, and their class's summary sheet.
- Students, parents and the secretary have no reports (the diary is theirs); another school's people
  never reach the school at all (``resolve_school``).
- The report settings (the definitions of the rates) are changed by those who manage the school's
  settings (``MANAGE_SCHOOL_SETTINGS``), never by a read-only viewer.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.people.models import Role
from classbook.schools.models import SchoolClass, Subject, TeachingAssignment


def reads_whole_school(ctx: SchoolContext) -> bool:
    """The administration and the authority viewer see every class, subject and teacher."""
    return ctx.has(Perm.VIEW_ALL_JOURNALS)


def may_read_reports(ctx: SchoolContext) -> bool:
    """The reports pages and API (and the navigation's link): the administration, viewers and teachers."""
    return reads_whole_school(ctx) or Role.TEACHER in ctx.roles


def may_change_report_settings(ctx: SchoolContext) -> bool:
    """The definitions of the rates are the school's settings: whoever manages them, acting in their role."""
    return ctx.has(Perm.MANAGE_SCHOOL_SETTINGS) and not ctx.is_read_only


def report_assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """The teaching assignments whose grades the user's reports count: the school, or own subjects and class."""
    qs = TeachingAssignment.objects.filter(school=ctx.school)
    if reads_whole_school(ctx):
        return qs
    if Role.TEACHER not in ctx.roles:
        return qs.none()
    return qs.filter(Q(teacher=ctx.user) | Q(school_class_id__in=ctx.homeroom_class_ids))


def report_subjects(ctx: SchoolContext) -> QuerySet[Subject]:
    """Subjects a report may be narrowed to: those of the user's report assignments, by name."""
    return Subject.objects.filter(school=ctx.school, pk__in=report_assignments(ctx).values("subject_id")).order_by(
        "name"
    )


def summary_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose summary sheet (students × subjects) the user reads: the school's, or the own homeroom."""
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year", "year_level")
    if reads_whole_school(ctx):
        return qs
    if Role.TEACHER not in ctx.roles:
        return qs.none()
    return qs.filter(pk__in=ctx.homeroom_class_ids)


def report_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes a progress report may be narrowed to: those of the user's report assignments."""
    return SchoolClass.objects.filter(
        school=ctx.school, pk__in=report_assignments(ctx).values("school_class_id")
    ).select_related("year", "year_level")


def attendance_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose whole attendance the user reads (R6.2): whole days missed need every lesson of the day,
    so the class's summary sheet of attendance, whole days and consecutive absences are the class teacher's
    (own class) and the administration's and viewers' (the school's); a subject teacher reads the lessons of
    their own subjects only (``report_assignments``)."""
    return summary_classes(ctx)


def may_read_usage(ctx: SchoolContext) -> bool:
    """The usage report (R9.2: logins and diary views): the administration and authority viewers for the
    school, a class teacher for their own class; students, parents and teachers without a class never."""
    return reads_whole_school(ctx) or (Role.TEACHER in ctx.roles and bool(ctx.homeroom_class_ids))


def usage_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose usage the user reads: the school's, or the own homeroom (``summary_classes``)."""
    if not may_read_usage(ctx):
        return SchoolClass.objects.none()
    return summary_classes(ctx)
