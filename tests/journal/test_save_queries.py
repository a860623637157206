"""One cell save is a handful of round trips (issue 3: ≥ 500 saves/s on two CPUs).

Counted without SAVEPOINT/RELEASE statements: the test transaction turns ``atomic`` into savepoints
that a request in autocommit mode does not send (it sends BEGIN and COMMIT).
"""

from __future__ import annotations

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from classbook.journal import services
from classbook.journal.models import JournalChange, Lesson
from tests import factories as f
from tests.journal.conftest import IN_TIME


def _fresh(lesson: Lesson) -> Lesson:
    # As the page's endpoint gets it: from the scoped queryset, assignment and school joined.
    return Lesson.objects.select_related("assignment", "school").get(pk=lesson.pk)


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


@time_machine.travel(IN_TIME)
def test_saving_a_mark_costs_four_queries_with_its_audit_row(world, journal):
    lesson = _fresh(journal.lesson)
    with CaptureQueriesContext(connection) as first:
        mark = services.record_mark(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="10", expected_version=0
        )
    lesson = _fresh(journal.lesson)
    with CaptureQueriesContext(connection) as second:
        mark = services.record_mark(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="11", expected_version=mark.version
        )
    assert mark.version == 2
    assert list(JournalChange.objects.filter(kind="mark").order_by("id").values_list("old_value", "new_value")) == [
        ("", "10"),
        ("10", "11"),
    ]
    # the checks with the cell (mark and attendance), the scale's values, the write, the audit row
    assert len(_statements(first)) == 4, _statements(first)
    assert len(_statements(second)) == 4, _statements(second)


@time_machine.travel(IN_TIME)
def test_saving_attendance_costs_at_most_six_queries_with_its_audit_row(world, journal):
    lesson = _fresh(journal.lesson)
    with CaptureQueriesContext(connection) as first:
        row = services.record_attendance(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="н", expected_version=0
        )
    lesson = _fresh(journal.lesson)
    with CaptureQueriesContext(connection) as second:
        row = services.record_attendance(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="", expected_version=row.version
        )
    assert row.version == 2 and row.code is None
    assert JournalChange.objects.filter(kind="attendance").count() == 2
    # checks, the code, the cell, the write, the audit row (+ the register taken, the first time)
    assert len(_statements(first)) <= 6, _statements(first)
    assert len(_statements(second)) <= 5, _statements(second)


def _post(client, world, journal, value, version, **extra):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {"kind": "lesson", "lesson": journal.lesson.pk, "student": world.student.pk, "value": value, "version": version}
        | extra,
        HTTP_ACCEPT="application/json",
    )


# The HTTP save (issue 10), counted as the service's test counts (without SAVEPOINT/RELEASE; a request
# sends BEGIN/COMMIT around the write, and the first write of a cell a SAVEPOINT pair around its INSERT):
# the session, its user, the school and the user's roles (4: the access context every page pays), the
# lesson with its journal (1), the service (the cell's query, the scale's values for a mark, the write,
# the audit row: 3-4, +1 the first time a register is taken), the student's count and average (3).
# The cell is not read again for the answer: the service returns what it wrote. Before: 22.
HTTP_MARK = 12
HTTP_ATTENDANCE = 11  # no scale (the register was taken by the replace above; +1 the first time)
HTTP_REPLACE = 15  # no scale; the marks read, the cleared mark and its audit row, the register taken


@time_machine.travel(IN_TIME)
def test_an_http_save_of_a_mark_or_an_absence_costs_a_fixed_number_of_statements(world, journal, as_user):
    client = as_user(world.teacher)
    client.get("/")  # the session exists
    counts = []
    for value, version, extra, expected in [
        ("10", "0.0", {}, "1.0"),
        ("11", "1.0", {}, "2.0"),
        ("н", "2.0", {"replace": "1"}, "3.1"),
        ("", "3.1", {}, "3.2"),
    ]:
        with CaptureQueriesContext(connection) as captured:
            response = _post(client, world, journal, value, version, **extra)
        assert response.status_code == 200 and response.json()["version"] == expected, response.content
        counts.append(len(_statements(captured)))
    assert counts[:3] == [HTTP_MARK, HTTP_MARK, HTTP_REPLACE], counts
    world.student = f.make_student(world.class_a)
    with CaptureQueriesContext(connection) as captured:
        assert _post(client, world, journal, "н", "0.0").json()["version"] == "0.1"
    assert len(_statements(captured)) == HTTP_ATTENDANCE, _statements(captured)
