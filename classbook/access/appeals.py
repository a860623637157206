"""Who sees and answers reports of absence reasons and flagged marks (R2.8, R2.11).

- The class teacher sees the absences of their class and the reports on its students, and decides them.
- Directors, deputies and administrators see every class's absences, reports and flags (read only).
- A parent reports and follows reports only for a child linked to them with "may see" and not ended;
  the student sees the reports about themselves.
- Marks are flagged by the student they belong to or such a parent; the teacher of the journal (or the
  substitute who gave the lesson) answers; the class teacher of the class reads the flags.
- Authority viewers, secretaries and everyone else see nothing here.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.appeals.models import AbsenceReport, MarkFlag
from classbook.journal.models import Attendance, Mark
from classbook.people.models import Enrolment, Role, Student
from classbook.schools.models import SchoolClass

# The administration of the school reads every class's absences, reports and flags.
SUPERVISOR_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})


def is_supervisor(ctx: SchoolContext) -> bool:
    return bool(ctx.roles & SUPERVISOR_ROLES)


def may_write_appeals(ctx: SchoolContext) -> bool:
    """Reporting, deciding, flagging, answering and recording reasons: never a read-only viewer (page and API)."""
    return not ctx.is_read_only


def may_open_absences(ctx: SchoolContext) -> bool:
    """A class's absences and their reasons (R2.8), page and API: the administration and class teachers."""
    return is_supervisor(ctx) or bool(ctx.homeroom_class_ids)


def may_open_class_absences(ctx: SchoolContext, class_id: int) -> bool:
    """The absences page of one class (links from the class page and the student card): ``absence_classes``."""
    return is_supervisor(ctx) or class_id in ctx.homeroom_class_ids


def may_record_reasons(ctx: SchoolContext, school_class: SchoolClass) -> bool:
    """Reasons of absence are recorded by the class's class teacher (R2.8); the service checks the dates again."""
    return may_write_appeals(ctx) and school_class.pk in ctx.homeroom_class_ids


def may_report_absences(ctx: SchoolContext) -> bool:
    """A parent reports the reason of an absence of a child they may see (current link, "may see")."""
    return may_write_appeals(ctx) and bool(ctx.child_student_ids)


def may_open_reports(ctx: SchoolContext) -> bool:
    """The reports of absence reasons (R2.11), page and API: a parent who may report, the student reported on,
    class teachers (they decide) and the administration (they read)."""
    return (
        may_report_absences(ctx) or bool(ctx.homeroom_class_ids) or is_supervisor(ctx) or ctx.own_student_id is not None
    )


def may_open_flags(ctx: SchoolContext) -> bool:
    """Flagged marks (R2.11), page and API: students and parents (theirs), teachers (to answer), the administration."""
    return bool(family_student_ids(ctx)) or Role.TEACHER in ctx.roles or is_supervisor(ctx)


def may_flag_marks(ctx: SchoolContext) -> bool:
    """A student flags their own marks, a parent those of a child they may see."""
    return may_write_appeals(ctx) and bool(family_student_ids(ctx))


def family_student_ids(ctx: SchoolContext) -> set[int]:
    """The student themselves and the children a parent may see (current links with "may see")."""
    ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        ids.add(ctx.own_student_id)
    return ids


def absence_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes whose absences page the user may open: the administration all, a class teacher theirs."""
    qs = SchoolClass.objects.filter(school=ctx.school).select_related("year", "class_teacher")
    if is_supervisor(ctx):
        return qs
    return qs.filter(pk__in=ctx.homeroom_class_ids)


def class_absences(ctx: SchoolContext, school_class: SchoolClass, start: dt.date, end: dt.date) -> QuerySet[Attendance]:
    """Missed lessons of a class's lessons between two days, of students enrolled in the class then."""
    if not absence_classes(ctx).filter(pk=school_class.pk).exists():
        return Attendance.objects.none()
    # EXISTS rather than a join: no duplicate rows, so no DISTINCT over the wide select.
    enrolled = Enrolment.objects.filter(
        Q(end__isnull=True) | Q(end__gte=start),
        student_id=OuterRef("student_id"),
        school_class=school_class,
        start__lte=end,
    )
    return Attendance.objects.filter(
        Exists(enrolled),
        school=ctx.school,
        lesson__assignment__school_class=school_class,
        lesson__date__range=(start, end),
        code__counts_as_absent=True,
    ).select_related("code", "lesson__assignment__subject", "student__user", "reason_recorded_by")


def reportable_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Children whose absences the user may report: a parent's visible, current children only."""
    return Student.objects.filter(school=ctx.school, pk__in=ctx.child_student_ids).select_related("user")


def absence_reports(ctx: SchoolContext) -> QuerySet[AbsenceReport]:
    """Reports the user may read: the administration all; a class teacher those on students of their
    class; parents (with "may see") and the student those about the child."""
    qs = AbsenceReport.objects.filter(school=ctx.school).select_related("student__user", "reported_by", "decided_by")
    if is_supervisor(ctx):
        return qs
    cond = Q(pk__in=[])
    family = family_student_ids(ctx)
    if family:
        cond |= Q(student_id__in=family)
    if ctx.homeroom_class_ids:
        cond |= _homeroom_report(ctx)
    return qs.filter(cond).distinct()


def _homeroom_report(ctx: SchoolContext) -> Q:
    """Reports on a student enrolled in one of the user's classes during some day of the report."""
    return Q(
        student__enrolments__school_class_id__in=ctx.homeroom_class_ids,
        student__enrolments__start__lte=F("end"),
    ) & (Q(student__enrolments__end__isnull=True) | Q(student__enrolments__end__gte=F("start")))


def decidable_reports(ctx: SchoolContext) -> QuerySet[AbsenceReport]:
    """Reports the user decides as the class teacher of the child (R2.11)."""
    if not ctx.homeroom_class_ids:
        return AbsenceReport.objects.none()
    return AbsenceReport.objects.filter(_homeroom_report(ctx), school=ctx.school).distinct()


def flaggable_marks(ctx: SchoolContext) -> QuerySet[Mark]:
    """Marks the user may flag: their own (a student) or their visible children's; never cleared ones."""
    family = family_student_ids(ctx)
    return Mark.objects.filter(school=ctx.school, student_id__in=family, value__isnull=False).select_related(
        "value", "work_type", "lesson__assignment__subject", "lesson__assignment__teacher", "student__user"
    )


def mark_flags(ctx: SchoolContext) -> QuerySet[MarkFlag]:
    """Flags the user may read: the administration all; the journal's teacher and the substitute of the
    lesson; the class teacher of the class; the student and their parents with "may see"."""
    qs = MarkFlag.objects.filter(school=ctx.school).select_related(
        "mark__value",
        "mark__work_type",
        "mark__lesson",
        "assignment__subject",
        "assignment__school_class",
        "assignment__teacher",
        "student__user",
        "flagged_by",
        "answered_by",
    )
    if is_supervisor(ctx):
        return qs
    cond = Q(pk__in=[])
    family = family_student_ids(ctx)
    if family:
        cond |= Q(student_id__in=family)
    if Role.TEACHER in ctx.roles:
        cond |= Q(assignment__teacher=ctx.user) | Q(mark__lesson__conducted_by=ctx.user)
        if ctx.homeroom_class_ids:
            cond |= Q(assignment__school_class_id__in=ctx.homeroom_class_ids)
    return qs.filter(cond)
