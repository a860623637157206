"""Who makes, answers and reads surveys (R9.3).

- The school's administration (administrator, director, deputy) creates, publishes and closes surveys
  and reads their results; an authority viewer only reads what is theirs elsewhere, never surveys.
- A person answers a published survey between its days when one of their roles is in its audience:
  administration (administrator, director, deputy, secretary), teachers (of the survey's classes, if it
  names classes), students (of those classes), parents (of a child in those classes, link with "may see").
- Nobody reads another person's answers: respondents see only the form; results are counts.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from classbook.access.context import SchoolContext
from classbook.people.models import Enrolment, Role, current_enrolment_q
from classbook.surveys.models import Audience, Participation, Question, Survey, SurveyStatus

# Create, publish, close and read results.
MANAGER_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})
# The "administration" audience: the managers and the secretary.
ADMINISTRATION_ROLES = MANAGER_ROLES | {Role.SECRETARY}


def may_manage_surveys(ctx: SchoolContext) -> bool:
    """Create, edit drafts, publish and close surveys: the administration, never a read-only viewer."""
    return bool(ctx.roles & MANAGER_ROLES) and not ctx.is_read_only


def may_read_results(ctx: SchoolContext) -> bool:
    """The results (counts, charts, exports) of the school's surveys: its administration."""
    return bool(ctx.roles & MANAGER_ROLES)


def may_open_surveys(ctx: SchoolContext) -> bool:
    """The surveys page and its link: everyone with a role in the school (they may be asked) and managers."""
    return bool(ctx.roles)


def audience_class_ids(ctx: SchoolContext) -> dict[str, frozenset[int]]:
    """Per audience group the person belongs to, the classes that tie them to it (empty for administration).

    One query for students and parents (their current classes); none for staff."""
    groups: dict[str, frozenset[int]] = {}
    if ctx.roles & ADMINISTRATION_ROLES:
        groups[Audience.ADMINISTRATION] = frozenset()
    if Role.TEACHER in ctx.roles:
        groups[Audience.TEACHERS] = ctx.homeroom_class_ids | ctx.taught_class_ids
    family = set(ctx.child_student_ids)
    if ctx.own_student_id:
        family.add(ctx.own_student_id)
    if family:
        rows = Enrolment.objects.filter(
            current_enrolment_q(ctx.school.pk), student_id__in=family, school_class__school=ctx.school
        ).values_list("student_id", "school_class_id")
        own: set[int] = set()
        children: set[int] = set()
        for student_id, class_id in rows:
            (own if student_id == ctx.own_student_id else children).add(class_id)
        if ctx.own_student_id:
            groups[Audience.STUDENTS] = frozenset(own)
        if ctx.child_student_ids:
            groups[Audience.PARENTS] = frozenset(children)
    return groups


_FLAG: dict[str, str] = {
    Audience.ADMINISTRATION: "for_administration",
    Audience.TEACHERS: "for_teachers",
    Audience.STUDENTS: "for_students",
    Audience.PARENTS: "for_parents",
}


def _audience_q(groups: dict[str, frozenset[int]]) -> Q:
    through = Survey.classes.through
    no_classes = ~Exists(through.objects.filter(survey_id=OuterRef("pk")))
    cond = Q(pk__in=[])
    for group, class_ids in groups.items():
        if group == Audience.ADMINISTRATION:
            cond |= Q(for_administration=True)
            continue
        in_classes = Exists(through.objects.filter(survey_id=OuterRef("pk"), schoolclass_id__in=class_ids))
        cond |= Q(**{_FLAG[group]: True}) & (Q(no_classes) | Q(in_classes))
    return cond


def open_surveys(ctx: SchoolContext, today: dt.date | None = None) -> QuerySet[Survey]:
    """Published surveys of the school open today whose audience includes the person."""
    if ctx.is_read_only:
        return Survey.objects.none()
    today = today or timezone.localdate()
    return Survey.objects.filter(
        _audience_q(audience_class_ids(ctx)),
        school=ctx.school,
        status=SurveyStatus.PUBLISHED,
        opens_on__lte=today,
        closes_on__gte=today,
    )


def respondent_place(ctx: SchoolContext, survey: Survey, survey_class_ids: set[int]) -> tuple[str, int | None] | None:
    """The audience group the person answers as and their class (when exactly one fits), or None when the
    survey does not ask them. ``survey_class_ids``: the survey's classes (empty: every class)."""
    for group, class_ids in audience_class_ids(ctx).items():
        if not getattr(survey, _FLAG[group]):
            continue
        if group == Audience.ADMINISTRATION:
            return group, None
        fitting = class_ids & survey_class_ids if survey_class_ids else class_ids
        if survey_class_ids and not fitting:
            continue
        own = fitting if group != Audience.TEACHERS else frozenset()
        return group, next(iter(own)) if len(own) == 1 else None
    return None


def may_answer(ctx: SchoolContext, survey: Survey, today: dt.date | None = None) -> bool:
    """A published survey of the school, open today, whose audience includes the person."""
    return open_surveys(ctx, today).filter(pk=survey.pk).exists()


def managed_surveys(ctx: SchoolContext) -> QuerySet[Survey]:
    """Every survey of the school, for its administration; nothing for anyone else."""
    if not may_read_results(ctx):
        return Survey.objects.none()
    return Survey.objects.filter(school=ctx.school).select_related("created_by")


def managed_questions(ctx: SchoolContext) -> QuerySet[Question]:
    """Questions of the school's surveys, for its administration."""
    if not may_manage_surveys(ctx):
        return Question.objects.none()
    return Question.objects.filter(school=ctx.school).select_related("survey")


def waiting_surveys(ctx: SchoolContext) -> QuerySet[Survey]:
    """Open surveys the person has not answered yet (the home page's card): one query, plus one for a family."""
    answered = Participation.objects.filter(survey_id=OuterRef("pk"), user_id=ctx.user.pk)
    return open_surveys(ctx).exclude(Exists(answered)).order_by("closes_on", "pk")
