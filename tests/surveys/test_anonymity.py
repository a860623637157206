"""Anonymous surveys are anonymous in the database (R9.3, docs/surveys.md "Anonymity")."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import IntegrityError, models, transaction

from classbook.access.context import resolve_school
from classbook.core.models import AuditEntry
from classbook.surveys import services
from classbook.surveys.models import Answer, Participation, Response
from tests.surveys.conftest import answers_for, make_survey

ANSWER_TABLES = (Response, Answer)


def _reaches_a_person(model: type[models.Model], seen: frozenset = frozenset()) -> list[str]:
    """The foreign keys of ``model`` that lead, directly or through other foreign keys, to a person."""
    paths = []
    for f in model._meta.get_fields():
        if not (f.many_to_one or f.one_to_one) or not f.concrete:
            continue
        target = f.related_model
        if target._meta.label == settings.AUTH_USER_MODEL or target is Participation:
            paths.append(f"{model.__name__}.{f.name}")
        elif target not in seen and target in ANSWER_TABLES:
            paths += _reaches_a_person(target, seen | {model})
    return paths


@pytest.mark.engine_agnostic
@pytest.mark.parametrize("model", ANSWER_TABLES, ids=lambda m: m.__name__)
def test_no_answer_table_joins_a_person(model):
    """No foreign key to a user or to the participation, no column named like a person, no time of any kind,
    and a random key: nothing to join with the participation table, the audit log or the session log."""
    assert _reaches_a_person(model) == []
    names = {f.name for f in model._meta.concrete_fields}
    assert not {"user", "user_id", "respondent", "created_by", "ip", "session"} & names
    assert not [f.name for f in model._meta.concrete_fields if isinstance(f, models.DateField | models.TimeField)]
    pk = model._meta.pk
    assert isinstance(pk, models.UUIDField) and pk.default.__name__ == "uuid4"  # random, not time-ordered
    # and nothing points from the answers back to a person: only the participation points to a response
    incoming = {r.related_model for r in model._meta.related_objects}
    assert incoming <= {Answer, Participation}


@pytest.mark.engine_agnostic
def test_participation_says_who_not_when():
    fields = {f.name: f for f in Participation._meta.concrete_fields}
    assert not [n for n, f in fields.items() if isinstance(f, models.DateField | models.TimeField)]
    assert isinstance(Participation._meta.pk, models.UUIDField)


def test_anonymous_answer_leaves_no_link_and_no_content_in_the_audit_log(world):
    survey = make_survey(world)
    ctx = resolve_school(world.student.user, world.school.slug)
    secret = "Мені не подобається їдальня"
    services.submit_response(ctx=ctx, survey=survey, answers=answers_for(survey, text=secret))

    participation = Participation.objects.get(survey=survey)
    assert participation.user == world.student.user and participation.response_id is None
    response = Response.objects.get(survey=survey)
    assert response.group == "students" and response.school_class == world.class_a
    assert Answer.objects.filter(response=response, text=secret).exists()
    entry = AuditEntry.objects.get(action="surveys.response.submitted")
    assert entry.actor == world.student.user
    assert entry.object_id == str(survey.pk) and entry.data == {}
    everything = [str(e.data) for e in AuditEntry.objects.all()]
    assert not [d for d in everything if secret in d or str(response.pk) in d]
    # the database itself refuses to link an anonymous participation to a response
    participation.response = response
    with pytest.raises(IntegrityError), transaction.atomic():
        participation.save()


def test_named_answer_is_linked_and_audited_with_its_content(world):
    survey = make_survey(world, anonymous=False)
    ctx = resolve_school(world.parent, world.school.slug)
    services.submit_response(ctx=ctx, survey=survey, answers=answers_for(survey, text="Дякуємо"))
    participation = Participation.objects.get(survey=survey, user=world.parent)
    assert participation.response.group == "parents"
    entry = AuditEntry.objects.get(action="surveys.response.submitted")
    assert entry.data["response"] == str(participation.response_id)
    assert ["Дякуємо"] in entry.data["answers"].values()
