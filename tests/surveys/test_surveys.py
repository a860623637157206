"""Surveys: creating, publishing, closing, answering once, bad input, results and the small-group rule (R9.3)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from classbook.access.context import resolve_school
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.surveys import queries, services
from classbook.surveys.models import Answer, Audience, Participation, QuestionKind, Response, SurveyStatus
from tests import factories as f
from tests.surveys.conftest import TODAY, answers_for, make_survey


def _ctx(world, persona):
    return resolve_school(world.persona(persona), world.school.slug)


def test_writes_are_audited(world):
    survey = make_survey(world, publish=False)
    services.publish_survey(acting_user=world.director, survey=survey)
    services.close_survey(acting_user=world.director, survey=survey)
    actions = list(AuditEntry.objects.filter(object_id=str(survey.pk)).values_list("action", flat=True))
    assert actions.count("surveys.question.added") == 4
    assert {"surveys.survey.created", "surveys.survey.published", "surveys.survey.closed"} <= set(actions)


def test_published_questions_are_frozen_and_closed_surveys_take_no_answers(world, survey):
    with pytest.raises(ConflictError):
        services.add_question(acting_user=world.director, survey=survey, kind=QuestionKind.TEXT, text="late")
    with pytest.raises(ConflictError):
        services.delete_question(acting_user=world.director, question=survey.questions.first())
    services.close_survey(acting_user=world.director, survey=survey)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.CLOSED
    with pytest.raises(PermissionDeniedError):
        services.submit_response(ctx=_ctx(world, "student"), survey=survey, answers=answers_for(survey))
    assert survey.questions.count() == 4


def test_a_survey_without_questions_is_not_published(world):
    s = services.create_survey(
        acting_user=world.deputy,
        school=world.school,
        title="Empty",
        opens_on=TODAY,
        closes_on=TODAY,
        anonymous=True,
        audiences=[Audience.TEACHERS],
    )
    with pytest.raises(DomainError, match="at least one question"):
        services.publish_survey(acting_user=world.deputy, survey=s)


def test_questions_move_and_keep_their_order(world):
    s = make_survey(world, publish=False)
    _q1, q2, *_ = s.questions.order_by("position")
    services.move_question(acting_user=world.director, question=q2, up=True)
    assert list(s.questions.order_by("position").values_list("text", flat=True)) == ["Q2", "Q1", "Q3", "Q4"]
    services.move_question(acting_user=world.director, question=q2, up=True)  # already first: nothing
    assert s.questions.get(text="Q2").position < s.questions.get(text="Q1").position


def test_one_answer_per_person(world, survey):
    ctx = _ctx(world, "teacher")
    services.submit_response(ctx=ctx, survey=survey, answers=answers_for(survey))
    with pytest.raises(ConflictError, match="already answered"):
        services.submit_response(ctx=ctx, survey=survey, answers=answers_for(survey, yes=False))
    assert Response.objects.filter(survey=survey).count() == 1
    assert Participation.objects.filter(survey=survey).count() == 1


def _bad(survey, case):
    q1, q2, q3, q4 = survey.questions.order_by("position")
    other = q2.choices.first().pk
    good = answers_for(survey)
    return {
        "required single missing": {**good, q1.pk: []},
        "option of another question": {**good, q1.pk: [other]},
        "two options for one choice": {**good, q1.pk: [c.pk for c in q1.choices.all()]},
        "scale above its maximum": {**good, q3.pk: 6},
        "scale missing": {**good, q3.pk: None},
        "unknown question": {**good, 999999: "x"},
        "text too long": {**good, q4.pk: "x" * 2001},
    }[case]


@pytest.mark.parametrize(
    "case",
    [
        "required single missing",
        "option of another question",
        "two options for one choice",
        "scale above its maximum",
        "scale missing",
        "unknown question",
        "text too long",
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(world, survey, case):
    with pytest.raises(DomainError) as exc:
        services.submit_response(ctx=_ctx(world, "student"), survey=survey, answers=_bad(survey, case))
    assert str(exc.value.message)
    assert not Participation.objects.exists() and not Response.objects.exists() and not Answer.objects.exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"title": " "}, "required"),
        ({"closes_on": TODAY - dt.timedelta(days=1)}, "invalid_range"),
        ({"audiences": []}, "no_audience"),
        ({"audiences": ["everyone"]}, "no_audience"),
    ],
)
def test_bad_survey_details_are_refused(world, change, code):
    values = {"title": "T", "opens_on": TODAY, "closes_on": TODAY, "audiences": [Audience.STUDENTS], **change}
    with pytest.raises(DomainError) as exc:
        services.create_survey(acting_user=world.director, school=world.school, anonymous=True, **values)
    assert exc.value.code == code


def test_classes_of_another_school_are_refused(world):
    with pytest.raises(DomainError):
        make_survey(world, classes=[world.foreign_class])


def test_results_count_percentages_and_hide_small_groups(world, survey):
    voters = [world.student] + [f.make_student(world.class_a) for _ in range(4)]
    for i, st in enumerate(voters):
        ctx = resolve_school(st.user, world.school.slug)
        answers = answers_for(survey, yes=i < 4, picks=("A", "B") if i == 0 else ("A",), scale=5 if i < 2 else 3)
        services.submit_response(ctx=ctx, survey=survey, answers=answers)
    services.submit_response(ctx=_ctx(world, "other_student"), survey=survey, answers=answers_for(survey, text="ok"))

    whole = queries.results(survey)
    assert whole.respondents == 6 and not whole.hidden
    q1, q2, q3, q4 = whole.questions
    assert [(o.label, o.count, o.percent) for o in q1.options] == [
        ("Так", 5, Decimal("83.3")),
        ("Ні", 1, Decimal("16.7")),
    ]
    assert [(o.label, o.count) for o in q2.options] == [("A", 6), ("B", 1), ("C", 0)]
    assert q3.average == Decimal("3.83") and [o.count for o in q3.options] == [0, 0, 3, 1, 2]  # 5 5 3 3 3 4
    assert q4.texts == ["ok"]

    by_class = {c.label: c.count for c in whole.classes}
    assert by_class == {"5-А": 5, "5-Б": None}  # one answer in 5-Б: its size is not shown
    assert queries.results(survey, class_id=world.class_b.pk).hidden
    assert queries.results(survey, class_id=world.class_b.pk).questions == []
    class_a = queries.results(survey, class_id=world.class_a.pk)
    assert not class_a.hidden and class_a.respondents == 5 and class_a.questions[3].texts == []
    assert queries.results(survey, group=Audience.PARENTS).hidden


def test_named_surveys_show_small_groups(world):
    survey = make_survey(world, anonymous=False)
    services.submit_response(ctx=_ctx(world, "parent"), survey=survey, answers=answers_for(survey))
    res = queries.results(survey, class_id=world.class_a.pk)
    assert not res.hidden and res.respondents == 1


def test_the_may_survey_is_made_in_one_step(world):
    survey = services.create_may_survey(acting_user=world.director, school=world.school, today=TODAY)
    assert survey.anonymous and survey.is_draft
    assert survey.audiences == list(Audience.values)
    assert (survey.opens_on, survey.closes_on) == (dt.date(2027, 5, 1), dt.date(2027, 5, 31))
    kinds = list(survey.questions.order_by("position").values_list("kind", flat=True))
    assert set(kinds) == set(QuestionKind.values)
    services.publish_survey(acting_user=world.director, survey=survey)
