"""The error pages (400, 403, 404, 413, 429, 500) are in the site's layout and the reader's language, and a page
that is not open to the user reads exactly as a page that does not exist (issue 14, core/http_errors.py)."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.utils import translation

from classbook.core import http_errors
from tests.conftest import client_for

NOT_FOUND = {"en": "Page not found", "uk": "Сторінку не знайдено", "ru": "Страница не найдена"}


def _main(html: str) -> str:
    return re.search(r"<main.*?</main>", html, re.S).group(0)


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_refused_and_missing_pages_look_the_same_in_every_language(world, language):
    client = client_for(world.other_parent)
    client.cookies["django_language"] = language
    refused = client.get(f"/s/{world.school.slug}/diary/{world.student.pk}/", HTTP_ACCEPT_LANGUAGE=language)
    missing = client.get(f"/s/{world.school.slug}/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert refused.status_code in (403, 404) and missing.status_code == 404
    refused_html, missing_html = refused.content.decode(), missing.content.decode()
    assert _main(refused_html) == _main(missing_html)
    assert f'lang="{language}"' in missing_html and 'class="topbar"' in missing_html and 'href="#main"' in missing_html
    assert NOT_FOUND[language] in missing_html


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
@pytest.mark.parametrize(
    "problem",
    [
        http_errors.Problem(400, "bad_request", "x"),
        http_errors.too_large(),
        http_errors.too_many_requests(),
        http_errors.Problem(403, "csrf_failed", "x"),
    ],
    ids=lambda p: str(p.status) + p.code,
)
def test_the_other_error_pages_are_in_the_layout_and_the_language(rf: RequestFactory, language, problem):
    request = rf.get("/somewhere/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with translation.override(language):
        response = http_errors.answer(request, problem)
        server = http_errors.server_error(request)
    html = response.content.decode()
    assert response.status_code == problem.status
    assert f'lang="{language}"' in html and 'class="topbar"' in html and "<h1>" in html
    assert server.status_code == 500 and f'lang="{language}"' in server.content.decode()
    if language != "en":  # the page's own words are translated (the English source is not in the page)
        assert "To the start page" not in html
