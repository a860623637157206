"""Who may do what in the journal, as tables that try to break the rules (R1.4, R2.7-R2.9, R6.10).

Every journal action for every persona, through the services and through the API; a refused
action changes nothing (no row, no version, no audit entry).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from classbook.core.errors import PermissionDeniedError
from classbook.core.models import AuditEntry
from classbook.journal import services
from classbook.journal.models import (
    Attendance,
    GradeCorrection,
    GradeKind,
    JournalChange,
    Lesson,
    Mark,
    PeriodGrade,
    Remark,
)
from tests import factories as f
from tests.journal.conftest import IN_TIME

pytestmark = pytest.mark.django_db

# Late December: the lesson (5 October) is in the past, the correction window of a grade set today is open.
NOW = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)

PERSONAS = [
    "teacher",
    "other_teacher",
    "class_teacher",
    "deputy",
    "director",
    "admin",
    "secretary",
    "viewer",
    "student",
    "parent",
    "foreign_teacher",
    "foreign_admin",
    "anonymous",
]


class Setup:
    """A lesson with an absence to explain, a semester grade to correct and an open remark to fix."""

    def __init__(self, world: Any, journal: Any) -> None:
        self.world = world
        self.journal = journal
        self.lesson = journal.lesson
        self.absent = f.make_student(world.class_a)
        with time_machine.travel(IN_TIME):
            self.absence = services.record_attendance(
                acting_user=world.teacher, lesson=self.lesson, student=self.absent, text="н", expected_version=0
            )
            self.unregistered = services.create_lesson(
                acting_user=world.teacher, assignment=journal.assignment, date=dt.date(2026, 10, 2)
            )
        self.lesson.refresh_from_db()
        with time_machine.travel(NOW):
            self.grade = services.record_period_grade(
                acting_user=world.teacher,
                assignment=journal.assignment,
                student=world.student,
                period=journal.semester2,
                kind=GradeKind.PERIOD,
                text="9",
                expected_version=0,
            )
            self.remark = services.add_remark(
                acting_user=world.deputy, assignment=journal.assignment, text="Не записано тему"
            )


@pytest.fixture
def setup(world, journal) -> Setup:
    return Setup(world, journal)


def snapshot() -> dict[str, Any]:
    return {
        "marks": list(Mark.objects.values_list("pk", "version")),
        "attendance": list(Attendance.objects.values_list("pk", "version", "code_id", "reason")),
        "lessons": list(Lesson.objects.values_list("pk", "version", "topic", "register_taken_at")),
        "grades": list(PeriodGrade.objects.values_list("pk", "version", "value_id")),
        "corrections": GradeCorrection.objects.count(),
        "remarks": list(Remark.objects.values_list("pk", "fixed_at")),
        "changes": JournalChange.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


# --- Services ---------------------------------------------------------------------------


SERVICE_ACTIONS: dict[str, tuple[Callable[[Any, Setup], Any], set[str]]] = {
    "record_mark": (
        lambda u, s: services.record_mark(
            acting_user=u, lesson=s.lesson, student=s.world.student, text="10", expected_version=0
        ),
        {"teacher"},
    ),
    "record_attendance": (
        lambda u, s: services.record_attendance(
            acting_user=u, lesson=s.lesson, student=s.world.student, text="н", expected_version=0
        ),
        {"teacher"},
    ),
    "take_register": (lambda u, s: services.take_register(acting_user=u, lesson=s.unregistered), {"teacher"}),
    "update_lesson": (
        lambda u, s: services.update_lesson(
            acting_user=u, lesson_id=s.lesson.pk, expected_version=s.lesson.version, topic="Дроби"
        ),
        {"teacher"},
    ),
    "create_lesson": (
        lambda u, s: services.create_lesson(acting_user=u, assignment=s.journal.assignment, date=dt.date(2026, 10, 6)),
        {"teacher"},
    ),
    "bulk": (
        lambda u, s: services.record_lesson_bulk(
            acting_user=u, lesson=s.lesson, marks=[{"student": s.world.student.pk, "text": "8", "expected_version": 0}]
        ),
        {"teacher"},
    ),
    "record_period_grade": (
        lambda u, s: services.record_period_grade(
            acting_user=u,
            assignment=s.journal.assignment,
            student=s.world.student,
            period=s.journal.semester,
            kind=GradeKind.THEMATIC,
            text="10",
            expected_version=0,
            ordinal=1,
        ),
        {"teacher"},
    ),
    "correct_period_grade": (
        lambda u, s: services.correct_period_grade(
            acting_user=u, grade=s.grade, text="10", reason="Заява", order_ref="Наказ № 3"
        ),
        {"deputy", "director"},
    ),
    "record_absence_reason": (
        lambda u, s: services.record_absence_reason(
            acting_user=u, attendance=s.absence, reason="Хворів", expected_version=s.absence.version
        ),
        {"class_teacher"},
    ),
    "add_remark": (
        lambda u, s: services.add_remark(acting_user=u, assignment=s.journal.assignment, text="Перевірте оцінки"),
        {"deputy", "director", "admin"},
    ),
    "fix_remark": (lambda u, s: services.fix_remark(acting_user=u, remark=s.remark), {"teacher"}),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(SERVICE_ACTIONS))
def test_service_permission_matrix(world, setup, action, persona):
    call, allowed = SERVICE_ACTIONS[action]
    user = world.persona(persona) or AnonymousUser()
    before = snapshot()
    with time_machine.travel(NOW):
        if persona in allowed:
            call(user, setup)
            assert snapshot() != before
        else:
            with pytest.raises(PermissionDeniedError):
                call(user, setup)
            assert snapshot() == before


# --- API ------------------------------------------------------------------------------------

READERS = {"teacher", "class_teacher", "deputy", "director", "admin", "viewer"}
# Members of the school who may not open this journal: it does not exist for them.
HIDDEN = {"other_teacher", "secretary", "student", "parent"}


def expected(persona: str, allowed: set[str], ok: int) -> int:
    if persona == "anonymous":
        return 401
    if persona in allowed:
        return ok
    if persona in READERS:
        return 403
    if persona in ("student", "parent"):
        return 403  # the journal API is closed to them, as the pages (access.journal.may_open_journals)
    return 404  # other school, or a journal the persona may not open


def api(s: Setup, path: str) -> str:
    return f"/api/v1/schools/{s.world.school.slug}/journal{path}"


API_ACTIONS: dict[str, tuple[str, Callable[[Setup], str], Callable[[Setup], dict[str, Any]], set[str], int]] = {
    "grid": (
        "get",
        lambda s: api(s, f"/assignments/{s.journal.assignment.pk}/grid?period={s.journal.semester.pk}"),
        dict,
        READERS,
        200,
    ),
    "history": (
        "get",
        lambda s: api(s, f"/lessons/{s.lesson.pk}/history?student={s.absent.pk}"),
        lambda s: {},
        READERS,
        200,
    ),
    "put_mark": (
        "put",
        lambda s: api(s, f"/lessons/{s.lesson.pk}/marks"),
        lambda s: {"student": s.world.student.pk, "text": "10", "expected_version": 0},
        {"teacher"},
        200,
    ),
    "put_attendance": (
        "put",
        lambda s: api(s, f"/lessons/{s.lesson.pk}/attendance"),
        lambda s: {"student": s.world.student.pk, "text": "н", "expected_version": 0},
        {"teacher"},
        200,
    ),
    "patch_lesson": (
        "patch",
        lambda s: api(s, f"/lessons/{s.lesson.pk}"),
        lambda s: {"expected_version": s.lesson.version, "topic": "Дроби"},
        {"teacher"},
        200,
    ),
    "create_lesson": (
        "post",
        lambda s: api(s, f"/assignments/{s.journal.assignment.pk}/lessons"),
        lambda s: {"date": "2026-10-06"},
        {"teacher"},
        201,
    ),
    "register": ("post", lambda s: api(s, f"/lessons/{s.unregistered.pk}/register"), lambda s: {}, {"teacher"}, 200),
    "bulk": (
        "post",
        lambda s: api(s, f"/lessons/{s.lesson.pk}/bulk"),
        lambda s: {"marks": [{"student": s.world.student.pk, "text": "8", "expected_version": 0}]},
        {"teacher"},
        200,
    ),
    "period_grade": (
        "put",
        lambda s: api(s, f"/assignments/{s.journal.assignment.pk}/period-grades"),
        lambda s: {
            "student": s.world.student.pk,
            "period": s.journal.semester.pk,
            "kind": "thematic",
            "ordinal": 1,
            "text": "10",
            "expected_version": 0,
        },
        {"teacher"},
        200,
    ),
    "correction": (
        "post",
        lambda s: api(s, f"/period-grades/{s.grade.pk}/correction"),
        lambda s: {"text": "10", "reason": "Заява", "order_ref": "Наказ № 3"},
        {"deputy", "director"},
        201,
    ),
    "absence_reason": (
        "put",
        lambda s: api(s, f"/attendance/{s.absence.pk}/reason"),
        lambda s: {"reason": "Хворів", "expected_version": s.absence.version},
        {"class_teacher"},
        200,
    ),
    "add_remark": (
        "post",
        lambda s: api(s, f"/assignments/{s.journal.assignment.pk}/remarks"),
        lambda s: {"text": "Перевірте оцінки", "lesson": s.lesson.pk},
        {"deputy", "director", "admin"},
        201,
    ),
    "fix_remark": ("post", lambda s: api(s, f"/remarks/{s.remark.pk}/fix"), lambda s: {}, {"teacher"}, 200),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", list(API_ACTIONS))
def test_api_permission_matrix(world, setup, as_user, action, persona):
    method, path, body, allowed, ok = API_ACTIONS[action]
    before = snapshot()
    with time_machine.travel(NOW):
        client = as_user(world.persona(persona))  # the session must not have expired at NOW
        if method == "get":
            res = client.get(path(setup))
        else:
            res = getattr(client, method)(path(setup), data=json.dumps(body(setup)), content_type="application/json")
    assert res.status_code == expected(persona, allowed, ok), res.content
    if res.status_code >= 400:
        assert "error" in res.json()
    if method == "get" or res.status_code >= 400:
        assert snapshot() == before
    else:
        assert snapshot() != before


VISIBLE = {
    "teacher": {"a"},
    "other_teacher": {"b"},
    "class_teacher": {"a"},
    "deputy": {"a", "b"},
    "director": {"a", "b"},
    "admin": {"a", "b"},
    "viewer": {"a", "b"},
    "secretary": set(),
    "student": set(),
    "parent": set(),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_lists_only_the_journals_a_persona_may_open(world, journal, as_user, persona):
    res = as_user(world.persona(persona)).get(f"/api/v1/schools/{world.school.slug}/journal/assignments")
    if persona == "anonymous":
        assert res.status_code == 401
        return
    if persona.startswith("foreign"):
        assert res.status_code == 404
        return
    if persona in ("student", "parent"):  # as the journal pages (access.journal.may_open_journals)
        assert res.status_code == 403
        return
    ids = {journal.assignment.pk: "a", journal.other_assignment.pk: "b"}
    assert {ids[a["id"]] for a in res.json()["items"]} == VISIBLE[persona]
    assert all(a["can_edit"] == (persona == "teacher") for a in res.json()["items"] if ids[a["id"]] == "a")


@pytest.mark.parametrize(
    ("persona", "visible"),
    [("teacher", True), ("class_teacher", True), ("deputy", True), ("viewer", True), ("other_teacher", False)],
)
def test_remarks_are_listed_only_on_journals_the_persona_opens(world, setup, as_user, persona, visible):
    res = as_user(world.persona(persona)).get(f"/api/v1/schools/{world.school.slug}/journal/remarks")
    assert res.status_code == 200
    assert [r["id"] for r in res.json()["items"]] == ([setup.remark.pk] if visible else [])


def test_substitute_fills_only_the_lesson_they_conducted(world, journal, as_user):
    """R2.9: ``conducted_by`` lets the substitute write that lesson, and no other lesson of the journal."""
    with time_machine.travel(IN_TIME):
        other_lesson = services.create_lesson(
            acting_user=world.teacher, assignment=journal.assignment, date=dt.date(2026, 10, 2)
        )
    Lesson.objects.filter(pk=journal.lesson.pk).update(conducted_by=world.other_teacher)
    client = as_user(world.other_teacher)
    body = {"student": world.student.pk, "text": "10", "expected_version": 0}
    with time_machine.travel(IN_TIME):
        res = client.put(
            f"/api/v1/schools/{world.school.slug}/journal/lessons/{journal.lesson.pk}/marks",
            data=json.dumps(body),
            content_type="application/json",
        )
        assert res.status_code == 200
        res = client.put(
            f"/api/v1/schools/{world.school.slug}/journal/lessons/{other_lesson.pk}/marks",
            data=json.dumps(body),
            content_type="application/json",
        )
        assert res.status_code == 403
    assert Mark.objects.get().updated_by == world.other_teacher
