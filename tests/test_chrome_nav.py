"""The navigation rendered once per context (``core/templatetags/chrome.py``, issue 10): the same text as the
template renders for every persona and language, and a new text when the context changes."""

from __future__ import annotations

import dataclasses

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from classbook.access.context import resolve_school
from classbook.core.templatetags import chrome

PERSONAS = ["admin", "director", "deputy", "secretary", "teacher", "class_teacher", "student", "parent", "viewer"]


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_the_kept_navigation_is_the_templates_for_every_persona(world, language):
    chrome._kept.clear()
    with translation.override(language):
        for persona in PERSONAS:
            ctx = resolve_school(world.persona(persona), world.school.slug)
            expected = render_to_string("_nav.html", {"ctx": ctx})
            assert chrome.site_nav({"ctx": ctx}) == expected, persona  # rendered
            assert chrome.site_nav({"ctx": ctx}) == expected, persona  # kept
        assert chrome.site_nav({"ctx": None}) == render_to_string("_nav.html", {"ctx": None})


def test_another_context_or_language_is_another_navigation(world):
    chrome._kept.clear()
    ctx = resolve_school(world.teacher, world.school.slug)
    with translation.override("uk"):
        teacher = chrome.site_nav({"ctx": ctx})
        # The same user as a class teacher now (a new context on the next request): the link to absences shows.
        homeroom = dataclasses.replace(ctx, homeroom_class_ids=frozenset({world.class_a.pk}))
        assert chrome.nav_key(homeroom) != chrome.nav_key(ctx)
        assert chrome.site_nav({"ctx": homeroom}) == render_to_string("_nav.html", {"ctx": homeroom}) != teacher
    with translation.override("en"):
        assert chrome.site_nav({"ctx": ctx}) == render_to_string("_nav.html", {"ctx": ctx}) != teacher


def test_the_kept_navigations_are_bounded(world, monkeypatch):
    monkeypatch.setattr(chrome._kept, "size", 2)
    chrome._kept.clear()
    for persona in ("admin", "teacher", "parent"):
        chrome.site_nav({"ctx": resolve_school(world.persona(persona), world.school.slug)})
    assert len(chrome._kept) <= 2
