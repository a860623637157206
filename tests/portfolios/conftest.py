"""Portfolios on the shared ``world``: a fixed day, files in a temporary media root, and a helper that adds an
entry through the service (shared by the class teacher when asked)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from classbook.access.context import build_context
from classbook.portfolios import services
from classbook.portfolios.models import Entry

NOW = dt.datetime(2026, 10, 7, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 10, 7)


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def ctx_for(world, user):
    return build_context(user, world.school)


def add(world, title, *, student=None, by=None, sharing="family", project=None, upload=None) -> Entry:
    """An entry in ``student``'s (default: world.student's) or ``project``'s portfolio, added by ``by`` (default:
    the student) and shared by the class teacher as ``sharing`` says (family, requested, class, school)."""
    if project is None:
        student = student or world.student
    by = by or (student.user if student is not None else world.class_teacher)
    entry = services.add_entry(
        ctx=ctx_for(world, by), student=student, project=project, kind="work", title=title, day=TODAY
    )
    teacher = ctx_for(world, world.class_teacher)
    if sharing == "requested":
        entry = services.request_sharing(ctx=ctx_for(world, by), entry=entry, audience="school")
    elif sharing in ("class", "school"):
        entry = services.decide_sharing(ctx=teacher, entry=entry, sharing=sharing)
    return entry
