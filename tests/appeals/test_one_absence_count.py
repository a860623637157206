"""One count of absences (issue 10): one absence of each kind for one student, and every door that shows
absence counts — the class teacher's absences page and API, the parent's diary (page, week, API), the
information letter page, both letter PDFs, the class teacher's notice candidates — says the same.

What counts: ``classbook.journal.absences`` (docs/journal.md, "What counts as excused").
"""

from __future__ import annotations

import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from classbook.appeals import services as appeals
from classbook.journal import services as journal_services
from classbook.journal.absences import NONE, Counts, absence_counts, student_absence_counts
from classbook.journal.models import Attendance, AttendanceCode
from classbook.notifications.models import NoticePolicy
from classbook.notifications.services import notice_candidates
from tests import factories as f
from tests.appeals.conftest import MON, TUE, WED, absent, api, page

pytestmark = pytest.mark.django_db

# 7 lessons: excused by code, by an accepted parent's report, by the class teacher's reason; unexcused
# (twice: one with a reason that is not valid); late; present (an absence cleared). Two of them for illness
# (the class teacher's reason and the parent's report, both of kind "illness").
EXPECTED = Counts(missed=5, excused=3, late=1, with_reason=3, illness=2)


def _lesson(world, journal_, day, number):
    return journal_services.create_lesson(
        acting_user=world.teacher, assignment=journal_.assignment, date=day, number=number
    )


def _mark(world, lesson, text, student=None):
    return journal_services.record_attendance(
        acting_user=world.teacher, lesson=lesson, student=student or world.student, text=text, expected_version=0
    )


@pytest.fixture
def kinds(world, journal):
    """world.student's absences of each kind, in world.teacher's lessons of class_a, 5-7 October 2026."""
    AttendanceCode.objects.create(school=world.school, code="хв", name="Хворів", counts_as_absent=True, is_excused=True)
    AttendanceCode.objects.create(
        school=world.school, code="сп", name="Спізнився", counts_as_absent=False, is_late=True, ordinal=5
    )
    rows: dict[str, Attendance] = {}
    # Monday: by code, by the class teacher's reason, unexcused, late
    rows["code"] = _mark(world, journal.lesson, "хв")
    rows["teacher"] = absent(world, _lesson(world, journal, MON, 2))
    rows["unexcused"] = absent(world, _lesson(world, journal, MON, 3))
    rows["late"] = _mark(world, _lesson(world, journal, MON, 4), "сп")
    # Tuesday: the parent's report, accepted as excused
    rows["report"] = absent(world, _lesson(world, journal, TUE, 1))
    # Wednesday: present after all (cleared), and a reason that does not excuse
    present = _lesson(world, journal, WED, 1)
    row = absent(world, present)
    journal_services.record_attendance(
        acting_user=world.teacher, lesson=present, student=world.student, text="", expected_version=row.version
    )
    rows["present"] = Attendance.objects.get(pk=row.pk)
    rows["not_valid"] = absent(world, _lesson(world, journal, WED, 2))

    appeals.record_absence_reasons(
        acting_user=world.class_teacher,
        absences=[(rows["teacher"], rows["teacher"].version)],
        kind="illness",
        text="довідка № 5",
        excused=True,
    )
    appeals.record_absence_reasons(
        acting_user=world.class_teacher,
        absences=[(rows["not_valid"], rows["not_valid"].version)],
        kind="family",
        text="проспав",
        excused=False,
    )
    report = appeals.submit_absence_report(
        acting_user=world.parent, student=world.student, start=TUE, end=TUE, kind="illness", text="застуда"
    )
    report = appeals.decide_absence_report(acting_user=world.class_teacher, report=report, accept=True, excused=True)
    assert report.applied_count == 1
    return {k: Attendance.objects.select_related("code").get(pk=r.pk) for k, r in rows.items()}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pdf_text(response) -> str:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return _flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))


def _letter_line(counts: Counts) -> str:
    return (
        f"Missed lessons: {counts.missed}, of them excused: {counts.excused}, unexcused: {counts.unexcused}. "
        f"Late: {counts.late}."
    )


def test_the_definition_on_one_absence_of_each_kind(world, kinds):
    counts = student_absence_counts(world.school.pk, [world.student.pk], MON, WED)
    assert counts == {world.student.pk: EXPECTED}
    assert (EXPECTED.unexcused, counts.get(0, NONE)) == (2, NONE)
    by_row = absence_counts(Attendance.objects.filter(pk__in=[r.pk for r in kinds.values()]), by=("id",))
    excused = {k for k, r in kinds.items() if by_row.get(r.pk, NONE).excused}
    missed = {k for k, r in kinds.items() if by_row.get(r.pk, NONE).missed}
    assert excused == {"code", "teacher", "report"}
    assert missed == {"code", "teacher", "report", "unexcused", "not_valid"}
    # the report's excuse is the same flag the class teacher writes
    assert kinds["report"].reason_excused and kinds["report"].reason == "застуда"


def test_every_door_shows_the_same_counts(world, journal, kinds, as_user):
    slug, sid, period = world.school.slug, world.student.pk, journal.semester
    teacher, parent = as_user(world.class_teacher), as_user(world.parent)
    seen: dict[str, tuple[int, int, int]] = {}

    # the class teacher's absences page: summary, and the excused badge of each row
    response = teacher.get(page(world, f"/absences/?class={world.class_a.pk}&from=2026-10-01&to=2026-10-07"))
    assert response.status_code == 200
    (summary,) = [s for s in response.context["summary"] if s.student.pk == sid]
    seen["absences page"] = (summary.total, summary.excused, summary.unexcused)
    rows = [r for d in response.context["days"] for r in d.rows]
    assert {r.pk for r in rows if r.excused} == {kinds[k].pk for k in ("code", "teacher", "report")}
    assert response.content.decode().count('<span class="badge">excused</span>') == 3

    # the same through the API: the summary and each row
    q = "start=2026-10-01&end=2026-10-07"
    (row,) = [
        r
        for r in teacher.get(api(world, f"/classes/{world.class_a.pk}/absence-summary?{q}")).json()["items"]
        if r["student"] == sid
    ]
    seen["absences API"] = (row["total"], row["excused"], row["unexcused"])
    listed = teacher.get(api(world, f"/classes/{world.class_a.pk}/absences?{q}")).json()["items"]
    assert {r["id"] for r in listed if r["excused"]} == {kinds[k].pk for k in ("code", "teacher", "report")}

    # the parent's diary: the marks page (with attendance), the API, the week
    response = parent.get(reverse("diary:marks", args=[slug, sid]) + f"?period={period.pk}")
    att = response.context["report"].attendance
    seen["diary page"] = (att.absent, att.excused, att.unexcused)
    assert att.late == EXPECTED.late
    assert re.search(r"Missed lessons: <b>5</b> \(excused 3, unexcused 2\) · late: 1", response.content.decode())
    body = parent.get(f"/api/v1/schools/{slug}/diary/{sid}/attendance?period={period.pk}").json()
    seen["diary API"] = (body["total"]["absent"], body["total"]["excused"], body["total"]["unexcused"])
    assert body["total"]["late"] == EXPECTED.late
    assert [(s["absent"], s["absent_excused"], s["late"]) for s in body["subjects"] if s["absent"] or s["late"]] == [
        (EXPECTED.missed, EXPECTED.excused, EXPECTED.late)
    ]
    marks = parent.get(f"/api/v1/schools/{slug}/diary/{sid}/marks?period={period.pk}").json()["attendance"]
    seen["diary marks API"] = (marks["absent"], marks["excused"], marks["unexcused"])
    # the week reads the same flag, lesson by lesson
    week = parent.get(reverse("diary:week", args=[slug, sid, "2026-10-05"]))
    assert week.status_code == 200
    assert week.content.decode().count("· excused") == EXPECTED.excused

    # the information letter: the page, the student's PDF, the class's PDF
    response = parent.get(reverse("diary:letter", args=[slug, sid]) + f"?period={period.pk}")
    att = response.context["reports"][0].attendance
    seen["letter page"] = (att.absent, att.excused, att.unexcused)
    assert _letter_line(EXPECTED) in _flat(response.content.decode().replace("<b>", "").replace("</b>", ""))
    text = _pdf_text(parent.get(reverse("diary:letter_pdf", args=[slug, sid]) + f"?period={period.pk}"))
    assert _letter_line(EXPECTED) in text
    text = _pdf_text(
        teacher.get(reverse("diary:class_letters_pdf", args=[slug, world.class_a.pk]) + f"?period={period.pk}")
    )
    assert _letter_line(EXPECTED) in text

    # the class teacher's notices (R2.10): missed lessons counted the same way
    NoticePolicy.objects.create(school=world.school, absences_at_least=EXPECTED.missed)
    (candidate,) = [c for c in notice_candidates(world.class_a) if c.student_id == sid]
    assert candidate.often_absent
    seen["notice candidates"] = (candidate.absences, EXPECTED.excused, EXPECTED.unexcused)

    assert set(seen.values()) == {(EXPECTED.missed, EXPECTED.excused, EXPECTED.unexcused)}, seen


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_pages_cost_the_same_queries_whatever_the_absences(world, journal, kinds, as_user):
    slug, sid, period = world.school.slug, world.student.pk, journal.semester
    teacher, parent = as_user(world.class_teacher), as_user(world.parent)
    pages = [
        (teacher, page(world, f"/absences/?class={world.class_a.pk}&from=2026-10-01&to=2026-10-07")),
        (parent, reverse("diary:marks", args=[slug, sid]) + f"?period={period.pk}"),
        (parent, reverse("diary:letter", args=[slug, sid]) + f"?period={period.pk}"),
        (teacher, reverse("diary:class_letters", args=[slug, world.class_a.pk]) + f"?period={period.pk}"),
        (parent, f"/api/v1/schools/{slug}/diary/{sid}/attendance?period={period.pk}"),
    ]
    for client, url in pages:
        _queries(client, url)  # warm the per-process caches (sessions, policies)
    before = [_queries(client, url) for client, url in pages]
    # more students, more lessons, more absences of every kind
    others = [f.make_student(world.class_a) for _ in range(3)]
    for number in (5, 6):
        lesson = _lesson(world, journal, MON, number)
        for student in [world.student, *others]:
            absent(world, lesson, student)
    after = [_queries(client, url) for client, url in pages]
    assert after == before
    assert max(before) <= 13  # measured: 11, 11, 11, 12, 11


def test_the_attendance_reports_count_the_same(world, journal, kinds, as_user):
    """The attendance report and the class's summary sheet of attendance (classbook.reports) read the same
    definition: the same counts as the absences page and the diary above."""
    client = as_user(world.class_teacher)
    base = f"/api/v1/schools/{world.school.slug}/reports"
    report = client.get(f"{base}/attendance?start=2026-10-01&end=2026-10-07&group_by=student").json()
    sheet = client.get(f"{base}/attendance-sheet?school_class={world.class_a.pk}&period=p{journal.semester.pk}").json()
    for body in (report, sheet):
        (line,) = [x for x in body["lines"] if x["key"] == world.student.pk]
        got = (line["missed"], line["excused"], line["unexcused"], line["late"], line["illness"])
        assert got == (EXPECTED.missed, EXPECTED.excused, EXPECTED.unexcused, EXPECTED.late, EXPECTED.illness)
