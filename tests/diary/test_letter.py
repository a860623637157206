"""The information letter for parents (R5.6): from the journal's data, as a page and a PDF, for the
student's family and for the class teacher (one student or the whole class in one PDF)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from classbook.journal import services as journal
from classbook.schools.models import School
from tests import factories as f


def pdf_pages(response) -> list[str]:
    assert response["Content-Type"] == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


@pytest.fixture
def lettered(world, diary):
    School.objects.filter(pk=world.school.pk).update(address="вул. Шкільна, 1", phone="+380441234567")
    journal.record_attendance(
        acting_user=world.teacher, lesson=diary.thu_math, student=world.student, text="хв", expected_version=0
    )
    journal.record_period_grade(
        acting_user=world.teacher,
        assignment=diary.math,
        student=world.student,
        period=diary.period,
        kind="period",
        text="11",
        expected_version=0,
    )
    return diary


def letter_url(world, name="letter", period=None, student=None):
    url = reverse(f"diary:{name}", args=[world.school.slug, (student or world.student).pk])
    return f"{url}?period={period.pk}" if period else url


@pytest.mark.parametrize("persona", ["parent", "student", "class_teacher"])
def test_the_letter_page(world, lettered, as_user, persona):
    response = as_user(world.persona(persona)).get(letter_url(world, period=lettered.period))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ["Ліцей № 1", "вул. Шкільна, 1", world.student.user.full_name, "5-А", "I семестр", "Математика"]:
        assert escape(text) in html, text
    assert escape(world.class_teacher.full_name) in html
    report = response.context["reports"][0]
    assert (report.attendance.absent, report.attendance.excused, report.attendance.unexcused) == (2, 1, 1)
    assert letter_url(world, "letter_pdf") in html


def test_the_letter_pdf_reads_back(world, lettered, as_user):
    response = as_user(world.parent).get(letter_url(world, "letter_pdf", period=lettered.period))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    (text,) = pdf_pages(response)
    flat = " ".join(text.split())
    for part in [
        "Ліцей № 1",
        "Information letter for parents",
        world.student.user.full_name,
        "Математика",
        "10",  # the mark
        "11",  # the semester grade
        world.class_teacher.full_name,
    ]:
        assert part in flat, part
    assert "Missed lessons: 2, of them excused: 1, unexcused: 1" in flat


def test_one_pdf_for_the_whole_class_one_page_per_student(world, lettered, as_user):
    extra = [f.make_student(world.class_a) for _ in range(2)]
    url = reverse("diary:class_letters_pdf", args=[world.school.slug, world.class_a.pk])
    pages = pdf_pages(as_user(world.class_teacher).get(f"{url}?period={lettered.period.pk}"))
    assert len(pages) == 3
    names = {s.user.full_name for s in [world.student, *extra]}
    assert {next(n for n in names if n in " ".join(p.split())) for p in pages} == names
    # Nobody of class_b in the class's letters.
    assert all(world.other_student.user.full_name not in p for p in pages)


def test_the_class_page_lists_the_students(world, lettered, as_user, django_assert_max_num_queries):
    for _ in range(5):
        f.make_student(world.class_a)
    client = as_user(world.class_teacher)
    url = reverse("diary:class_letters", args=[world.school.slug, world.class_a.pk])
    client.get(url)
    with django_assert_max_num_queries(12):  # 4 session and context + class, periods, people, policy, 4 report
        response = client.get(url)
    assert len(response.context["reports"]) == 6
