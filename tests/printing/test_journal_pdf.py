"""The printed class journal read back from the PDF (issue 12, R6.6): pages, cells, a struck-through
correction with who and when, the running head and foot with the verification code."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from classbook.journal.models import Lesson, Mark
from classbook.journal.services import add_remark, record_mark
from classbook.printing.documents import Certification, PrintFooter, class_journal_html, render_pdf
from tests import factories as f


def _pdf_text(pdf: bytes) -> tuple[int, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), [page.extract_text() for page in reader.pages]


@pytest.fixture
def printed(world):
    math = world.class_a.teaching_assignments.get() if hasattr(world.class_a, "teaching_assignments") else None
    from classbook.schools.models import TeachingAssignment

    math = TeachingAssignment.objects.get(school_class=world.class_a, subject=world.subject)
    f.make_grid(math, students=4, lessons=30, fill=0.7)
    lesson = Lesson.objects.filter(assignment=math).order_by("date").first()
    mark = Mark.objects.filter(lesson=lesson, student=world.student).first()
    if mark is None:
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
    footer = PrintFooter(
        code="K7Q2-M9XA",
        generated_at=timezone.now(),
        certification=Certification("Директор", "Іван Петренко", dt.date(2026, 12, 3)),
    )
    html = class_journal_html(world.class_a, start=world.class_a.year.start, end=dt.date(2026, 12, 3), footer=footer)
    return {"html": html, "pdf": render_pdf(html), "old": old, "new": new, "lesson": lesson}


def test_the_journal_prints_title_subject_pages_correction_and_code(world, printed):
    pages, texts = _pdf_text(printed["pdf"])
    text = "\n".join(texts)
    print(text[:3000])
    assert pages >= 8
    assert "Ліцей № 1" in texts[0] and "5-А" in texts[0]
    assert all("K7Q2-M9XA" in t for t in texts)
    assert f"Page {pages} of {pages}" in texts[-1]
    assert "Математика" in text
    assert f"«{printed['old']}» corrected to «{printed['new']}»" in text
    assert "Не записано домашнє завдання" in text
    assert "True to the original" in text and "Іван Петренко" in text
