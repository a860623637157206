"""Surveys on the shared ``world``: a published survey open today, and a helper to build others."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.surveys import services
from classbook.surveys.models import Audience, QuestionKind, Survey

NOW = dt.datetime(2026, 10, 7, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 7)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def make_survey(
    world, *, audiences=tuple(Audience.values), classes=(), anonymous=True, publish=True, school=None, by=None
) -> Survey:
    """A survey with one question of each kind: single (q1), multiple (q2), scale 1-5 (q3), optional text (q4)."""
    by = by or world.director
    survey = services.create_survey(
        acting_user=by,
        school=school or world.school,
        title="Опитування",
        opens_on=TODAY,
        closes_on=TODAY + dt.timedelta(days=7),
        anonymous=anonymous,
        audiences=audiences,
        classes=list(classes),
    )
    services.add_question(acting_user=by, survey=survey, kind=QuestionKind.SINGLE, text="Q1", choices=["Так", "Ні"])
    services.add_question(
        acting_user=by, survey=survey, kind=QuestionKind.MULTIPLE, text="Q2", choices=["A", "B", "C"], required=False
    )
    services.add_question(acting_user=by, survey=survey, kind=QuestionKind.SCALE, text="Q3", scale_max=5)
    services.add_question(acting_user=by, survey=survey, kind=QuestionKind.TEXT, text="Q4", required=False)
    if publish:
        services.publish_survey(acting_user=by, survey=survey)
    return survey


def answers_for(survey: Survey, *, yes=True, picks=("A",), scale=4, text="") -> dict:
    q1, q2, q3, q4 = survey.questions.order_by("position")
    c1 = {c.text: c.pk for c in q1.choices.all()}
    c2 = {c.text: c.pk for c in q2.choices.all()}
    return {q1.pk: [c1["Так" if yes else "Ні"]], q2.pk: [c2[p] for p in picks], q3.pk: scale, q4.pk: text}


@pytest.fixture
def survey(world):
    return make_survey(world)
