"""The survey rules (``classbook/access/surveys.py``) as a role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from classbook.access import surveys
from classbook.surveys import services
from classbook.surveys.models import Audience, QuestionKind
from tests.access.conftest import HEADER, table_cases


def _survey(w, *, audiences=tuple(Audience.values), classes=(), status="published", school=None):
    school = school or w.school
    by = w.director if school == w.school else w.foreign_admin
    today = timezone.localdate()
    s = services.create_survey(
        acting_user=by,
        school=school,
        title="S",
        opens_on=today,
        closes_on=today + dt.timedelta(days=3),
        anonymous=True,
        audiences=audiences,
        classes=list(classes),
    )
    services.add_question(acting_user=by, survey=s, kind=QuestionKind.TEXT, text="?")
    if status != "draft":
        services.publish_survey(acting_user=by, survey=s)
    if status == "closed":
        services.close_survey(acting_user=by, survey=s)
    return (s,)


TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_manage_surveys": (surveys.may_manage_surveys, None, "Y Y Y N N N N N N N N N N - -"),
    "may_read_results": (surveys.may_read_results, None, "Y Y Y N N N N N N N N N N - -"),
    "may_open_surveys": (surveys.may_open_surveys, None, "Y Y Y Y Y Y Y Y Y Y Y Y N - -"),
    "may_answer (everyone)": (surveys.may_answer, _survey, "Y Y Y Y Y Y Y Y Y Y Y N N - -"),
    "may_answer (administration)": (
        surveys.may_answer,
        lambda w: _survey(w, audiences=[Audience.ADMINISTRATION]),
        "Y Y Y Y N N N N N N N N N - -",
    ),
    "may_answer (teachers of class_a)": (
        surveys.may_answer,
        lambda w: _survey(w, audiences=[Audience.TEACHERS], classes=[w.class_a]),
        "N N N N Y N Y N N N N N N - -",
    ),
    "may_answer (students and parents of class_a)": (
        surveys.may_answer,
        lambda w: _survey(w, audiences=[Audience.STUDENTS, Audience.PARENTS], classes=[w.class_a]),
        "N N N N N N N N Y Y N N N - -",
    ),
    "may_answer (parents, every class)": (
        surveys.may_answer,
        lambda w: _survey(w, audiences=[Audience.PARENTS]),
        "N N N N N N N N N Y Y N N - -",
    ),
    "may_answer (draft)": (surveys.may_answer, lambda w: _survey(w, status="draft"), "N N N N N N N N N N N N N - -"),
    "may_answer (closed)": (surveys.may_answer, lambda w: _survey(w, status="closed"), "N N N N N N N N N N N N N - -"),
    "may_answer (another school's)": (
        surveys.may_answer,
        lambda w: _survey(w, school=w.other_school),
        "N N N N N N N N N N N N N - -",
    ),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_survey_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER


def test_results_and_management_scopes_stay_in_the_school(cast, ctx_of):
    (own,) = _survey(cast)
    (foreign,) = _survey(cast, school=cast.other_school)
    assert list(surveys.managed_surveys(ctx_of("director"))) == [own]
    assert list(surveys.managed_surveys(ctx_of("teacher"))) == []
    assert list(surveys.managed_surveys(ctx_of("foreign_admin", school=cast.other_school))) == [foreign]
    assert not surveys.managed_questions(ctx_of("deputy")).filter(survey=foreign).exists()
