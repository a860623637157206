"""Issue 10: the reason of an absence is under the period lock like the absence itself (R2.7).

Once the student's period grade is set, the reason of an absence of that period is refused through every
door that writes one: the journal's service, the class teacher's page (several at once), the API, and an
accepted parent report (which leaves the closed absence without its reason and applies to the others).
And the grid asks before saving a grade that locks, thematic ones too.
"""

from __future__ import annotations

import json
import re

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from classbook.appeals import services as appeals
from classbook.appeals.models import AbsenceReport
from classbook.core.errors import DomainError
from classbook.journal import services
from classbook.journal.models import Attendance, GradeKind, JournalChange
from tests.journal.conftest import GRADES_DAY, IN_TIME


@pytest.fixture
def closed(world, journal):
    """An absence in the semester, then the semester grade of that student: the period is closed."""
    with time_machine.travel(IN_TIME):
        row = services.record_attendance(
            acting_user=world.teacher, lesson=journal.lesson, student=world.student, text="н", expected_version=0
        )
    with time_machine.travel(GRADES_DAY):
        services.record_period_grade(
            acting_user=world.teacher,
            assignment=journal.assignment,
            student=world.student,
            period=journal.semester,
            kind=GradeKind.PERIOD,
            text="9",
            expected_version=0,
        )
    return row


def _untouched(row: Attendance) -> None:
    row.refresh_from_db()
    assert (row.reason, row.reason_excused, row.version) == ("", False, 1)
    assert not JournalChange.objects.filter(kind="absence_reason").exists()


@time_machine.travel(GRADES_DAY)
def test_the_service_refuses_a_reason_in_a_closed_period(world, closed):
    with pytest.raises(DomainError) as err:
        services.record_absence_reason(
            acting_user=world.class_teacher, attendance=closed, reason="Хворів", expected_version=1, excused=True
        )
    assert err.value.code == "period_closed"
    _untouched(closed)


@time_machine.travel(GRADES_DAY)
def test_the_class_teachers_reasons_are_refused_all_or_nothing(world, closed):
    with pytest.raises(DomainError) as err:
        appeals.record_absence_reasons(
            acting_user=world.class_teacher, absences=[(closed, 1)], kind="illness", text="Хворів", excused=True
        )
    assert err.value.code == "period_closed"
    _untouched(closed)


@time_machine.travel(GRADES_DAY)
def test_the_class_teachers_page_says_so_and_writes_nothing(world, closed, as_user):
    client = as_user(world.class_teacher)
    response = client.post(
        reverse("appeals:record_reasons", args=[world.school.slug]),
        {
            "class": world.class_a.pk,
            "absence": [f"{closed.pk}:1"],
            "kind": "illness",
            "reason": "Хворів",
            "excused": "on",
            "from": "2026-10-05",
            "to": "2026-10-05",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert any("period grade" in str(m) for m in response.context["messages"])
    _untouched(closed)


@time_machine.travel(GRADES_DAY)
def test_the_api_refuses_with_period_closed(world, closed, as_user):
    client = as_user(world.class_teacher)
    response = client.put(
        f"/api/v1/schools/{world.school.slug}/journal/attendance/{closed.pk}/reason",
        data=json.dumps({"reason": "Хворів", "expected_version": 1, "excused": True}),
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "period_closed"
    _untouched(closed)


@time_machine.travel(GRADES_DAY)
def test_an_accepted_report_leaves_a_closed_absence_without_its_reason(world, closed):
    report = AbsenceReport.objects.create(
        school=world.school,
        student=world.student,
        reported_by=world.parent,
        start=closed.lesson.date,
        end=closed.lesson.date,
        kind="illness",
        text="Хворів",
    )
    decided = appeals.decide_absence_report(acting_user=world.class_teacher, report=report, accept=True)
    assert decided.status == "accepted" and decided.applied_count == 0
    _untouched(closed)


def test_the_grid_asks_before_saving_every_kind_of_grade_that_locks():
    """``record_period_grade`` locks every kind the grid types (thematic, period, annual, exam): the grid's
    script confirms each before its first save (the corrected grade is never typed in the grid)."""
    script = (settings.BASE_DIR / "classbook/static/classbook/journal-grid.js").read_text()
    found = re.search(r"var LOCKING = \{([^}]*)\}", script)
    assert found
    kinds = set(re.findall(r"(\w+):", found.group(1)))
    assert kinds == set(GradeKind.values) - {GradeKind.CORRECTED}
