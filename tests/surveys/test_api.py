"""The survey API: open surveys for me, answering, results; structured errors."""

from __future__ import annotations

import json

import pytest

from classbook.surveys.models import Participation
from tests.conftest import client_for


def _url(world, path):
    return f"/api/v1/schools/{world.school.slug}/surveys{path}"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _body(survey, text="так"):
    q1, _q2, q3, q4 = survey.questions.order_by("position")
    return {
        "answers": [
            {"question": q1.pk, "choices": [q1.choices.first().pk]},
            {"question": q3.pk, "number": 5},
            {"question": q4.pk, "text": text},
        ]
    }


def test_open_list_answer_once_and_errors(world, survey, django_assert_max_num_queries):
    client = client_for(world.student.user)
    with django_assert_max_num_queries(12):
        listed = client.get(_url(world, "/open")).json()["items"]
    assert [s["id"] for s in listed] == [survey.pk] and listed[0]["answered"] is False
    assert [q["kind"] for q in listed[0]["questions"]] == ["single", "multiple", "scale", "text"]

    bad = _post(client, _url(world, f"/{survey.pk}/responses"), {"answers": [{"question": 0, "text": "x"}]})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_question"
    missing = {"answers": _body(survey)["answers"][1:]}
    refused = _post(client, _url(world, f"/{survey.pk}/responses"), missing)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "required"
    assert not Participation.objects.exists()

    assert _post(client, _url(world, f"/{survey.pk}/responses"), _body(survey)).status_code == 201
    twice = _post(client, _url(world, f"/{survey.pk}/responses"), _body(survey))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_answered"
    assert client.get(_url(world, "/open")).json()["items"][0]["answered"] is True


@pytest.mark.parametrize(
    ("persona", "status"),
    [("director", 200), ("admin", 200), ("teacher", 403), ("parent", 403), ("viewer", 403), ("foreign_admin", 404)],
)
def test_results_for_those_allowed(world, survey, persona, status):
    response = client_for(world.persona(persona)).get(_url(world, f"/{survey.pk}/results"))
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["hidden"] is True and body["questions"] == [] and body["min_group"] == 5
    else:
        assert "error" in response.json()


def test_answering_a_survey_not_for_me_is_404(world):
    from tests.surveys.conftest import make_survey

    survey = make_survey(world, audiences=["parents"], classes=[world.class_b])
    response = _post(client_for(world.parent), _url(world, f"/{survey.pk}/responses"), _body(survey))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
