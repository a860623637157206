"""The attendance reports' pages, exports and API: who reads what (role × relationship tables that try to break
the rules), the same figures through every door (the absences page, the diary), XLSX and PDF read back, and
a constant number of queries whatever the number of absences."""

from __future__ import annotations

import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from pypdf import PdfReader

from classbook.journal import services as journal
from tests import factories as f
from tests.conftest import client_for
from tests.reports.attendance_data import FRI2, MON, MON2, NOW, TUE, WED, attendance_world  # noqa: F401

pytestmark = [
    pytest.mark.django_db,
]

URL = "/s/lyceum-1/reports/attendance"
API = "/api/v1/schools/lyceum-1/reports"
RANGE = "start=2026-10-05&end=2026-10-16"


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def _pages(att) -> dict[str, str]:
    sheet = f"school_class={att.class_a.pk}&period=p{att.semester.pk}"
    return {
        "report": f"{URL}/?{RANGE}",
        "report.xlsx": f"{URL}.xlsx?{RANGE}",
        "sheet": f"{URL}/sheet/?{sheet}",
        "sheet.pdf": f"{URL}/sheet.pdf?{sheet}",
        "consecutive": f"{URL}/consecutive/?{RANGE}",
        "registers": f"{URL}/registers/?day=2026-10-16",
        "api report": f"{API}/attendance?{RANGE}",
        "api sheet": f"{API}/attendance-sheet?{sheet}",
        "api consecutive": f"{API}/consecutive-absences?{RANGE}",
        "api registers": f"{API}/registers-not-taken?day=2026-10-16",
    }


WHOLE_DAY = {"sheet", "sheet.pdf", "consecutive", "api sheet", "api consecutive"}


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("admin", 200),
        ("director", 200),
        ("deputy", 200),
        ("viewer", 200),  # the education authority: its schools, read-only
        ("class_teacher", 200),  # of 5-А
        ("teacher", 200),  # mathematics in 5-А: own lessons; the whole-day reports are not theirs (403)
        ("other_teacher", 200),
        ("secretary", 403),
        ("student", 403),
        ("parent", 403),
        ("foreign_admin", 404),  # another school's people: not even the school's existence
        ("foreign_teacher", 404),
        ("foreign_student", 404),
        ("anonymous", 302),
    ],
)
def test_who_opens_the_attendance_reports(world, att, persona, status):
    client = client_for(world.persona(persona))
    for name, url in _pages(att).items():
        expected = status
        if name.startswith("api") and status == 302:
            expected = 401
        if name in WHOLE_DAY and persona in ("teacher", "other_teacher") and status == 200:
            expected = 403  # a subject teacher reads their subjects' lessons, not whole days
        if name in ("sheet", "sheet.pdf", "api sheet") and persona == "other_teacher":
            expected = 403
        assert client.get(url).status_code == expected, (name, persona)


@pytest.mark.parametrize(
    ("persona", "target", "status"),
    [
        ("class_teacher", "class_b", 404),  # another class
        ("class_teacher", "foreign_class", 404),  # another school's class in our school's URL
        ("deputy", "foreign_class", 404),
        ("teacher", "class_b", 404),  # a class the teacher does not teach
        ("deputy", "class_b", 200),
        ("viewer", "class_b", 200),
    ],
)
def test_another_class_is_not_found(world, att, persona, target, status):
    client = client_for(world.persona(persona))
    pk = getattr(world, target).pk
    assert client.get(f"{URL}/?{RANGE}&school_class={pk}").status_code == status
    assert client.get(f"{API}/attendance?{RANGE}&school_class={pk}").status_code == status
    if persona != "teacher":
        sheet = f"school_class={pk}&period=p{att.semester.pk}"
        assert client.get(f"{URL}/sheet/?{sheet}").status_code == status
        assert client.get(f"{API}/attendance-sheet?{sheet}").status_code == status
        assert client.get(f"{URL}/consecutive/?{RANGE}&school_class={pk}").status_code == status
        assert client.get(f"{API}/consecutive-absences?{RANGE}&school_class={pk}").status_code == status


def test_a_subject_teacher_sees_own_lessons_only_and_no_whole_days(world, att):
    body = client_for(world.teacher).get(f"{API}/attendance?{RANGE}&group_by=subject").json()
    assert [line["label"] for line in body["lines"]] == ["Математика"]
    body = client_for(world.teacher).get(f"{API}/attendance?{RANGE}&group_by=student").json()
    assert {line["days"] for line in body["lines"]} == {None}
    me = next(line for line in body["lines"] if line["key"] == world.student.pk)
    assert (me["missed"], me["excused"]) == (4, 2)  # mathematics Mon-Thu; Tue and Wed excused
    # other teachers' registers are not theirs
    registers = client_for(world.teacher).get(f"{API}/registers-not-taken?day=2026-10-16").json()["items"]
    assert registers == []  # mathematics' register was taken on the 16th
    registers = client_for(att.hist_teacher).get(f"{API}/registers-not-taken?day=2026-10-16").json()["items"]
    assert [(c["name"], [m["subject"] for m in c["missing"]]) for c in registers] == [("5-А", ["Історія України"])]


def test_a_class_teacher_reads_whole_days_of_their_class_only(world, att):
    body = client_for(world.class_teacher).get(f"{API}/attendance?{RANGE}&group_by=class").json()
    assert [(line["label"], line["days"] is not None) for line in body["lines"]] == [("5-А", True)]
    streaks = client_for(world.class_teacher).get(f"{API}/consecutive-absences?{RANGE}").json()["items"]
    assert {s["student_id"] for s in streaks} == {world.student.pk, att.students["leaver"].pk}
    # the deputy reads both classes; the mover's Monday in 5-Б is a whole day there
    body = client_for(world.deputy).get(f"{API}/attendance?{RANGE}&group_by=class").json()
    assert {line["label"]: line["days"] for line in body["lines"]} == {"5-А": 9, "5-Б": 1}


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-10-16&end=2026-10-05",  # the wrong order
        "start=2025-01-01&end=2026-10-05",  # too long
        "start=nonsense&end=2026-10-05",
        f"{RANGE}&group_by=teacher",
        f"{RANGE}&school_class=abc",
    ],
)
def test_bad_filters_are_refused_not_crashed(world, att, query):
    client = client_for(world.deputy)
    assert client.get(f"{URL}/?{query}").status_code in (404, 422)
    assert client.get(f"{URL}.pdf?{query}").status_code == 404
    assert client.get(f"{API}/attendance?{query}").status_code in (404, 422)
    assert client.get(f"{URL}/consecutive/?{query}&at_least=1").status_code == 422


def test_the_same_counts_as_the_absences_page_and_the_diary(world, att):
    """One definition: the report, the summary sheet, the class teacher's absences page and the parent's diary
    agree for world.student (an absence of each kind) and bondar (the code, the rejected report)."""
    teacher = client_for(world.class_teacher)
    sheet = teacher.get(f"{API}/attendance-sheet?school_class={att.class_a.pk}&period=p{att.semester.pk}").json()
    mine = {line["key"]: line for line in sheet["lines"]}
    page = teacher.get(f"/s/lyceum-1/appeals/absences/?class={att.class_a.pk}&from=2026-09-01&to=2026-12-26")
    assert page.status_code == 200
    for summary in page.context["summary"]:
        line = mine[summary.student.pk]
        assert (summary.total, summary.excused, summary.unexcused) == (
            line["missed"],
            line["excused"],
            line["unexcused"],
        ), summary.student
    diary = client_for(world.parent).get(
        f"/api/v1/schools/lyceum-1/diary/{world.student.pk}/attendance?period={att.semester.pk}"
    )
    total = diary.json()["total"]
    me = mine[world.student.pk]
    assert (total["absent"], total["excused"], total["unexcused"], total["late"]) == (
        me["missed"],
        me["excused"],
        me["unexcused"],
        me["late"],
    )
    assert (me["missed"], me["excused"], me["illness"], me["late"], me["days"]) == (10, 5, 5, 1, 3)


def test_xlsx_and_pdf_carry_the_figures(world, att):
    client = client_for(world.class_teacher)
    query = f"school_class={att.class_a.pk}&period=p{att.semester.pk}"
    response = client.get(f"{URL}/sheet.xlsx?{query}")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(rows) if r[1] == "Lessons missed")
    assert ws.freeze_panes == f"B{head + 2}"
    by_name = {r[0]: r[1:8] for r in rows[head + 1 :] if r[0]}
    me = next(v for k, v in by_name.items() if str(k).startswith(world.student.user.last_name))
    assert list(me) == [10, 5, 5, 5, 3, 2, 1]  # numbers as numbers
    assert any("Литвин" in str(k) and "left 07.10.2026" in str(k) for k in by_name)
    assert list(by_name["Total"]) == [28, 6, 22, 5, 9, 2, 4]  # the five students' lines added up

    response = client.get(f"{URL}/sheet.pdf?{query}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    flat = " ".join(text.split())
    assert "Summary sheet of attendance: 5-А" in flat and "week of" in flat
    assert "Литвин" in flat and "left 07.10.2026" in flat

    response = client_for(world.deputy).get(f"{URL}/registers.xlsx?day=2026-10-16")
    rows = [list(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)]
    assert ["5-А", 4, 2, 2, "Історія України"] in [r[:5] for r in rows]
    response = client_for(world.deputy).get(f"{URL}/consecutive.pdf?{RANGE}")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "05.10.2026" in text and "07.10.2026" in text


def test_the_page_shows_the_chart_and_swaps_with_htmx(world, att):
    client = client_for(world.deputy)
    page = client.get(f"{URL}/?{RANGE}&group_by=student")
    body = page.content.decode()
    assert page.status_code == 200 and 'id="chart-weeks-t"' in body and "<form" in body
    partial = client.get(f"{URL}/?{RANGE}&group_by=student", HTTP_HX_REQUEST="true").content.decode()
    assert "<form" not in partial and 'id="chart-weeks-t"' in partial
    index = client.get("/s/lyceum-1/reports/").content.decode()
    for name in ("attendance", "attendance/sheet", "attendance/consecutive", "attendance/registers"):
        assert f"/s/lyceum-1/reports/{name}/" in index


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def test_queries_do_not_grow_with_the_absences(world, att):
    client = client_for(world.deputy)
    urls = [u for k, u in _pages(att).items() if "." not in k] + [
        f"{URL}/?{RANGE}&group_by=student",
        f"{URL}/?{RANGE}&group_by=subject",
        f"{API}/attendance?{RANGE}&group_by=student",
    ]
    for url in urls:
        _count(client, url)  # warm the per-process caches
    before = [_count(client, url) for url in urls]
    # more students, more absences of every kind, in both weeks
    others = [f.make_student(att.class_a) for _ in range(4)]
    att.eng1.subgroup.students.add(*others)
    for day in (TUE, WED, MON2, FRI2):
        for key in ("math", "eng1"):
            lesson = att.lessons[(key, day)]
            lesson.refresh_from_db()
            for student in others:
                journal.record_attendance(
                    acting_user=lesson.conducted_by or lesson.assignment.teacher,
                    lesson=lesson,
                    student=student,
                    text="н",
                    expected_version=0,
                )
    after = [_count(client, url) for url in urls]
    assert after == before
    assert max(before) <= 17, before  # measured: 6-16 (session, context, filters and the report: 1-9)


def test_the_summary_sheet_of_the_year_and_an_unknown_period(world, att):
    client = client_for(world.deputy)
    year = att.class_a.year
    body = client.get(f"{API}/attendance-sheet?school_class={att.class_a.pk}&period=y{year.pk}").json()
    assert body["start"] == "2026-09-01" and body["end"] == "2027-06-30"
    assert client.get(f"{API}/attendance-sheet?school_class={att.class_a.pk}&period=p999999").status_code == 422
    assert client.get(f"{URL}/sheet/?school_class={att.class_a.pk}&period=x1").status_code == 422
    assert MON < WED  # the fixture's days
