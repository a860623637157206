"""The grid page and the JSON API read one model (``journal.grid``): the same cells, versions and states.

One journal with every kind of column (lesson cells with marks, absences, a late entry, an excused absence
and a second mark; a work column; thematic, period, corrected, annual and exam grades), read through the
page (its HTML, as the grid's script sees it) and through the API; every cell must agree.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.urls import reverse

from classbook.api.routes.journal import GridOut
from classbook.journal import services
from classbook.journal.models import Attendance, WorkType
from tests import factories as f
from tests.journal.conftest import GRADES_DAY, IN_TIME

pytestmark = pytest.mark.django_db

TD = re.compile(r'<td class="([^"]*)"([^>]*)>([^<]*)</td>')
ATTR = re.compile(r'(data-[a-z]+|title)="([^"]*)"')


def _fill(world, journal):
    """Every kind of cell the grid has, for two students."""
    teacher, student = world.teacher, world.student
    other = f.make_student(world.class_a)
    control = WorkType.objects.get(school=world.school, code="control")
    current = WorkType.objects.get(school=world.school, code="current")
    with time_machine.travel(IN_TIME):
        early = services.create_lesson(acting_user=teacher, assignment=journal.assignment, date=dt.date(2026, 10, 1))
        lesson = journal.lesson
        services.record_mark(acting_user=teacher, lesson=lesson, student=student, text="10", expected_version=0)
        services.record_mark(
            acting_user=teacher, lesson=lesson, student=student, text="7", expected_version=0, work_type=current, slot=1
        )
        services.record_mark(
            acting_user=teacher, lesson=lesson, student=student, text="11", expected_version=0, work_type=control
        )
        services.record_attendance(acting_user=teacher, lesson=lesson, student=other, text="н", expected_version=0)
        # A lesson four days ago: entered after its deadline (late).
        services.record_mark(acting_user=teacher, lesson=early, student=student, text="8", expected_version=0)
        services.record_attendance(acting_user=teacher, lesson=early, student=other, text="н", expected_version=0)
    # The class teacher recorded a valid reason for the second absence (journal.absences: excused).
    Attendance.objects.filter(lesson=early, student=other).update(reason="Довідка", reason_excused=True)
    with time_machine.travel(GRADES_DAY):
        for kind, text, ordinal, title in [
            ("thematic", "9", 1, "Дроби"),
            ("period", "9", 0, ""),
            ("annual", "10", 0, ""),
            ("exam", "11", 0, ""),
        ]:
            services.record_period_grade(
                acting_user=teacher,
                assignment=journal.assignment,
                student=student,
                period=journal.semester,
                kind=kind,
                text=text,
                expected_version=0,
                ordinal=ordinal,
                title=title,
            )
        grade = journal.assignment.period_grades.get(kind="period", student=student)
        services.correct_period_grade(
            acting_user=world.deputy, grade=grade, text="10", reason="Заява", order_ref="Наказ № 3"
        )
    return other


def _page_cells(content: str, period_kinds: list[tuple[str, int]]) -> dict[tuple, tuple]:
    """The cells of the page's grid body as the script reads them: data attributes, classes, text."""
    body = content.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    cells: dict[tuple, tuple] = {}
    for chunk in body.split('<tr data-s="')[1:]:
        sid = int(chunk[: chunk.index('"')])
        tds = TD.findall(chunk)
        dated = [td for td in tds if "data-l=" in td[1]]
        period = [td for td in tds if " pv" in f" {td[0]}"]
        for cls, attrs, text in dated:
            a = dict(ATTR.findall(attrs))
            classes = set(cls.split())
            state = {"late": "late" in classes, "excused": "exc" in classes, "closed": "closed" in classes}
            if "data-w" in a:
                cells[("work", int(a["data-l"]), int(a["data-w"]), sid)] = (html.unescape(text), a["data-v"], state)
            else:
                cells[("lesson", int(a["data-l"]), sid)] = (html.unescape(text), a["data-v"], state)
        assert len(period) == len(period_kinds)
        for (kind, ordinal), (cls, _attrs, text) in zip(period_kinds, period, strict=True):
            cells[("period", kind, ordinal, sid)] = (html.unescape(text), "locked" in cls.split())
        acc = re.search(r'<td class="c ro acc[^"]*">(\d+)/(\d+)</td><td class="c ro avg">([^<]*)</td>', chunk)
        cells[("acc", sid)] = (int(acc[1]), int(acc[2]), acc[3].replace(",", "."))
    return cells


def _api_cells(data: dict, default_code: str, work_type_ids: dict[str, int]) -> dict[tuple, tuple]:
    """The same cells built from the API's lists."""
    marks = {(m["lesson"], m["student"], m["work_type"], m["slot"]): m for m in data["marks"]}
    absences = {(a["lesson"], a["student"]): a for a in data["attendance"]}
    cells: dict[tuple, tuple] = {}
    for lesson in data["lessons"]:
        for student in data["students"]:
            m = marks.get((lesson["id"], student["id"], default_code, 0))
            a = absences.get((lesson["id"], student["id"]))
            text = " ".join(x["value"] for x in (a, m) if x and x["value"])
            version = f"{m['version'] if m else 0}.{a['version'] if a else 0}"
            late = bool((m and m["is_late"]) or (a and a["is_late"]))
            cells[("lesson", lesson["id"], student["id"])] = (text, version, late, bool(a and a["excused"]))
    for m in data["marks"]:
        if m["work_type"] != default_code and m["slot"] == 0:
            key = ("work", m["lesson"], work_type_ids[m["work_type"]], m["student"])
            cells[key] = (m["value"], str(m["version"]), m["is_late"], False)
    for g in data["period_grades"]:
        cells[("period", g["kind"], g["ordinal"], g["student"])] = (g["value"], g["locked"])
    for acc in data["accumulation"]:
        cells[("acc", acc["student"])] = (acc["count"], acc["required"], acc["average"] or "")
    return cells


def test_page_and_api_show_the_same_cells_versions_and_states(world, journal, as_user):
    other = _fill(world, journal)
    with time_machine.travel(GRADES_DAY):
        client = as_user(world.teacher)
        page = client.get(
            reverse("journal:grid", args=[world.school.slug, journal.assignment.pk]) + f"?period={journal.semester.pk}"
        )
        api = client.get(
            f"/api/v1/schools/{world.school.slug}/journal/assignments/{journal.assignment.pk}/grid"
            f"?period={journal.semester.pk}"
        )
    assert page.status_code == 200 and api.status_code == 200
    data = api.json()
    GridOut.model_validate(data)  # the answer is written directly: it must still match its documented schema
    grid = page.context["grid"]
    kinds = [(c.kind, c.ordinal) for c in grid.period_columns]
    assert kinds == [("thematic", 1), ("period", 0), ("corrected", 0), ("annual", 0), ("exam", 0)]
    seen = _page_cells(page.content.decode(), kinds)
    work_type_ids = dict(WorkType.objects.filter(school=world.school).values_list("code", "id"))
    expected = _api_cells(data, "current", work_type_ids)

    lesson_keys = {k for k in seen if k[0] == "lesson"}
    assert lesson_keys == {k for k in expected if k[0] == "lesson"}
    for key in lesson_keys:
        text, version, state = seen[key]
        assert (text, version, state["late"], state["excused"]) == expected[key], key
    work = {k: v for k, v in seen.items() if k[0] == "work"}
    assert {k for k in expected if k[0] == "work"} <= set(work)
    for key, (text, version, state) in work.items():
        assert (text, version, state["late"]) == expected.get(key, ("", "0", False))[:3], key
    assert {k: v for k, v in seen.items() if k[0] == "period" and v[0]} == {
        k: v for k, v in expected.items() if k[0] == "period"
    }
    assert {k: v for k, v in seen.items() if k[0] == "acc"} == {k: v for k, v in expected.items() if k[0] == "acc"}

    # What the journal holds, as both show it.
    student, lesson = world.student.pk, journal.lesson.pk
    assert seen[("lesson", lesson, student)][:2] == ("10", "1.0")
    assert expected[("period", "corrected", 0, student)] == ("10", True)
    assert sum(state["late"] for _t, _v, state in (v for k, v in seen.items() if k[0] == "lesson")) == 2
    assert [v[3] for k, v in expected.items() if k[0] == "lesson" and k[2] == other.pk].count(True) == 1
    # The second mark of the lesson is on the lesson cell (its title), and counts in the marks.
    assert seen[("acc", student)][0] == 4
    # The student's semester grade closes their cells of the semester (R2.7); the other student's stay open.
    assert all(v[2]["closed"] for k, v in seen.items() if k[0] == "lesson" and k[2] == student)
    assert not any(v[2]["closed"] for k, v in seen.items() if k[0] == "lesson" and k[2] == other.pk)


def test_a_cells_shown_parts_are_its_properties():
    """``LessonCell.shown`` (the page's one call per cell) says what the properties say, for every mix."""
    from classbook.journal.grid import AttendanceEntry, LessonCell, MarkEntry

    mark = MarkEntry(1, 10, 20, 3, 0, "8", 8.0, "усно", 2, True)
    absent = AttendanceEntry(5, 10, 20, "н", "Довідка", 3, False, True, True)
    late = AttendanceEntry(6, 10, 20, "о", "", 1, True, False, False)
    bare = MarkEntry(2, 10, 20, 3, 0, "10", 10.0, "", 1, False)
    for cell in [
        LessonCell(),
        LessonCell(mark),
        LessonCell(None, absent),
        LessonCell(mark, late),
        LessonCell(bare, absent),
    ]:
        assert cell.shown() == (cell.value, cell.version, cell.late, cell.comment, cell.excused)


def test_a_row_stores_a_lone_entry_as_itself_and_reads_it_as_its_cell():
    """A mark alone or an attendance entry alone is stored as the entry (no object per cell, issue 10);
    ``GridRow.cell`` reads every stored form as the ``LessonCell`` it stands for."""
    from classbook.journal.grid import EMPTY_CELL, AttendanceEntry, GridRow, LessonCell, MarkEntry

    mark = MarkEntry(1, 10, 20, 3, 0, "8", 8.0, "усно", 2, True)
    absent = AttendanceEntry(5, 11, 20, "н", "Довідка", 3, False, True, True)
    both = LessonCell(mark, absent)
    row = GridRow(id=20, name="", left_on=None, lesson_cells={10: mark, 11: absent, 12: both})
    assert row.cell(10).shown() == LessonCell(mark).shown()
    assert row.cell(11).shown() == LessonCell(None, absent).shown()
    assert row.cell(12) is both
    assert row.cell(13) is EMPTY_CELL


def test_the_apis_mark_order_is_the_same_with_the_key_made_in_c_or_in_python():
    """``_api_mark_order`` sorts by lesson, student, the work type's ordinal and slot, whatever the ids."""
    import random

    from classbook.journal.grid import MarkEntry, _api_mark_order

    rng = random.Random(3)
    pick = rng.randrange
    marks = [MarkEntry(i, pick(5), pick(4), pick(7, 10), pick(2), "8", 8.0, "", 1, False) for i in range(300)]
    for order in ({7: 0, 8: 1, 9: 2}, {7: 2, 8: 0, 9: 1}, {7: 0, 8: 0, 9: 1}):
        expected = sorted(marks, key=lambda m: (m.lesson, m.student, order[m.work_type], m.slot))
        assert _api_mark_order(marks, order) == expected
