"""The printed class journal read back from the PDF (issue 12, R6.6): pages, cells, a struck-through
correction with who and when, the running head and foot with the verification code, the recorded copy and
its verification page. One journal is built and printed per test (printing is the slow part: ~2 s a PDF)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from pypdf import PdfReader

from classbook.access.context import build_context
from classbook.access.printing import printable_assignments
from classbook.journal.models import Lesson, Mark
from classbook.journal.services import add_remark, record_mark
from classbook.printing import documents
from classbook.printing.documents import PrintFooter, class_journal_html, render_pdf
from classbook.printing.models import PrintedCopy
from classbook.printing.queries import class_journal
from classbook.schools.models import TeachingAssignment
from tests import factories as f
from tests.conftest import client_for

END = dt.date(2026, 12, 3)


def _end() -> dt.date:
    """The range's last day: the remark of the administration is dated today in the school's time zone, so a run
    after midnight in Kyiv (22:00 UTC) still prints it."""
    return max(END, timezone.localdate())


def _texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def journal(world):
    """5-А's mathematics with 30 lessons (two left pages), a corrected mark and a remark of the deputy."""
    math = TeachingAssignment.objects.get(school_class=world.class_a, subject=world.subject)
    f.make_grid(math, students=4, lessons=30, fill=0.7)
    lesson = Lesson.objects.filter(assignment=math).order_by("date").first()
    mark = Mark.objects.filter(lesson=lesson, student=world.student).first()
    if mark is None or mark.value is None:
        mark = record_mark(
            acting_user=world.teacher, lesson=lesson, student=world.student, text="7", expected_version=0
        )
    old = mark.value.code
    new = "12" if old != "12" else "11"
    record_mark(
        acting_user=world.teacher,
        lesson=lesson,
        student=world.student,
        text=new,
        expected_version=mark.version,
        reason="описка",
    )
    add_remark(acting_user=world.deputy, assignment=math, text="Не записано домашнє завдання")
    return {"math": math, "old": old, "new": new, "lesson": lesson}


def test_a_certified_copy_is_printed_recorded_and_verified(world, journal):
    client = client_for(world.deputy)
    url = f"/s/{world.school.slug}/print/class/{world.class_a.pk}/journal.pdf"
    sections = ["title", "contents", "subjects", "summary", "attendance", "remarks", "students"]
    data = {"start": "2026-09-01", "end": _end().isoformat(), "journals": [journal["math"].pk], "sections": sections}
    response = client.post(url, {**data, "certify": "on"})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = response.content
    code = response["X-Verification-Code"]
    copy = PrintedCopy.objects.get(school=world.school, code=code)
    assert copy.sha256 == hashlib.sha256(pdf).hexdigest() and copy.printed_by == world.deputy
    assert copy.certified and copy.contents["subjects"] == ["Математика"]

    texts = _texts(pdf)
    text = "\n".join(texts)
    assert len(texts) == copy.pages >= 9  # title, contents, 2 spreads (4 pages), summary, attendance, remarks, ...
    assert "Ліцей № 1" in texts[0] and "5-А" in texts[0] and world.class_a.year.name in texts[0]
    assert all(code in t for t in texts)  # the verification code on every page
    assert all(f"of {len(texts)}" in t for t in texts)  # page N of M
    assert f"Page {len(texts)} of {len(texts)}" in texts[-1]
    subject_pages = [t for t in texts if "Математика · I семестр" in t]
    assert len(subject_pages) == 4  # 30 lessons: two spreads of a left and a right page
    assert "01.09" in subject_pages[0] and "Тема 1" in subject_pages[1] and "Тема 30" in subject_pages[3]
    # The correction: the superseded mark struck through beside the right one, who corrected it and when.
    assert f"«{journal['old']}» corrected to «{journal['new']}» by {world.teacher.short_name}" in text
    assert "(описка)" in text
    assert "Не записано домашнє завдання" in text  # the remarks of the administration
    assert "Summary of achievements" in text and "Attendance" in text and "Information about students" in text
    assert "True to the original" in text and world.deputy.full_name in text

    page = client.get(f"/s/{world.school.slug}/print/verify/", {"code": code.lower().replace("-", " ")})
    assert page.status_code == 200
    body = page.content.decode()
    assert copy.sha256 in body and escape(world.deputy.full_name) in body and "Математика" in body
    assert client.get(f"/s/{world.school.slug}/print/verify/", {"code": "AAAA-AAAA"}).status_code == 404

    # The summary sheets print the same way: the reports' sheet, the head and foot, the code, recorded.
    summary = client.post(url.replace("journal.pdf", "summary.pdf"), data)
    assert summary.status_code == 200
    sheet = PrintedCopy.objects.get(code=summary["X-Verification-Code"])
    summary_text = "\n".join(_texts(summary.content))
    assert sheet.kind == "summary" and "Summary sheet of grades" in summary_text and sheet.code in summary_text
    assert "I семестр" in summary_text and world.student.user.last_name in summary_text


def test_the_archive_prints_every_journal_without_a_user(world, journal):
    """``class_journal_html`` as the archive calls it: no user, every journal, the struck-through entry."""
    footer = PrintFooter(code="K7Q2-M9XA", generated_at=timezone.now())
    html = class_journal_html(world.class_a, start=world.class_a.year.start, end=END, footer=footer)
    assert f"<s>{journal['old']}</s> {journal['new']}<sup>1</sup>" in html
    texts = _texts(render_pdf(html))
    assert all("K7Q2-M9XA" in t for t in texts)
    assert PrintedCopy.objects.count() == 0  # the archive records its own copies


def test_queries_are_constant_per_subject(world, journal):
    math = journal["math"]
    ctx = build_context(world.director, world.school)
    one = f.make_assignment(world.teacher, world.class_a, f.SubjectFactory(school=world.school, name="Фізика"))
    f.make_grid(one, students=0, lessons=5)
    two = f.make_assignment(world.teacher, world.class_a, f.SubjectFactory(school=world.school, name="Хімія"))
    f.make_grid(two, students=0, lessons=5)

    def count(ids):
        with CaptureQueriesContext(connection) as queries:
            class_journal(
                ctx,
                world.class_a,
                printable_assignments(ctx, world.class_a),
                start=world.class_a.year.start,
                end=END,
                assignment_ids=ids,
            )
        return len(queries)

    base, more, most = count([math.pk]), count([math.pk, one.pk]), count([math.pk, one.pk, two.pk])
    assert more - base == most - more <= 12  # read_grid's few queries per subject and period, nothing per row
    assert base <= 40


def test_weasyprint_renders_with_the_narrowed_user_agent_stylesheet():
    """``render_pdf`` leaves out WeasyPrint's pseudo-element rules on every element (docs/performance.md: the
    journal's PDF costs ~40 % more without it). A WeasyPrint that writes them otherwise silently gets its own
    stylesheet back: this test tells, so the rules are narrowed again. Lists keep their markers."""
    from weasyprint import HTML

    narrowed = documents._html_class()
    assert narrowed is not HTML
    pdf = render_pdf("<ol><li>перший</li><li>другий</li></ol>")
    assert sorted(_texts(pdf)[0].split()) == ["1.", "2.", "другий", "перший"]


def test_render_pdf_pauses_the_garbage_collector_only_while_it_renders(monkeypatch):
    """WeasyPrint lays the document out with Python's cyclic collector paused (docs/performance.md: a third of
    a year journal's CPU time was the collector walking the document); it runs again afterwards, and one that
    was off before is left off."""
    import gc

    seen = []
    html_class = documents._html_class()

    class Watching(html_class):  # type: ignore[misc, valid-type]
        def write_pdf(self, *args, **kwargs):
            seen.append(gc.isenabled())
            return super().write_pdf(*args, **kwargs)

    monkeypatch.setattr(documents, "_html_class", lambda: Watching)
    assert gc.isenabled()
    assert _texts(render_pdf("<p>перший</p>")) == ["перший"]
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        render_pdf("<p>другий</p>")
        assert not gc.isenabled()
    finally:
        gc.enable()
