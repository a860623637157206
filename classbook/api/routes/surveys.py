"""Surveys over JSON (R9.3): ``/api/v1/schools/{school}/surveys/...``.

Thin: the school from ``resolve_school``, surveys from ``classbook.access.surveys`` scopes (a survey the
caller may not see answers 404), answers through ``surveys.services`` (bad input 422, a second answer
409), results from ``surveys.queries`` (hidden slices of anonymous surveys come back without figures).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from classbook.access import surveys as rules
from classbook.access.context import school_for
from classbook.access.scopes import get_or_404
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.core.errors import DomainError
from classbook.surveys import queries, services
from classbook.surveys.models import Audience, Survey

router = Router(tags=["surveys"])

OPEN_SORTS = Sorts("closes_on", closes_on="closes_on", title="title", id="id")


class OpenQuery(ListQuery):
    sort: str = OPEN_SORTS.field()


class ChoiceOut(Schema):
    id: int
    text: str


class QuestionOut(Schema):
    id: int
    position: int
    kind: str = Field(description="single, multiple, scale or text")
    text: str
    required: bool
    scale_max: int | None
    choices: list[ChoiceOut]


class OpenSurveyOut(Schema):
    id: int
    title: str
    description: str
    opens_on: dt.date
    closes_on: dt.date
    anonymous: bool
    answered: bool
    questions: list[QuestionOut]


class AnswerIn(Schema):
    question: int
    choices: list[int] = Field(default_factory=list, description="Option ids (single: one; multiple: one or more)")
    number: int | None = Field(default=None, description="Scale: 1 to the question's scale_max")
    text: str | None = Field(default=None, max_length=2000, description="Free text")


class ResponseIn(Schema):
    answers: list[AnswerIn] = Field(max_length=200)


class SubmittedOut(Schema):
    status: str


class OptionOut(Schema):
    label: str
    count: int
    percent: Decimal


class QuestionResultOut(Schema):
    id: int
    position: int
    kind: str
    text: str
    answered: int
    average: Decimal | None
    options: list[OptionOut]
    texts: list[str]


class SliceOut(Schema):
    key: str
    label: str
    count: int | None = Field(description="null: fewer than the minimum group in an anonymous survey")


class ResultsOut(Schema):
    survey: int
    title: str
    status: str
    anonymous: bool
    respondents: int
    hidden: bool = Field(description="true: an anonymous survey's slice with fewer than 5 answers; no figures")
    min_group: int
    groups: list[SliceOut]
    classes: list[SliceOut]
    questions: list[QuestionResultOut]


class ResultsQuery(Schema):
    group: Audience | None = None
    class_id: int | None = Field(default=None, alias="class")


def _question_out(q: Any) -> dict[str, Any]:
    return {
        "id": q.pk,
        "position": q.position,
        "kind": q.kind,
        "text": q.text,
        "required": q.required,
        "scale_max": q.scale_max if q.kind == "scale" else None,
        "choices": [{"id": c.pk, "text": c.text} for c in q.choices.all()],
    }


@router.get("/{school}/surveys/open", response=Page[OpenSurveyOut], summary="Surveys open for the caller today")
def open_surveys(request: HttpRequest, school: str, q: Query[OpenQuery]) -> dict[str, Any]:
    ctx = school_for(request.user, school, rules.may_open_surveys)
    surveys = rules.open_surveys(ctx).prefetch_related("questions__choices")
    return paginate(request, surveys, q, OPEN_SORTS, rows_out=lambda rows: _open_out(ctx, rows))


def _open_out(ctx: Any, surveys: list[Survey]) -> list[dict[str, Any]]:
    answered = queries.answered_survey_ids(ctx, [s.pk for s in surveys])
    return [
        {
            "id": s.pk,
            "title": s.title,
            "description": s.description,
            "opens_on": s.opens_on,
            "closes_on": s.closes_on,
            "anonymous": s.anonymous,
            "answered": s.pk in answered,
            "questions": [_question_out(q) for q in sorted(s.questions.all(), key=lambda q: q.position)],
        }
        for s in surveys
    ]


def _value(item: AnswerIn, kind: str) -> services.AnswerValue:
    if kind in ("single", "multiple"):
        return item.choices
    if kind == "scale":
        return item.number
    return item.text


@router.post(
    "/{school}/surveys/{survey_id}/responses",
    response={201: SubmittedOut},
    summary="Answer an open survey (once per person)",
)
def submit(request: HttpRequest, school: str, survey_id: int, payload: ResponseIn) -> Status:
    ctx = school_for(request.user, school, rules.may_open_surveys)
    survey: Survey = get_or_404(rules.open_surveys(ctx), pk=survey_id)
    kinds = dict(survey.questions.values_list("pk", "kind"))
    if len({a.question for a in payload.answers}) != len(payload.answers):
        raise DomainError(_("Each question is answered once."), code="duplicate_question", field="answers")
    if any(a.question not in kinds for a in payload.answers):
        raise DomainError(
            _("The answers do not match the survey's questions."), code="unknown_question", field="answers"
        )
    answers = {a.question: _value(a, kinds[a.question]) for a in payload.answers}
    services.submit_response(ctx=ctx, survey=survey, answers=answers)
    return Status(201, {"status": "recorded"})


@router.get("/{school}/surveys/{survey_id}/results", response=ResultsOut, summary="Results of a survey")
def results(request: HttpRequest, school: str, survey_id: int, q: Query[ResultsQuery]) -> dict[str, Any]:
    ctx = school_for(request.user, school, rules.may_read_results)
    survey: Survey = get_or_404(rules.managed_surveys(ctx), pk=survey_id)
    res = queries.results(survey, group=q.group or "", class_id=q.class_id)
    return {
        "survey": survey.pk,
        "title": survey.title,
        "status": survey.status,
        "anonymous": survey.anonymous,
        "respondents": res.respondents,
        "hidden": res.hidden,
        "min_group": queries.MIN_GROUP,
        "groups": [vars(g) for g in res.groups],
        "classes": [vars(c) for c in res.classes],
        "questions": [
            {
                "id": qr.question.pk,
                "position": qr.question.position,
                "kind": qr.question.kind,
                "text": qr.question.text,
                "answered": qr.answered,
                "average": qr.average,
                "options": [vars(o) for o in qr.options],
                "texts": qr.texts,
            }
            for qr in res.questions
        ],
    }
