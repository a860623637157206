"""The survey pages: who opens what, the respondent's flow, the creator's flow, results and exports."""

from __future__ import annotations

import pytest

from classbook.surveys.models import Participation, Survey, SurveyStatus
from tests.conftest import client_for
from tests.surveys.conftest import TODAY, answers_for, make_survey

# persona -> status of: index, answer page, detail, results
PAGES = {
    "director": (200, 200, 200, 200),
    "deputy": (200, 200, 200, 200),
    "secretary": (200, 200, 403, 403),
    "teacher": (200, 200, 403, 403),
    "student": (200, 200, 403, 403),
    "other_parent": (200, 200, 403, 403),
    "viewer": (403, 403, 403, 403),
    "foreign_admin": (404, 404, 404, 404),
}


@pytest.mark.parametrize("persona", list(PAGES))
def test_who_opens_which_page(world, survey, persona):
    client = client_for(world.persona(persona))
    base = f"/s/{world.school.slug}/surveys/"
    urls = [base, f"{base}{survey.pk}/answer/", f"{base}{survey.pk}/", f"{base}{survey.pk}/results/"]
    assert tuple(client.get(u).status_code for u in urls) == PAGES[persona]


def test_anonymous_visitor_goes_to_login(world, survey):
    response = client_for(None).get(f"/s/{world.school.slug}/surveys/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_student_answers_once_from_the_page(world, survey, django_assert_max_num_queries):
    client = client_for(world.student.user)
    base = f"/s/{world.school.slug}/surveys/"
    with django_assert_max_num_queries(12):
        page = client.get(base)
    assert "Surveys" in page.content.decode() and f"{survey.pk}/answer/" in page.content.decode()
    values = answers_for(survey, picks=("A", "C"), text="Все добре")
    form = {f"q{q}": v for q, v in values.items()}
    response = client.post(f"{base}{survey.pk}/answer/", form)
    assert response.status_code == 302
    assert Participation.objects.filter(survey=survey, user=world.student.user).exists()
    again = client.post(f"{base}{survey.pk}/answer/", form)
    assert again.status_code == 200 and 'id="answered"' in again.content.decode()
    assert Participation.objects.filter(survey=survey).count() == 1
    assert "answered" in client.get(base).content.decode()


def test_a_missing_required_answer_shows_a_translated_error(world, survey):
    client = client_for(world.parent)
    client.cookies["django_language"] = "uk"
    response = client.post(f"/s/{world.school.slug}/surveys/{survey.pk}/answer/", {}, HTTP_ACCEPT_LANGUAGE="uk")
    assert response.status_code == 200
    assert "Дайте відповідь на це питання." in response.content.decode()
    assert not Participation.objects.exists()


def test_director_creates_fills_and_publishes_a_survey(world):
    client = client_for(world.director)
    base = f"/s/{world.school.slug}/surveys/"
    response = client.post(
        f"{base}new/",
        {
            "title": "Харчування",
            "opens_on": TODAY.isoformat(),
            "closes_on": TODAY.isoformat(),
            "anonymous": "on",
            "audiences": ["students", "parents"],
            "classes": [world.class_a.pk],
        },
    )
    assert response.status_code == 302
    survey = Survey.objects.get(title="Харчування")
    assert survey.anonymous and survey.audiences == ["students", "parents"]
    assert list(survey.classes.all()) == [world.class_a]
    client.post(f"{base}{survey.pk}/questions/", {"kind": "single", "text": "Смачно?", "choices": "Так\nНі\n"})
    client.post(f"{base}{survey.pk}/questions/", {"kind": "scale", "text": "Оцінка", "scale_max": "10"})
    assert [q.scale_max for q in survey.questions.order_by("position")] == [5, 10]
    details = {"title": "Їдальня", "opens_on": TODAY.isoformat(), "closes_on": TODAY.isoformat()}
    client.post(f"{base}{survey.pk}/", {**details, "audiences": ["parents"]})
    survey.refresh_from_db()
    assert (survey.title, survey.audiences, survey.anonymous) == ("Їдальня", ["parents"], False)
    assert not survey.classes.exists()
    client.post(f"{base}{survey.pk}/status/", {"action": "publish"})
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.PUBLISHED
    detail = client.get(f"{base}{survey.pk}/").content.decode()
    assert client.post(f"{base}{survey.pk}/", {**details, "audiences": ["teachers"]}).status_code == 200
    survey.refresh_from_db()
    assert survey.audiences == ["parents"]  # published: frozen
    assert "Смачно?" in detail and 'value="delete"' not in detail  # frozen: no more question buttons
    client.post(f"{base}may/")
    assert Survey.objects.filter(title__contains="May 2027").exists()


def test_results_page_charts_and_exports(world, survey, django_assert_max_num_queries):
    from classbook.access.context import resolve_school
    from classbook.surveys import services
    from tests import factories as f

    for st in [world.student] + [f.make_student(world.class_a) for _ in range(4)]:
        ctx = resolve_school(st.user, world.school.slug)
        services.submit_response(ctx=ctx, survey=survey, answers=answers_for(survey, text="=1+2"))
    client = client_for(world.deputy)
    url = f"/s/{world.school.slug}/surveys/{survey.pk}/results/"
    with django_assert_max_num_queries(16):
        page = client.get(url).content.decode()
    assert "<svg" in page and "100.0%" in page and "=1+2" in page
    small = client.get(f"{url}?class={world.class_b.pk}").content.decode()
    assert 'id="hidden"' in small and "<svg" not in small
    csv = client.get(f"{url}?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    body = csv.content.decode("utf-8-sig")
    assert "Так;5;100.0" in body and "'=1+2" in body  # formula neutralised
    xlsx = client.get(f"{url}?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert client.get(f"{url}?class={world.class_b.pk}&format=csv").status_code == 302  # hidden: no export


def test_nav_shows_surveys_to_members(world, survey):
    page = client_for(world.parent).get(f"/s/{world.school.slug}/").content.decode()
    assert f"/s/{world.school.slug}/surveys/" in page
    assert make_survey  # the helper builds other surveys in other tests


def test_home_page_lists_the_surveys_waiting_for_an_answer(world, survey, django_assert_max_num_queries):
    from classbook.access.context import resolve_school
    from classbook.surveys import services

    client = client_for(world.parent)
    home = f"/s/{world.school.slug}/"
    client.get(home)
    with django_assert_max_num_queries(16):
        page = client.get(home).content.decode()
    assert 'id="waiting-surveys"' in page and f"/surveys/{survey.pk}/answer/" in page
    ctx = resolve_school(world.parent, world.school.slug)
    services.submit_response(ctx=ctx, survey=survey, answers=answers_for(survey))
    assert 'id="waiting-surveys"' not in client.get(home).content.decode()
