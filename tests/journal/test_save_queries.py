"""One cell save is a handful of round trips (issue 3: ≥ 500 saves/s on two CPUs).

Counted without SAVEPOINT/RELEASE statements: the test transaction turns ``atomic`` into savepoints
that a request in autocommit mode does not send (it sends BEGIN and COMMIT).
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import DataError, connection
from django.db.models.signals import post_save, pre_save
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


# The cell service alone (issue 10): at most 5 statements for any save.
SERVICE_TARGET = 5


@time_machine.travel(IN_TIME)
def test_saving_a_mark_costs_a_fixed_number_of_statements_with_its_audit_row(world, journal):
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
    # A new mark: the checks with the cell (mark, attendance and the scale's values), the write and the audit
    # row (one statement on PostgreSQL, two on SQLite: services._sql). A changed mark on PostgreSQL: all of it
    # in one statement (``cells._one_statement_mark``; the journal was read by the first save).
    pg = connection.vendor == "postgresql"
    assert len(_statements(first)) == (2 if pg else 3), _statements(first)
    assert len(_statements(second)) == (1 if pg else 3), _statements(second)
    assert max(len(_statements(first)), len(_statements(second))) <= SERVICE_TARGET
    # A new cell takes no savepoint of its own (a concurrent insert is ON CONFLICT DO NOTHING, not a caught
    # IntegrityError): the only one is record_mark's atomic block inside the test's transaction.
    savepoints = [q["sql"] for q in first.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) <= 1, savepoints


@time_machine.travel(IN_TIME)
def test_saving_attendance_costs_a_fixed_number_of_statements_with_its_audit_row(world, journal):
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
    # the checks with the cell, the code (not for "present"), the write and the audit row (one statement on
    # PostgreSQL, two on SQLite), the register taken (the first time only)
    pg = connection.vendor == "postgresql"
    assert len(_statements(first)) == (4 if pg else 5), _statements(first)
    assert len(_statements(second)) == (2 if pg else 3), _statements(second)
    assert len(_statements(first)) <= SERVICE_TARGET


@time_machine.travel(IN_TIME)
def test_the_audit_row_is_saved_as_model_save_saves_it(world, journal):
    """The precompiled write sends the audit row's pre_save/post_save (the diary's cache listens) as save() does."""
    seen: list[tuple[str, int | None, bool]] = []

    def before(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("pre", instance.pk, instance._state.adding))

    def after(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("post", instance.pk, created))

    pre_save.connect(before, sender=JournalChange, dispatch_uid="test-before")
    post_save.connect(after, sender=JournalChange, dispatch_uid="test-after")
    try:
        mark = services.record_mark(
            acting_user=world.teacher,
            lesson=_fresh(journal.lesson),
            student=world.student,
            text="7",
            expected_version=0,
        )
        services.record_mark(
            acting_user=world.teacher,
            lesson=_fresh(journal.lesson),
            student=world.student,
            text="8",
            expected_version=mark.version,
            reason="typo",
        )
    finally:
        pre_save.disconnect(sender=JournalChange, dispatch_uid="test-before")
        post_save.disconnect(sender=JournalChange, dispatch_uid="test-after")
    changes = list(JournalChange.objects.filter(kind="mark").order_by("id"))
    assert seen == [
        ("pre", None, True),
        ("post", changes[0].pk, True),
        ("pre", None, True),
        ("post", changes[1].pk, True),
    ]
    second = changes[1]
    assert (second.object_id, second.old_value, second.new_value, second.reason) == (mark.pk, "7", "8", "typo")
    assert (second.actor_id, second.student_id, second.lesson_id) == (
        world.teacher.pk,
        world.student.pk,
        journal.lesson.pk,
    )
    assert second.at is not None and second.assignment_id == journal.lesson.assignment_id


@time_machine.travel(IN_TIME)
def test_a_replace_writes_both_audit_rows_in_order_within_the_service_target(world, journal):
    """An absence replacing a mark: the cleared mark's audit row, then the absence's, each with its signals and
    its id; on SQLite both rows go in one INSERT at the end of the write (``_sql.audits_together``)."""
    mark = services.record_mark(
        acting_user=world.teacher, lesson=_fresh(journal.lesson), student=world.student, text="9", expected_version=0
    )
    seen: list[tuple[str, int | None, str]] = []

    def before(sender, instance, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("pre", instance.pk, instance.kind))

    def after(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("post", instance.pk, instance.kind))

    pre_save.connect(before, sender=JournalChange, dispatch_uid="test-before")
    post_save.connect(after, sender=JournalChange, dispatch_uid="test-after")
    try:
        lesson = _fresh(journal.lesson)
        with CaptureQueriesContext(connection) as captured:
            cell = services.write_lesson_cell(
                acting_user=world.teacher,
                lesson=lesson,
                student=world.student,
                text="н",
                mark_version=mark.version,
                attendance_version=0,
                replace=True,
            )
    finally:
        pre_save.disconnect(sender=JournalChange, dispatch_uid="test-before")
        post_save.disconnect(sender=JournalChange, dispatch_uid="test-after")
    changes = list(
        JournalChange.objects.filter(lesson_id=journal.lesson.pk, kind__in=["mark", "attendance"])
        .order_by("id")
        .values_list("pk", "kind", "object_id", "old_value", "new_value")
    )
    assert [c[1:] for c in changes] == [
        ("mark", mark.pk, "", "9"),
        ("mark", mark.pk, "9", ""),
        ("attendance", cell.attendance.pk, "", "н"),
    ]
    assert [s for s in seen if s[0] == "post"] == [
        ("post", changes[1][0], "mark"),
        ("post", changes[2][0], "attendance"),
    ]
    assert [s for s in seen if s[0] == "pre"] == [("pre", None, "mark"), ("pre", None, "attendance")]
    assert cell.value == "н" and cell.version == "2.1"
    # the grid's service: the cell's query (with the typed code), the mark cleared, the absence written, their
    # audit rows (within those two writes on PostgreSQL, one INSERT after them on SQLite), the register taken
    assert len(_statements(captured)) == (4 if connection.vendor == "postgresql" else 5), _statements(captured)
    assert len(_statements(captured)) <= SERVICE_TARGET


@pytest.mark.postgres_only
@time_machine.travel(IN_TIME)
def test_a_too_long_audit_value_is_refused_not_cut(world, journal):
    """The one-statement write casts the audit row's text as ``text``: the column refuses a too long reason."""
    with pytest.raises(DataError):
        services.record_mark(
            acting_user=world.teacher,
            lesson=_fresh(journal.lesson),
            student=world.student,
            text="9",
            expected_version=0,
            reason="x" * 501,
        )


def _post(client, world, journal, value, version, **extra):
    return client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        {"kind": "lesson", "lesson": journal.lesson.pk, "student": world.student.pk, "value": value, "version": version}
        | extra,
        HTTP_ACCEPT="application/json",
    )


# The HTTP save (issue 10), counted as the service's test counts (without SAVEPOINT/RELEASE; a request
# sends BEGIN/COMMIT around the write): the session with its user (1, ``people.sessions``), the school with
# the user's context in it (1, ``access.context.resolve_school``), the lesson with its journal and the cell
# with the scale's values (1: ``write_grid_lesson_cell`` reads the lesson in the cell's query), the write
# with its audit row, which is also the notification's outbox entry (one statement on PostgreSQL, two on
# SQLite; +1 the first time a register is taken), the student's count and average (1). The cell is not
# read again for the answer: the service returns what it wrote. Before issue 10: 22; before the outbox and
# the one-statement session: 11 / 12; before the scale's values came with the cell's query: 7 / 8; before
# the lesson came with it: 6 / 7 (a replace 8 / 10, 9 on SQLite with its audit rows in one INSERT).
HTTP_TARGET = 8


def _http_counts() -> tuple[int, int, int]:
    """(a mark, an absence, an absence replacing a mark) on this database."""
    if connection.vendor == "postgresql":
        return 5, 5, 7
    # SQLite has no data-modifying WITH: each write and its audit row are two statements; an absence
    # replacing a mark writes the cleared mark and the absence, then both audit rows in one INSERT
    # (``_sql.audits_together``), then takes the register.
    return 6, 6, 8


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
    http_mark, http_attendance, http_replace = _http_counts()
    world.student = f.make_student(world.class_a)
    with CaptureQueriesContext(connection) as captured:
        assert _post(client, world, journal, "н", "0.0").json()["version"] == "0.1"
    assert [*counts[:3], len(_statements(captured))] == [http_mark, http_mark, http_replace, http_attendance], (
        counts,
        _statements(captured),
    )
    assert max(http_mark, http_attendance, http_replace) <= HTTP_TARGET
