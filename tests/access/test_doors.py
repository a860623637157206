"""The page and the API of one action refuse the same callers, because both ask the same named rule.

Each row: (persona, outcome of the page, outcome of the API). "ok" is an answer; 403 is a member the rule
refuses; 404 is a user with no business in the school (the school does not exist for them). Anonymous users
go to the login page ("login") and get 401 from the API.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

API = "/api/v1/schools/{slug}"


def _outcome(response) -> object:
    """ "ok" for an answer (a page, a JSON body, a wizard's redirect), "login" for the login redirect,
    else the refusing status."""
    if response.status_code == 302 and "login" in response["Location"]:
        return "login"
    return "ok" if response.status_code < 400 else response.status_code


def _statuses(as_user, world, persona, page, api):
    client = as_user(world.persona(persona))
    return _outcome(client.get(page)), _outcome(client.get(api))


# access.timetable.may_open_lesson_changes: staff only. Until issue 10 the API let the authority viewer in
# while the page answered 403; both refuse them now.
LESSON_CHANGES = [
    ("deputy", "ok", "ok"),
    ("teacher", "ok", "ok"),
    ("secretary", "ok", "ok"),
    ("viewer", 403, 403),
    ("parent", 403, 403),
    ("student", 403, 403),
    ("foreign_admin", 404, 404),
    ("anonymous", "login", 401),
]


@pytest.mark.parametrize(("persona", "page", "api"), LESSON_CHANGES)
def test_lesson_changes_page_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("timetable:changes", kwargs={"school": slug}), API.format(slug=slug) + "/timetable/substitutions")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


def test_lesson_changes_of_another_teacher_are_refused_by_page_and_api(world, as_user):
    """A teacher filters the changes by themselves only (``may_see_changes_of``): 404 through both doors."""
    slug = world.school.slug
    other = world.other_teacher.pk
    page = reverse("timetable:changes", kwargs={"school": slug}) + f"?teacher={other}"
    api = API.format(slug=slug) + f"/timetable/substitutions?teacher_id={other}"
    assert _statuses(as_user, world, "teacher", page, api) == (404, 404)
    assert _statuses(as_user, world, "deputy", page, api) == ("ok", "ok")


# access.journal.may_open_journals: students and parents have the diary. Until issue 10 the API answered
# them an empty list while the pages answered 403.
JOURNALS = [
    ("teacher", "ok", "ok"),
    ("viewer", "ok", "ok"),
    ("secretary", "ok", "ok"),
    ("student", 403, 403),
    ("parent", 403, 403),
    ("foreign_admin", 404, 404),
]


@pytest.mark.parametrize(("persona", "page", "api"), JOURNALS)
def test_journal_index_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("journal:index", kwargs={"school": slug}), API.format(slug=slug) + "/journal/assignments")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


# access.structure.may_open_year: calendar, structure and timetable, never read-only.
YEAR_OPENING = [
    ("director", "ok", "ok"),
    ("deputy", "ok", "ok"),
    ("secretary", 403, 403),
    ("teacher", 403, 403),
    ("viewer", 403, 403),
    ("foreign_admin", 404, 404),
]


@pytest.mark.parametrize(("persona", "page", "api"), YEAR_OPENING)
def test_year_opening_page_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("schools:open_year", kwargs={"school": slug}), API.format(slug=slug) + "/year-opening")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


# access.appeals.may_open_reports / may_open_flags: until issue 10 the API listed nothing (200, []) to
# those the page refused with 403.
REPORTS = [
    ("parent", "ok", "ok"),
    ("student", "ok", "ok"),
    ("class_teacher", "ok", "ok"),
    ("deputy", "ok", "ok"),
    ("other_teacher", 403, 403),
    ("secretary", 403, 403),
    ("viewer", 403, 403),
    ("foreign_admin", 404, 404),
]


@pytest.mark.parametrize(("persona", "page", "api"), REPORTS)
def test_absence_reports_page_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("appeals:reports", kwargs={"school": slug}), API.format(slug=slug) + "/appeals/absence-reports")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


FLAGS = [
    ("parent", "ok", "ok"),
    ("teacher", "ok", "ok"),
    ("director", "ok", "ok"),
    ("secretary", 403, 403),
    ("viewer", 403, 403),
    ("foreign_admin", 404, 404),
]


@pytest.mark.parametrize(("persona", "page", "api"), FLAGS)
def test_flags_page_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("appeals:flags", kwargs={"school": slug}), API.format(slug=slug) + "/appeals/mark-flags")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


# access.messaging.may_watch_unanswered: staff.
UNANSWERED = [
    ("teacher", "ok", "ok"),
    ("director", "ok", "ok"),
    ("parent", 403, 403),
    ("student", 403, 403),
    ("viewer", 403, 403),
    ("foreign_admin", 404, 404),
]


@pytest.mark.parametrize(("persona", "page", "api"), UNANSWERED)
def test_unanswered_page_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("messaging:unanswered", kwargs={"school": slug}), API.format(slug=slug) + "/messages/unanswered")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


# access.webhooks.may_manage_webhooks: the school's administrators only (issue 18).
WEBHOOKS = [
    ("admin", "ok", "ok"),
    ("director", 403, 403),
    ("secretary", 403, 403),
    ("teacher", 403, 403),
    ("viewer", 403, 403),
    ("parent", 403, 403),
    ("foreign_admin", 404, 404),
    ("anonymous", "login", 401),
]


@pytest.mark.parametrize(("persona", "page", "api"), WEBHOOKS)
def test_webhooks_page_and_api_refuse_the_same_people(world, as_user, persona, page, api):
    slug = world.school.slug
    urls = (reverse("webhooks:list", kwargs={"school": slug}), API.format(slug=slug) + "/webhooks")
    assert _statuses(as_user, world, persona, *urls) == (page, api)


# A link is shown exactly when its page opens: the templates ask (access_tags) the rules the pages ask.
# (page that shows the link, link's target)
LINKS = [
    ("schools:dashboard", "appeals:reports"),
    ("schools:dashboard", "appeals:flags"),
    ("schools:dashboard", "appeals:absences"),
    ("schools:dashboard", "planning:index"),
    ("schools:dashboard", "school_people:codes"),
    ("schools:dashboard", "roster:index"),
    ("timetable:index", "timetable:changes"),
    ("schools:dashboard", "webhooks:list"),
]


@pytest.mark.parametrize(
    "persona", ["deputy", "teacher", "class_teacher", "secretary", "student", "parent", "other_parent", "viewer"]
)
def test_links_are_shown_exactly_when_their_page_opens(world, as_user, persona):
    import re

    client = as_user(world.persona(persona))
    slug = world.school.slug
    pages: dict[str, str] = {}
    for page, target in LINKS:
        if page not in pages:
            pages[page] = client.get(reverse(page, kwargs={"school": slug}), follow=True).content.decode()
        url = reverse(target, kwargs={"school": slug})
        shown = re.search(rf'href="{re.escape(url)}"', pages[page]) is not None
        status = client.get(url).status_code
        assert shown == (status < 400), f"{persona}: link to {url} on {page} shown={shown}, the page answers {status}"
