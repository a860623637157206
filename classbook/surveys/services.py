"""Every change of a survey and every answer (R9.3): transactional, audited, refusing bad input with a
translated ``DomainError`` and changing nothing then.

Audit: ``surveys.survey.created|updated|deleted|published|closed``, ``surveys.question.added|deleted|moved``
with the survey as the object; ``surveys.response.submitted`` with the survey as the object and, for an
anonymous survey, no data at all (not the answers, not the response's key), so the log says only who
answered, as the participation table does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access import surveys as access
from classbook.access.context import SchoolContext
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.text import clean_text
from classbook.schools.models import School, SchoolClass
from classbook.surveys.models import (
    Answer,
    Audience,
    Choice,
    Participation,
    Question,
    QuestionKind,
    Response,
    Survey,
    SurveyStatus,
)

MAX_QUESTIONS = 50
MAX_CHOICES = 20
MAX_TEXT = 2000
MAX_DAYS = 120  # a survey is open at most about a term

AnswerValue = list[int] | int | str | None


def _check_days(opens_on: dt.date, closes_on: dt.date) -> None:
    if closes_on < opens_on:
        raise DomainError(_("The last day is before the first day."), code="invalid_range", field="closes_on")
    if (closes_on - opens_on).days > MAX_DAYS:
        raise DomainError(
            _("A survey is open at most %(days)s days.") % {"days": MAX_DAYS}, code="range_too_long", field="closes_on"
        )


def _check_audience(audiences: Iterable[str]) -> set[str]:
    chosen = set(audiences)
    if not chosen or not chosen <= set(Audience.values):
        raise DomainError(_("Choose who is asked."), code="no_audience", field="audiences")
    return chosen


def _check_classes(school: School, classes: Sequence[SchoolClass]) -> None:
    if any(c.school_id != school.pk for c in classes):
        raise DomainError(_("Choose classes of this school."), code="invalid_class", field="classes")


def _draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise ConflictError(_("A published survey cannot be changed; its questions are frozen."), code="not_draft")


def _locked(survey: Survey) -> Survey:
    return Survey.objects.select_for_update().get(pk=survey.pk)


@transaction.atomic
def create_survey(
    *,
    acting_user: Any,
    school: School,
    title: str,
    description: str = "",
    opens_on: dt.date,
    closes_on: dt.date,
    anonymous: bool,
    audiences: Iterable[str],
    classes: Sequence[SchoolClass] = (),
) -> Survey:
    """A new survey in draft (R9.3); questions are added before it is published."""
    title = clean_text(title, field="title", limit=200)
    description = clean_text(description, field="description", limit=MAX_TEXT, required=False)
    _check_days(opens_on, closes_on)
    chosen = _check_audience(audiences)
    _check_classes(school, classes)
    survey = Survey.objects.create(
        school=school,
        title=title,
        description=description,
        opens_on=opens_on,
        closes_on=closes_on,
        anonymous=anonymous,
        created_by=acting_user,
        **{f"for_{a}": True for a in chosen},
    )
    survey.classes.set(classes)
    log_action("surveys.survey.created", actor=acting_user, school=school, obj=survey, data=_summary(survey, classes))
    return survey


def _summary(survey: Survey, classes: Sequence[SchoolClass]) -> dict[str, Any]:
    return {
        "title": survey.title,
        "opens_on": survey.opens_on.isoformat(),
        "closes_on": survey.closes_on.isoformat(),
        "anonymous": survey.anonymous,
        "audiences": survey.audiences,
        "classes": sorted(c.pk for c in classes),
    }


@transaction.atomic
def update_survey(
    *,
    acting_user: Any,
    survey: Survey,
    title: str,
    description: str,
    opens_on: dt.date,
    closes_on: dt.date,
    anonymous: bool,
    audiences: Iterable[str],
    classes: Sequence[SchoolClass] = (),
) -> Survey:
    """Change a draft's details (a published survey is frozen)."""
    survey = _locked(survey)
    _draft(survey)
    old = _summary(survey, list(survey.classes.all()))
    survey.title = clean_text(title, field="title", limit=200)
    survey.description = clean_text(description, field="description", limit=MAX_TEXT, required=False)
    _check_days(opens_on, closes_on)
    chosen = _check_audience(audiences)
    _check_classes(survey.school, classes)
    survey.opens_on, survey.closes_on, survey.anonymous = opens_on, closes_on, anonymous
    for a in Audience.values:
        setattr(survey, f"for_{a}", a in chosen)
    survey.save()
    survey.classes.set(classes)
    log_action(
        "surveys.survey.updated",
        actor=acting_user,
        school=survey.school,
        obj=survey,
        data={"old": old, "new": _summary(survey, classes)},
    )
    return survey


@transaction.atomic
def delete_survey(*, acting_user: Any, survey: Survey) -> None:
    """A draft nobody has seen may be deleted."""
    survey = _locked(survey)
    _draft(survey)
    log_action(
        "surveys.survey.deleted", actor=acting_user, school=survey.school, obj=survey, data={"title": survey.title}
    )
    survey.delete()


@transaction.atomic
def add_question(
    *,
    acting_user: Any,
    survey: Survey,
    kind: str,
    text: str,
    required: bool = True,
    scale_max: int = 5,
    choices: Sequence[str] = (),
) -> Question:
    """A question at the end of a draft; single and multiple choice need two to ``MAX_CHOICES`` options."""
    survey = _locked(survey)
    _draft(survey)
    if kind not in QuestionKind.values:
        raise DomainError(_("Choose the kind of question."), code="invalid_kind", field="kind")
    text = clean_text(text, field="text", limit=500)
    options = [clean_text(c, field="choices", limit=200, required=False) for c in choices]
    options = [c for c in options if c]
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if not 2 <= len(options) <= MAX_CHOICES:
            raise DomainError(
                _("Give from 2 to %(count)s answer options, one per line.") % {"count": MAX_CHOICES},
                code="invalid_choices",
                field="choices",
            )
        if len(set(options)) != len(options):
            raise DomainError(_("The answer options repeat."), code="invalid_choices", field="choices")
    else:
        options = []
    if kind == QuestionKind.SCALE and scale_max not in (5, 10):
        raise DomainError(_("A scale goes up to 5 or to 10."), code="invalid_scale", field="scale_max")
    count = survey.questions.count()
    if count >= MAX_QUESTIONS:
        raise DomainError(
            _("A survey has at most %(count)s questions.") % {"count": MAX_QUESTIONS}, code="too_many", field="text"
        )
    last = survey.questions.order_by("-position").values_list("position", flat=True).first() or 0
    question = Question.objects.create(
        school=survey.school,
        survey=survey,
        position=last + 1,
        kind=kind,
        text=text,
        required=required,
        scale_max=scale_max if kind == QuestionKind.SCALE else 5,
    )
    Choice.objects.bulk_create(
        Choice(school=survey.school, question=question, position=i, text=t) for i, t in enumerate(options, 1)
    )
    log_action(
        "surveys.question.added",
        actor=acting_user,
        school=survey.school,
        obj=survey,
        data={"question": question.pk, "kind": kind, "text": text, "choices": options, "required": required},
    )
    return question


@transaction.atomic
def delete_question(*, acting_user: Any, question: Question) -> None:
    survey = _locked(question.survey)
    _draft(survey)
    log_action(
        "surveys.question.deleted",
        actor=acting_user,
        school=survey.school,
        obj=survey,
        data={"question": question.pk, "text": question.text},
    )
    question.delete()


@transaction.atomic
def move_question(*, acting_user: Any, question: Question, up: bool) -> None:
    """Swap the question with its neighbour above (``up``) or below; at the edge nothing changes."""
    survey = _locked(question.survey)
    _draft(survey)
    question = Question.objects.get(pk=question.pk)  # the position as it is now, under the survey's lock
    siblings = survey.questions.order_by("position")
    neighbour = (
        siblings.filter(position__lt=question.position).last()
        if up
        else siblings.filter(position__gt=question.position).first()
    )
    if neighbour is None:
        return
    a, b = question.position, neighbour.position
    # Through a free position: the unique (survey, position) constraint holds at every step.
    free = (siblings.last().position if siblings.exists() else 0) + 1  # type: ignore[union-attr]
    Question.objects.filter(pk=question.pk).update(position=free)
    Question.objects.filter(pk=neighbour.pk).update(position=a)
    Question.objects.filter(pk=question.pk).update(position=b)
    log_action(
        "surveys.question.moved",
        actor=acting_user,
        school=survey.school,
        obj=survey,
        data={"question": question.pk, "from": a, "to": b},
    )


@transaction.atomic
def publish_survey(*, acting_user: Any, survey: Survey) -> Survey:
    """Publish a draft: from now its questions are frozen and its audience may answer between its days."""
    survey = _locked(survey)
    _draft(survey)
    if not survey.questions.exists():
        raise DomainError(_("Add at least one question first."), code="no_questions")
    if survey.closes_on < timezone.localdate():
        raise DomainError(_("The survey's last day has passed; change its days first."), code="past", field="closes_on")
    survey.status = SurveyStatus.PUBLISHED
    survey.published_at = timezone.now()
    survey.save(update_fields=["status", "published_at"])
    log_action("surveys.survey.published", actor=acting_user, school=survey.school, obj=survey, data={})
    return survey


@transaction.atomic
def close_survey(*, acting_user: Any, survey: Survey) -> Survey:
    """Stop taking answers before the last day (the results stay)."""
    survey = _locked(survey)
    if survey.status != SurveyStatus.PUBLISHED:
        raise ConflictError(_("Only a published survey can be closed."), code="not_published")
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = timezone.now()
    survey.save(update_fields=["status", "closed_at"])
    log_action("surveys.survey.closed", actor=acting_user, school=survey.school, obj=survey, data={})
    return survey


# --- The May satisfaction survey (R9.3) ------------------------------------------------------------


def _may_days(today: dt.date) -> tuple[dt.date, dt.date]:
    """May of this year, or of the next one once this May is over; from today if May has begun."""
    year = today.year if today <= dt.date(today.year, 5, 31) else today.year + 1
    return max(dt.date(year, 5, 1), today), dt.date(year, 5, 31)


def _may_questions() -> list[dict[str, Any]]:
    agree = [_("Fully agree"), _("Rather agree"), _("Rather disagree"), _("Disagree")]
    return [
        {"kind": QuestionKind.SCALE, "text": _("How satisfied are you with the school overall?"), "scale_max": 5},
        {"kind": QuestionKind.SCALE, "text": _("How satisfied are you with the quality of teaching?"), "scale_max": 5},
        {"kind": QuestionKind.SINGLE, "text": _("I feel safe and respected at school."), "choices": agree},
        {
            "kind": QuestionKind.SINGLE,
            "text": _("The electronic journal and diary are convenient to use."),
            "choices": agree,
        },
        {
            "kind": QuestionKind.MULTIPLE,
            "text": _("What should the school improve first?"),
            "choices": [
                _("Teaching"),
                _("Communication with families"),
                _("Premises and equipment"),
                _("Meals"),
                _("Clubs and activities"),
                _("Safety"),
            ],
            "required": False,
        },
        {"kind": QuestionKind.TEXT, "text": _("Your suggestions and comments"), "required": False},
    ]


@transaction.atomic
def create_may_survey(*, acting_user: Any, school: School, today: dt.date | None = None) -> Survey:
    """The yearly satisfaction survey of the administration, teachers, students and parents (R9.3, plan item 15):
    a draft, anonymous, open through May, with the usual questions in the creator's language; edit and publish it."""
    opens_on, closes_on = _may_days(today or timezone.localdate())
    survey = create_survey(
        acting_user=acting_user,
        school=school,
        title=_("Satisfaction survey, May %(year)s") % {"year": closes_on.year},
        description=_("Tell the school what works and what should change. The survey is anonymous."),
        opens_on=opens_on,
        closes_on=closes_on,
        anonymous=True,
        audiences=Audience.values,
    )
    for q in _may_questions():
        add_question(acting_user=acting_user, survey=survey, **q)
    return survey


# --- Answers -------------------------------------------------------------------------------------


def _required_missing(question: Question) -> DomainError:
    return DomainError(_("Answer this question."), code="required", field=f"q{question.pk}")


def _clean_answer(question: Question, value: AnswerValue, choice_ids: set[int]) -> list[dict[str, Any]]:
    """The ``Answer`` fields for one question's value; ``[]`` for an optional question left empty."""
    field = f"q{question.pk}"
    if question.has_choices:
        picked = value if isinstance(value, list) else ([value] if isinstance(value, int) else [])
        picked = list(dict.fromkeys(picked))
        if not picked:
            if question.required:
                raise _required_missing(question)
            return []
        if any(p not in choice_ids for p in picked) or (question.kind == QuestionKind.SINGLE and len(picked) > 1):
            raise DomainError(_("Choose from the given options."), code="invalid_choice", field=field)
        return [{"choice_id": p} for p in picked]
    if question.kind == QuestionKind.SCALE:
        if value in (None, ""):
            if question.required:
                raise _required_missing(question)
            return []
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= question.scale_max:
            raise DomainError(
                _("Choose a number from 1 to %(max)s.") % {"max": question.scale_max},
                code="invalid_number",
                field=field,
            )
        return [{"number": value}]
    text = value.strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        raise DomainError(_("Write the answer as text."), code="invalid_text", field=field)
    if not text:
        if question.required:
            raise _required_missing(question)
        return []
    return [{"text": clean_text(text, field=field, limit=MAX_TEXT)}]


def clean_answers(survey: Survey, answers: Mapping[int, AnswerValue]) -> list[tuple[Question, dict[str, Any]]]:
    """Every answer checked against the survey's questions; raises on the first problem."""
    questions = list(survey.questions.prefetch_related("choices").order_by("position"))
    known = {q.pk for q in questions}
    if set(answers) - known:
        raise DomainError(_("The answers do not match the survey's questions."), code="unknown_question")
    rows: list[tuple[Question, dict[str, Any]]] = []
    for q in questions:
        choice_ids = {c.pk for c in q.choices.all()}
        rows += [(q, fields) for fields in _clean_answer(q, answers.get(q.pk), choice_ids)]
    return rows


def submit_response(*, ctx: SchoolContext, survey: Survey, answers: Mapping[int, AnswerValue]) -> None:
    """Record one person's answers, once (R9.3).

    The participation row (who) and the response (what) are written in one transaction but share no
    column: for an anonymous survey the response has no person, no time and a random key, and the audit
    entry names only the survey. A second answer breaks the participation's unique constraint: refused.
    """
    if not access.may_answer(ctx, survey):
        raise PermissionDeniedError(_("This survey is not open for you."))
    rows = clean_answers(survey, answers)
    place = access.respondent_place(ctx, survey, set(survey.classes.values_list("pk", flat=True)))
    if place is None:
        raise PermissionDeniedError(_("This survey is not open for you."))
    group, class_id = place
    try:
        with transaction.atomic():
            participation = Participation.objects.create(
                school=survey.school, survey=survey, user=ctx.user, anonymous=survey.anonymous
            )
            response = Response.objects.create(
                school=survey.school, survey=survey, group=group, school_class_id=class_id
            )
            Answer.objects.bulk_create(
                Answer(school=survey.school, response=response, question=q, **fields) for q, fields in rows
            )
            if not survey.anonymous:
                participation.response = response
                participation.save(update_fields=["response"])
            data = {} if survey.anonymous else {"response": str(response.pk), "answers": _answers_data(rows)}
            log_action("surveys.response.submitted", actor=ctx.user, school=survey.school, obj=survey, data=data)
    except IntegrityError:
        raise ConflictError(_("You have already answered this survey."), code="already_answered") from None


def _answers_data(rows: list[tuple[Question, dict[str, Any]]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for q, fields in rows:
        out.setdefault(str(q.pk), []).append(next(iter(fields.values())))
    return out
