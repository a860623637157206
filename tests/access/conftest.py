"""Helpers for the access tests: a persona's context in a school, and row names for readable tables."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from classbook.access.context import SchoolContext, resolve_school


@pytest.fixture
def ctx_of(world):
    """``ctx_of("parent")`` -> the parent's context in ``world.school`` (or ``school=world.other_school``)."""

    def build(persona: str, school=None) -> SchoolContext:
        user = world.persona(persona) or AnonymousUser()
        return resolve_school(user, (school or world.school).slug)

    return build


@pytest.fixture(autouse=True, scope="session")
def static_root_exists():
    """WhiteNoise warns (an error here) when STATIC_ROOT is missing, as on a fresh checkout before collectstatic."""
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
