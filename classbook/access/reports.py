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

from classbook.access.context import SchoolContext, current_memberships
from classbook.access.rules import Perm
from classbook.access.scopes import own_entries_of_members
from classbook.core.models import AuditEntry
from classbook.people.models import Membership, Role
from classbook.schools.models import ClassKind, SchoolClass, Subject, TeachingAssignment


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


# --- Journal filling and control (R6.3, R6.9-R6.11): ``reports.filling`` -------------------------------------
# The filling report reads ``report_assignments``: a teacher their own journals, a class teacher every journal
# of their class too, the administration and authority viewers the school.


def may_read_user_activity(ctx: SchoolContext) -> bool:
    """Who logged in and what they entered (R6.3) is personal data: the director and deputies only."""
    return bool(ctx.roles & {Role.DIRECTOR, Role.DEPUTY})


def may_change_quality_formula(ctx: SchoolContext) -> bool:
    """The weights of the journal-keeping quality indicator (R6.11) are set by the director and deputies."""
    return may_read_user_activity(ctx) and not ctx.is_read_only


def activity_logins(ctx: SchoolContext) -> QuerySet[AuditEntry]:
    """The account entries (logins) the user activity report counts: the school's members' own, for its readers."""
    qs = own_entries_of_members(ctx.school)
    return qs if may_read_user_activity(ctx) else qs.none()


def activity_members(ctx: SchoolContext) -> QuerySet[Membership]:
    """The school's current roles, to name each active user's roles in the user activity report."""
    qs = current_memberships().filter(school=ctx.school)
    return qs if may_read_user_activity(ctx) else qs.none()


# --- Curriculum statistics, the yearly summary table, a college group's results (R6.4, R6.2) ----------------


def curriculum_assignments(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """The journals whose lessons, plans and control works the user's curriculum statistics and yearly table
    count: the administration's and viewers' the whole school, a teacher's their own subjects (in every class
    they teach), a class teacher's (a college group's curator's) also every subject of their class."""
    return report_assignments(ctx)


def group_result_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """College groups whose results (by discipline) the user reads: the school's for the administration, the
    curator's own group, a teacher's groups where they teach (their own disciplines only, by
    ``curriculum_assignments``). Homeroom classes of a school are not groups: their report is the progress one."""
    return report_classes(ctx).filter(kind=ClassKind.GROUP)


def may_read_usage(ctx: SchoolContext) -> bool:
    """The usage report (R9.2: logins and diary views): the administration and authority viewers for the
    school, a class teacher for their own class; students, parents and teachers without a class never."""
    return reads_whole_school(ctx) or (Role.TEACHER in ctx.roles and bool(ctx.homeroom_class_ids))


def usage_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose usage the user reads: the school's, or the own homeroom (``summary_classes``)."""
    if not may_read_usage(ctx):
        return SchoolClass.objects.none()
    return summary_classes(ctx)


# --- The forecast of period grades (R6.5; docs/reports.md, "Forecast") ------------------------------------


def forecast_journals(ctx: SchoolContext) -> QuerySet[TeachingAssignment]:
    """Journals whose forecast the user reads: a teacher their own journals and every journal of their class,
    the administration and authority viewers the school's (the same as the user's progress reports)."""
    return report_assignments(ctx)


def may_read_forecast_journal(ctx: SchoolContext, assignment: TeachingAssignment) -> bool:
    """One journal's forecast (no query): the school's for the administration, own or homeroom for a teacher."""
    if assignment.school_id != ctx.school.pk:
        return False
    if reads_whole_school(ctx):
        return True
    return Role.TEACHER in ctx.roles and (
        assignment.teacher_id == ctx.user.pk or assignment.school_class_id in ctx.homeroom_class_ids
    )


def forecast_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose whole forecast (students × subjects) the user reads: the class teacher's, the school's."""
    return summary_classes(ctx)


def may_read_risk_list(ctx: SchoolContext) -> bool:
    """The school's "students at risk" list: the administration (deputy, director, administrator) and viewers."""
    return reads_whole_school(ctx)


PARENT_FORECAST_ROLES = frozenset({Role.DIRECTOR, Role.DEPUTY})


def may_switch_parent_forecast(ctx: SchoolContext) -> bool:
    """Whether parents see the forecast is the school's decision: its director or a deputy, not a viewer."""
    return bool(ctx.roles & PARENT_FORECAST_ROLES) and not ctx.is_read_only


def may_switch_parent_forecast_roles(roles: frozenset[str]) -> bool:
    """The same rule for a service that knows the acting user's roles in the school (``journal.school_roles``)."""
    return bool(roles & PARENT_FORECAST_ROLES)


def may_read_child_forecast(ctx: SchoolContext, student_id: int, *, shown_to_parents: bool) -> bool:
    """A parent reads their own child's forecast, and only when the school shows it to parents (default off).

    Not the student (the forecast is a tool for adults), not another child, not an ended or hidden link
    (``ctx.child_student_ids`` holds only links with "may see" that have not ended)."""
    return shown_to_parents and Role.PARENT in ctx.roles and student_id in ctx.child_student_ids


def may_open_child_forecasts(ctx: SchoolContext) -> bool:
    """The door to a child's forecast page: a parent with a visible child (the page then asks
    ``may_read_child_forecast`` for the child and the school's switch, 404 otherwise)."""
    return Role.PARENT in ctx.roles and bool(ctx.child_student_ids)
