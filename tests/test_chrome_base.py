"""The chrome of ``base.html`` kept per key (``{% chrome_head %}``, ``{% chrome_header %}``,
``core/templatetags/chrome.py``, issue 10): the same text as a plain ``{% include %}`` of its template for every
persona, language and page, the request's own CSRF token and address each time, and a new text when the key
changes (the user's name, the page)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import engines
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.html import escape

from classbook.access.context import resolve_school
from classbook.core.templatetags import chrome
from classbook.help.templatetags import help_tags

PERSONAS = ["admin", "director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]
# Kept, then the plain include, in one rendering: both see the same request and the same (masked) CSRF token.
BOTH = (
    "{% load chrome %}{% chrome_head %}\n{% chrome_header %}\n"
    '@@{% include "chrome/head.html" %}{% include "chrome/header.html" %}'
)


def request_for(world, persona: str | None, path: str, school: bool = True):
    request = RequestFactory().get(path)
    user = world.persona(persona) if persona else None
    request.user = user or AnonymousUser()
    request.school_ctx = resolve_school(user, world.school.slug) if user and school else None
    try:
        request.resolver_match = resolve(request.path)
    except Resolver404:
        request.resolver_match = None  # an error page
    return request


def render_both(request) -> tuple[str, str]:
    kept, plain = engines["django"].from_string(BOTH).render(request=request).split("@@")
    return kept, plain


def pages(world) -> list[str]:
    slug = world.school.slug
    return [f"/s/{slug}/", f"/s/{slug}/journal/?class=1&next=%22%3Cb%3E'", f"/s/{slug}/diary/", "/no/such/page/"]


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_the_kept_chrome_is_the_templates_for_every_persona_and_page(world, language):
    chrome._kept.clear()
    with translation.override(language):
        for persona in PERSONAS:
            for path in pages(world):
                for attempt in ("rendered", "kept"):
                    kept, plain = render_both(request_for(world, persona, path))
                    assert kept == plain, (persona, path, attempt)
                    assert 'name="csrfmiddlewaretoken"' in kept and 'name="next"' in kept
            # Signed in, outside a school (the profile): no menu.
            kept, plain = render_both(request_for(world, persona, "/accounts/profile/", school=False))
            assert kept == plain and 'class="menu"' not in kept
        for path in ("/accounts/login/", "/no/such/page/"):  # signed out
            for _attempt in ("rendered", "kept"):
                kept, plain = render_both(request_for(world, None, path, school=False))
                assert kept == plain and "people/logout" not in kept.replace("accounts/logout", "people/logout")


def test_the_token_and_the_address_are_each_requests_own(world):
    chrome._kept.clear()
    slug = world.school.slug
    page = engines["django"].from_string("{% load chrome %}{{ csrf_token }}@@{% chrome_header %}")
    seen = set()
    for path in (f"/s/{slug}/journal/?class=1", f"/s/{slug}/journal/?class=2&x=%22%3Cb%3E'"):
        request = request_for(world, "teacher", path)
        token, header = page.render(request=request).split("@@")
        tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', header))
        assert tokens == {token}  # both forms, the same as the page's
        assert f'name="next" value="{escape(request.get_full_path())}"' in header
        assert "class=2&amp;x=%22%3Cb%3E&#x27;" in header or path.endswith("=1")
        seen.add(token)
    assert len(seen) == 2  # a token masked anew on each request, never kept


def test_a_new_name_or_another_page_is_another_header(world):
    chrome._kept.clear()
    path = f"/s/{world.school.slug}/"
    with translation.override("uk"):
        before, _ = render_both(request_for(world, "teacher", path))
        world.teacher.last_name = "Новоім'я"
        world.teacher.save(update_fields=["last_name"])
        kept, plain = render_both(request_for(world, "teacher", path))
        assert kept == plain != before
        assert world.teacher.short_name in kept.replace("&#x27;", "'")
        # The help link follows the page (its view's name is in the key).
        grid, grid_plain = render_both(request_for(world, "teacher", f"/s/{world.school.slug}/journal/"))
        assert grid == grid_plain


@pytest.mark.parametrize("language", ["uk", "en"])
def test_the_kept_help_link_is_the_articles_for_every_persona_and_page(world, language):
    help_tags._links.clear()
    slug = world.school.slug
    paths = [*pages(world), f"/s/{slug}/journal/{world.class_a.pk}/", f"/s/{slug}/reports/", "/accounts/login/"]
    linked = set()
    with translation.override(language):
        for persona in [*PERSONAS, None]:
            for path in paths:
                request = request_for(world, persona, path, school=persona is not None and path.startswith("/s/"))
                view_name = request.resolver_match.view_name if request.resolver_match else ""
                expected = help_tags.help_url(view_name, request.school_ctx, persona is not None)
                for _attempt in ("rendered", "kept"):
                    link = help_tags.help_link({"request": request, "ctx": request.school_ctx})
                    assert f'href="{expected}"' in link, (persona, path)
                linked.add(expected)
    assert len(linked) > 3  # articles, not only the index


def test_without_a_request_the_parts_are_plain_includes():
    chrome._kept.clear()
    with translation.override("en"):
        kept, plain = engines["django"].from_string(BOTH).render({}).split("@@")
    assert kept == plain
    assert "csrfmiddlewaretoken" not in kept  # no token to show, as the template renders it without a request
    assert not chrome._kept or all(key[0] != "chrome/header.html" for key in chrome._kept)


def test_the_kept_parts_are_bounded(world, monkeypatch):
    monkeypatch.setattr(chrome._kept, "size", 3)
    chrome._kept.clear()
    for persona in ("admin", "teacher", "parent", "student"):
        render_both(request_for(world, persona, f"/s/{world.school.slug}/"))
    assert len(chrome._kept) <= 3
