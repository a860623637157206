"""The personal file (annex 5) after a departure and the alphabetical book (annex 6), on screen and as PDF."""

from __future__ import annotations

import pytest
from django.utils import timezone

from classbook.access.context import build_context
from classbook.journal.models import GradeKind, PeriodGrade
from classbook.records import queries, services
from classbook.records.models import LineInput, OrderInput, OrderKind
from classbook.schools.models import ScaleValue, TeachingAssignment
from tests import factories as f
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _sign(world, kind, line, number):
    today = timezone.localdate()
    data = OrderInput(year_id=world.class_a.year_id, number=number, date=today, effective_on=today, kind=kind,
                      text="Наказ", lines=[line])  # fmt: skip
    order = services.create_order(acting_user=world.secretary, school=world.school, data=data)
    return services.sign_order(acting_user=world.director, order=order)


def test_the_personal_file_is_kept_after_departure_with_its_order_and_results(world):
    assignment = TeachingAssignment.objects.get(school_class=world.class_a)
    period = f.PeriodFactory(year=world.class_a.year, school=world.school)
    value = ScaleValue.objects.filter(scale__school=world.school, period_only=False).order_by("-numeric").first()
    PeriodGrade.objects.create(school=world.school, assignment=assignment, student=world.student, period=period,
                               kind=GradeKind.PERIOD, value=value, set_by=world.teacher)  # fmt: skip
    order = _sign(world, OrderKind.DEPARTURE, LineInput(student_id=world.student.pk, reason="Гімназія № 2"), 12)

    page = client_for(world.secretary).get(f"/s/lyceum-1/records/students/{world.student.pk}/file/")
    text = page.content.decode()
    assert page.status_code == 200
    assert order.reference in text and "Гімназія № 2" in text and "Математика" in text and value.code in text
    pdf = client_for(world.secretary).get(f"/s/lyceum-1/records/students/{world.student.pk}/file.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    handed = client_for(world.secretary).get(f"/api/v1/schools/lyceum-1/students/{world.student.pk}/personal-file.pdf")
    assert handed.status_code == 200 and handed.content.startswith(b"%PDF")
    # The class teacher kept the student's file while they were in the class; not after.
    assert (
        client_for(world.class_teacher).get(f"/s/lyceum-1/records/students/{world.student.pk}/file/").status_code == 404
    )


def test_the_alphabetical_book_cites_arrival_and_departure_orders(world, django_assert_max_num_queries):
    arrival = _sign(world, OrderKind.ARRIVAL, LineInput(new_student={"last_name": "Абрамова", "first_name": "Іра"},
                                                        target_class_id=world.class_b.pk), 1)  # fmt: skip
    departure = _sign(world, OrderKind.DEPARTURE, LineInput(student_id=world.other_student.pk, reason="Львів"), 2)
    ctx = build_context(world.secretary, world.school)
    with django_assert_max_num_queries(4):
        rows = queries.alphabetical_book(ctx)
    first = rows[0]
    assert (
        first.student.user.last_name == "Абрамова" and first.arrival == arrival.reference and first.first_class == "5-Б"
    )
    gone = next(r for r in rows if r.student.pk == world.other_student.pk)
    assert (gone.departure, gone.departure_reason) == (departure.reference, "Львів")
    pdf = client_for(world.secretary).get("/s/lyceum-1/records/alphabetical-book.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    book = client_for(world.secretary).get("/s/lyceum-1/records/orders/book.pdf")
    assert book.status_code == 200 and book.content.startswith(b"%PDF")
    assert client_for(world.secretary).get("/s/lyceum-1/records/orders/book.pdf?year=abc").status_code == 302
    for persona in ("teacher", "parent", "student"):
        assert client_for(world.persona(persona)).get("/s/lyceum-1/records/alphabetical-book.pdf").status_code == 403
