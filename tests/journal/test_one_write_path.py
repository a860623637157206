"""One write path (issue 10): the same rule table through every door, the same outcome and the same rows.

Every case is run through the grid's cell endpoint, the API's mark/attendance endpoints and the API's
bulk write of a lesson. Each door must answer the same status and error code (or accept), and leave the
same marks, attendance and audit rows. A case a door has no field for (a comment, a slot: the grid
types neither) is run through the doors that have it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from classbook.journal import services
from classbook.journal.models import Attendance, AttendanceCode, JournalChange, Lesson, Mark, PeriodGrade, WorkType
from classbook.schools.models import ScaleValue
from tests import factories as f
from tests.journal.conftest import IN_TIME, LESSON_DAY

DOORS = ("grid", "api", "bulk")


@dataclass
class Case:
    name: str
    kind: str  # "mark" or "attendance": what is typed
    text: str
    expected: str  # "ok" or the error code
    status: int = 200
    setup: list[tuple[str, str]] = field(default_factory=list)  # ("mark" | "attendance", text) written first
    replace: bool = False
    stale: bool = False
    work_type: str | None = None
    slot: int = 0
    comment: str | None = None
    arrange: str = ""  # "future", "other_class", "subgroup", "closed", "late_code"
    doors: tuple[str, ...] = DOORS
    # After the write: the default work type's mark, the attendance code, the audit rows (kind, old, new).
    mark_after: str = ""
    attendance_after: str = ""
    audit: list[tuple[str, str, str]] = field(default_factory=list)


CASES = [
    Case("mark on an empty cell", "mark", "10", "ok", mark_after="10", audit=[("mark", "", "10")]),
    Case("absence on an empty cell", "attendance", "н", "ok", attendance_after="н", audit=[("attendance", "", "н")]),
    Case(
        "absence over a mark, not replacing",
        "attendance",
        "н",
        "cell_occupied",
        422,
        setup=[("mark", "8")],
        mark_after="8",
    ),
    Case(
        "absence over a mark, replacing",
        "attendance",
        "н",
        "ok",
        setup=[("mark", "8")],
        replace=True,
        attendance_after="н",
        audit=[("mark", "8", ""), ("attendance", "", "н")],
    ),
    Case(
        "mark over an absence, not replacing",
        "mark",
        "9",
        "cell_occupied",
        422,
        setup=[("attendance", "н")],
        attendance_after="н",
    ),
    Case(
        "mark over an absence, replacing",
        "mark",
        "9",
        "ok",
        setup=[("attendance", "н")],
        replace=True,
        mark_after="9",
        audit=[("attendance", "н", ""), ("mark", "", "9")],
    ),
    Case(
        "a lateness beside a mark",
        "attendance",
        "о",
        "ok",
        setup=[("mark", "8")],
        arrange="late_code",
        mark_after="8",
        attendance_after="о",
        audit=[("attendance", "", "о")],
    ),
    Case("a mark that is no mark", "mark", "abc", "not_on_scale", 422),
    Case("a value out of the scale", "mark", "13", "not_on_scale", 422),
    Case("a future lesson", "mark", "10", "future_lesson", 422, arrange="future"),
    Case("a student of another class", "mark", "10", "not_in_class", 422, arrange="other_class"),
    Case("a student of another subgroup", "mark", "10", "not_in_subgroup", 422, arrange="subgroup"),
    Case("a mark in a closed period", "mark", "10", "period_closed", 422, arrange="closed"),
    Case("an absence in a closed period", "attendance", "н", "period_closed", 422, arrange="closed"),
    Case(
        "a comment in a closed period",
        "mark",
        "8",
        "period_closed",
        422,
        setup=[("mark", "8")],
        comment="Усна відповідь",
        arrange="closed",
        doors=("api", "bulk"),
        mark_after="8",
    ),
    Case("a stale version", "mark", "7", "conflict", 409, setup=[("mark", "8")], stale=True, mark_after="8"),
    Case("an unknown work type", "mark", "10", "invalid_work_type", 422, work_type="nonexistent"),
    Case(
        "a second slot of a one-mark work type",
        "mark",
        "10",
        "one_mark_only",
        422,
        work_type="control",
        slot=1,
        doors=("api", "bulk"),
    ),
]


def _params() -> list[Any]:
    return [pytest.param(case, door, id=f"{case.name}-{door}") for case in CASES for door in case.doors]


@dataclass
class Scene:
    lesson: Lesson
    student: Any


def _arrange(case: Case, world: Any, journal: Any) -> Scene:
    lesson, student = journal.lesson, world.student
    for what, text in case.setup:
        write = services.record_mark if what == "mark" else services.record_attendance
        write(acting_user=world.teacher, lesson=lesson, student=student, text=text, expected_version=0)
    if case.arrange == "future":
        lesson = services.create_lesson(
            acting_user=world.teacher, assignment=journal.assignment, date=LESSON_DAY + dt.timedelta(days=3)
        )
    elif case.arrange == "other_class":
        student = world.other_student
    elif case.arrange == "subgroup":
        group = f.SubgroupFactory(school_class=world.class_a)
        group.students.add(f.make_student(world.class_a))
        journal.assignment.subgroup = group
        journal.assignment.save(update_fields=["subgroup"])
    elif case.arrange == "closed":
        scale = journal.assignment.effective_scale()
        PeriodGrade.objects.create(
            school=world.school,
            assignment=journal.assignment,
            student=student,
            period=journal.semester,
            kind="period",
            value=ScaleValue.objects.get(scale=scale, code="10"),
            set_by=world.teacher,
            locked_at=timezone.now(),
        )
    elif case.arrange == "late_code":
        AttendanceCode.objects.create(
            school=world.school, code="о", name="Запізнився", counts_as_absent=False, is_late=True, ordinal=5
        )
    return Scene(lesson, student)


def _versions(scene: Scene, case: Case) -> tuple[int, int, int]:
    """The default mark's version, the attendance version, the version of the written entry (as the page read them)."""
    work_type = WorkType.objects.filter(school_id=scene.lesson.school_id, code=case.work_type).first()
    marks = Mark.objects.filter(lesson=scene.lesson, student_id=scene.student.pk, slot=case.slot)
    default = Mark.objects.filter(lesson=scene.lesson, student_id=scene.student.pk, slot=0).order_by("id").first()
    mark = marks.filter(work_type=work_type).first() if work_type else default
    att = Attendance.objects.filter(lesson=scene.lesson, student_id=scene.student.pk).first()
    mark_v = default.version if default else 0
    att_v = att.version if att else 0
    written = (mark.version if mark else 0) if case.kind == "mark" else att_v
    if case.stale:
        return 0, 0, 0
    return mark_v, att_v, written


def _through_grid(client: Any, world: Any, journal: Any, scene: Scene, case: Case) -> tuple[int, str]:
    mark_v, att_v, written = _versions(scene, case)
    body: dict[str, Any] = {"lesson": scene.lesson.pk, "student": scene.student.pk, "value": case.text}
    if case.work_type:
        work_type = WorkType.objects.filter(school=world.school, code=case.work_type).first()
        body |= {"kind": "work", "work_type": work_type.pk if work_type else 999999, "version": written}
    else:
        body |= {"kind": "lesson", "version": f"{mark_v}.{att_v}"}
    if case.replace:
        body["replace"] = "1"
    response = client.post(
        reverse("journal:save_cell", args=[world.school.slug, journal.assignment.pk]),
        body,
        HTTP_ACCEPT="application/json",
    )
    return _outcome(response)


def _item(scene: Scene, case: Case, version: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "student": scene.student.pk,
        "text": case.text,
        "expected_version": version,
        "replace": case.replace,
    }
    if case.kind == "mark":
        item |= {"work_type": case.work_type, "slot": case.slot, "comment": case.comment}
    return item


def _through_api(client: Any, world: Any, journal: Any, scene: Scene, case: Case) -> tuple[int, str]:
    _mark_v, _att_v, written = _versions(scene, case)
    path = f"/api/v1/schools/{world.school.slug}/journal/lessons/{scene.lesson.pk}/"
    path += "marks" if case.kind == "mark" else "attendance"
    response = client.put(path, data=json.dumps(_item(scene, case, written)), content_type="application/json")
    return _outcome(response)


def _through_bulk(client: Any, world: Any, journal: Any, scene: Scene, case: Case) -> tuple[int, str]:
    _mark_v, _att_v, written = _versions(scene, case)
    path = f"/api/v1/schools/{world.school.slug}/journal/lessons/{scene.lesson.pk}/bulk"
    section = "marks" if case.kind == "mark" else "attendance"
    body = {section: [_item(scene, case, written)]}
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    status, code = _outcome(response)
    if code == "bulk_rejected":
        items = response.json()["error"]["items"]
        assert len(items) == 1 and items[0]["section"] == section and items[0]["index"] == 0
        code = items[0]["code"]
    return status, code


DOOR: dict[str, Callable[..., tuple[int, str]]] = {"grid": _through_grid, "api": _through_api, "bulk": _through_bulk}


def _outcome(response: Any) -> tuple[int, str]:
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    if response.status_code == 200:
        return 200, "ok"
    return response.status_code, response.json()["error"]["code"]


@pytest.mark.parametrize(("case", "door"), _params())
def test_the_rule_table_gives_the_same_outcome_through_every_door(world, journal, as_user, case, door):
    with time_machine.travel(IN_TIME, tick=False):
        scene = _arrange(case, world, journal)
        before = JournalChange.objects.order_by("-id").values_list("id", flat=True).first() or 0
        outcome = DOOR[door](as_user(world.teacher), world, journal, scene, case)
    assert outcome == (case.status, case.expected)
    default = (
        Mark.objects.filter(lesson=scene.lesson, student_id=scene.student.pk, work_type__code="current", slot=0)
        .select_related("value")
        .first()
    )
    att = Attendance.objects.filter(lesson=scene.lesson, student_id=scene.student.pk).select_related("code").first()
    assert (default.value.code if default and default.value else "") == case.mark_after
    assert (att.code.code if att and att.code else "") == case.attendance_after
    # Only the default work type's mark: the refused work-type cases leave no other mark behind.
    assert not Mark.objects.exclude(work_type__code="current").exists()
    changes = JournalChange.objects.filter(id__gt=before, kind__in=["mark", "attendance"]).order_by("id")
    assert list(changes.values_list("kind", "old_value", "new_value")) == case.audit


@time_machine.travel(IN_TIME, tick=False)
def test_an_absence_replaces_every_mark_of_the_lesson_each_audited(world, journal):
    """The one-entry rule covers every mark of the student at the lesson, not only the grid's default column."""
    lesson, student = journal.lesson, world.student
    control = WorkType.objects.get(school=world.school, code="control")
    services.record_mark(acting_user=world.teacher, lesson=lesson, student=student, text="8", expected_version=0)
    services.record_mark(
        acting_user=world.teacher, lesson=lesson, student=student, text="11", expected_version=0, work_type=control
    )
    with pytest.raises(services.CellOccupied) as refused:
        services.record_attendance(
            acting_user=world.teacher, lesson=lesson, student=student, text="н", expected_version=0
        )
    assert refused.value.holds in {"8", "11"}
    services.record_attendance(
        acting_user=world.teacher, lesson=lesson, student=student, text="н", expected_version=0, replace=True
    )
    assert not Mark.objects.filter(lesson=lesson, student=student, value__isnull=False).exists()
    rows = JournalChange.objects.filter(kind__in=["mark", "attendance"]).order_by("id")
    assert list(rows.values_list("kind", "old_value", "new_value"))[-3:] == [
        ("mark", "8", ""),
        ("mark", "11", ""),
        ("attendance", "", "н"),
    ]


@time_machine.travel(IN_TIME, tick=False)
def test_a_refused_replace_writes_nothing(world, journal):
    """Replace is one transaction: when the second write fails (the mark is not on the scale), the cleared
    absence comes back."""
    lesson, student = journal.lesson, world.student
    services.record_attendance(acting_user=world.teacher, lesson=lesson, student=student, text="н", expected_version=0)
    before = JournalChange.objects.count()
    with pytest.raises(services.CellConflict):
        services.record_mark(
            acting_user=world.teacher, lesson=lesson, student=student, text="9", expected_version=3, replace=True
        )
    assert Attendance.objects.get().code.code == "н" and not Mark.objects.exists()
    assert JournalChange.objects.count() == before
