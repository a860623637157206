"""The printed record books (PDF, WeasyPrint through ``printing.documents.render_pdf``): the book of orders
(annexes 7-8 of order No. 423 of 10.05.2011), a personal file (annex 5) and the alphabetical book (annex 6)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from classbook.printing.documents import render_pdf
from classbook.records.models import Order
from classbook.records.queries import BookRow, PersonalFile
from classbook.schools.models import AcademicYear, School


def _pdf(template: str, context: dict[str, Any]) -> bytes:
    return render_pdf(render_to_string(template, {**context, "generated": timezone.localtime()}))


def order_book_pdf(school: School, year: AcademicYear, orders: list[Order]) -> bytes:
    return _pdf("records/order_book_pdf.html", {"school": school, "year": year, "orders": orders})


def personal_file_pdf(school: School, file: PersonalFile) -> bytes:
    return _pdf("records/personal_file_pdf.html", {"school": school, "file": file})


def alphabetical_book_pdf(school: School, rows: list[BookRow]) -> bytes:
    return _pdf("records/alphabetical_book_pdf.html", {"school": school, "rows": rows})
