"""Help pages (R9.4): who sees which articles, the header's Help link, escaping, and no query of their own."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

SCHOOL = "/s/lyceum-1/help/"
TEACHERS = "marks-and-attendance"
PARENTS = "report-absence"
CORRECTION = "correct-grade"
CLASS_TEACHERS = "absence-reasons"

# persona -> (listed on the school's help index, not listed there)
LISTS = {
    "parent": ({PARENTS, "read-diary", "write-message", "log-in"}, {TEACHERS, CORRECTION, CLASS_TEACHERS}),
    "student": ({"read-diary", "flagged-marks"}, {TEACHERS, PARENTS, CORRECTION}),
    "teacher": ({TEACHERS, "period-grades", "print-journal"}, {PARENTS, CORRECTION, CLASS_TEACHERS}),
    "class_teacher": ({TEACHERS, CLASS_TEACHERS, "activation-codes"}, {PARENTS, CORRECTION}),
    "deputy": ({CORRECTION, "print-journal", "control-journals"}, {TEACHERS, PARENTS}),
    "secretary": ({"orders", "account-security"}, {TEACHERS, PARENTS, CORRECTION}),
    "admin": ({"activation-codes", "print-journal", "control-journals"}, {TEACHERS, PARENTS, CORRECTION}),
}


def _listed(html: str, slug: str) -> bool:
    return f'href="{slug}/"' in html


@pytest.mark.parametrize(("persona", "lists"), LISTS.items())
def test_the_index_lists_the_articles_of_the_readers_roles(world, persona, lists):
    html = client_for(world.persona(persona)).get(SCHOOL).content.decode()
    shown, hidden = lists
    assert {s for s in shown if _listed(html, s)} == shown
    assert {s for s in hidden if _listed(html, s)} == set()


# persona -> status of a teacher's article and a parent's article in the school
ARTICLES = {
    "parent": (404, 200),
    "student": (404, 404),
    "teacher": (200, 200),  # staff may open every article (explaining a parent's page on the phone)
    "secretary": (200, 200),
    "viewer": (404, 404),  # reads journals, has no role of its own: only the general articles
    "foreign_teacher": (404, 404),  # another school: not even the school is found
    "anonymous": (302, 302),
}


@pytest.mark.parametrize(("persona", "statuses"), ARTICLES.items())
def test_who_opens_which_article(world, persona, statuses):
    client = client_for(world.persona(persona))
    got = tuple(client.get(f"{SCHOOL}{slug}/").status_code for slug in (TEACHERS, PARENTS))
    assert got == statuses


def test_staff_who_ask_for_all_see_every_article_and_families_cannot(world):
    teacher = client_for(world.teacher).get(f"{SCHOOL}?all=1").content.decode()
    assert _listed(teacher, PARENTS) and _listed(teacher, CORRECTION)
    parent = client_for(world.parent).get(f"{SCHOOL}?all=1").content.decode()
    assert not _listed(parent, TEACHERS) and 'href="?all=1"' not in parent


def test_anonymous_visitors_read_only_the_activation_and_login_articles(db, client, django_assert_num_queries):
    with django_assert_num_queries(0):
        html = client.get("/help/").content.decode()
        assert client.get("/help/activate-account/").status_code == 200
    assert _listed(html, "activate-account") and _listed(html, "log-in")
    assert not _listed(html, "account-security") and not _listed(html, TEACHERS)
    assert client.get(f"/help/{TEACHERS}/").status_code == 404
    assert client.get("/help/account-security/").status_code == 404
    assert client.get("/help/no-such-article/").status_code == 404


def test_the_search_finds_a_ukrainian_word_and_escapes_the_query(world):
    client = client_for(world.teacher)
    html = client.get(SCHOOL, {"q": "ВІДВІДУВАННЯ"}, HTTP_ACCEPT_LANGUAGE="uk").content.decode()
    assert _listed(html, TEACHERS) and "Оцінки й відвідування" in html
    html = client.get(SCHOOL, {"q": "<script>x</script>"}).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    parent = client_for(world.parent).get(SCHOOL, {"q": "grid"}).content.decode()
    assert not _listed(parent, TEACHERS)  # the search looks only at the reader's articles


@pytest.mark.parametrize(
    ("persona", "page", "link"),
    [
        ("parent", "/s/lyceum-1/appeals/reports/", f"{SCHOOL}{PARENTS}/"),
        ("class_teacher", "/s/lyceum-1/appeals/reports/", f"{SCHOOL}{CLASS_TEACHERS}/"),
        ("teacher", "/s/lyceum-1/", SCHOOL),  # no article explains the start page: the index
        ("anonymous", "/accounts/activate/", "/help/activate-account/"),
    ],
)
def test_the_header_links_the_article_of_the_current_page(world, persona, page, link):
    html = client_for(world.persona(persona)).get(page).content.decode()
    assert f'<a class="help-link" href="{link}">' in html


def test_help_pages_run_no_query_beyond_the_session_the_user_and_the_school(world, django_assert_num_queries):
    client = client_for(world.parent)
    client.get("/help/")  # the first request after the login writes the session
    with django_assert_num_queries(1):  # the session with its user (one statement on every page)
        assert client.get("/help/account-security/").status_code == 200
    with django_assert_num_queries(2):  # and the school with the reader's roles in it (one statement)
        assert client.get(f"{SCHOOL}?q=diary").status_code == 200
    with django_assert_num_queries(2):
        assert client.get(f"{SCHOOL}read-diary/").status_code == 200
