"""An attacker's view of the lesson changes' CSV: a reason typed as a spreadsheet formula is text in the
download the deputy opens, never a formula (CSV injection)."""

from __future__ import annotations

import csv
import io

from django.urls import reverse

from classbook.journal.models import Lesson
from classbook.timetable import services
from tests.timetable.test_pages import timetable  # noqa: F401 - the fixture reused here


def test_a_formula_typed_as_a_reason_is_text_in_the_changes_csv(world, tt, timetable, as_user):  # noqa: F811
    lesson = Lesson.objects.filter(assignment=tt.math).order_by("date")[1]
    services.record_lesson_change(acting_user=world.deputy, lesson=lesson, kind="cancelled", reason="=cmd|'/C calc'!A0")
    url = reverse("timetable:changes_csv", kwargs={"school": world.school.slug})
    exported = as_user(world.deputy).get(url + "?month=2026-09")
    cells = [c for row in csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))) for c in row]
    assert "'=cmd|'/C calc'!A0" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
