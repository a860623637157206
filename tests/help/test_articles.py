"""The help articles (R9.4): every file parses, the three languages hold the same articles, every page an article
names exists, and search finds words whatever their case. Pure functions: no database."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

from classbook.access.help import AUDIENCES
from classbook.help import queries

pytestmark = pytest.mark.engine_agnostic


def _url_names(patterns: list, namespace: str = "") -> set[str]:
    names = set()
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names |= _url_names(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            names.add(f"{namespace}{p.name}")
    return names


def test_every_language_holds_the_same_articles_with_the_same_roles_and_pages():
    library = queries.library()
    assert set(library) == {code for code, _name in settings.LANGUAGES}
    english = library["en"]
    assert len(english) >= 10
    for code, articles in library.items():
        assert set(articles) == set(english), code
        for slug, article in articles.items():
            assert article.title and "<ol>" in article.body, (code, slug)
            assert article.audiences == english[slug].audiences, (code, slug)
            assert article.pages == english[slug].pages, (code, slug)
    covered = set().union(*(a.audiences for a in english.values()))
    assert {"public", "teacher", "class_teacher", "director", "deputy", "parent", "student", "admin"} <= covered
    assert covered <= set(AUDIENCES)


def test_every_page_an_article_names_exists():
    known = _url_names(get_resolver().url_patterns)
    named = {name for a in queries.library()["en"].values() for name in a.pages}
    assert named and named <= known, named - known


def test_a_broken_front_matter_is_refused(tmp_path):
    path = tmp_path / "broken.html"
    path.write_text("---\ntitle: X\nroles: janitor\n---\n<p>x</p>", encoding="utf-8")
    with pytest.raises(queries.ArticleError, match="roles"):
        queries.parse_article(path, "en")
    path.write_text("<p>no front matter</p>", encoding="utf-8")
    with pytest.raises(queries.ArticleError, match="front matter"):
        queries.parse_article(path, "en")


@pytest.mark.parametrize(
    ("language", "query", "expected"),
    [
        ("uk", "ОЦІНКИ сітці", "marks-and-attendance"),  # another case, two words of the body and the title
        ("uk", "довідка", "report-absence"),
        ("ru", "ЗАВЕРЕННАЯ копия", "print-journal"),
        ("ru", "учётной", "activate-account"),
        ("ru", "учетной", "activate-account"),  # ё written as е
        ("en", "Certified", "print-journal"),
    ],
)
def test_search_finds_words_in_the_current_language_whatever_their_case(language, query, expected):
    with translation.override(language):
        found = [a.slug for a in queries.search(query, queries.articles())]
    assert expected in found


def test_search_answers_nothing_for_a_word_of_another_language_or_an_empty_query():
    with translation.override("en"):
        assert queries.search("оцінки", queries.articles()) == []
        assert queries.search("   ", queries.articles()) == []
