"""The book of certificates issued as a PDF in the official layout (R7.3), through the printing app's renderer."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from classbook.access.context import SchoolContext
from classbook.printing.documents import render_pdf
from classbook.roster import queries


def certificate_book_pdf(ctx: SchoolContext, year: int | None, *, base_url: str | None = None) -> bytes:
    """Every line of the book (of one year of issue, if given), numbered in the order of issue, with a column
    for the receiver's signature; a corrected line is marked (its old values are in the audit log)."""
    context = {
        "school": ctx.school,
        "year": year,
        "rows": queries.certificate_book(ctx, year),
        "printed_at": timezone.localtime(),
        "printed_by": ctx.user.full_name,
    }
    return render_pdf(render_to_string("roster/certificate_book_pdf.html", context), base_url=base_url)
