"""Printing a copy: the document, its PDF and its record, in that order (issue 12, R6.6).

Above the documents and the services: the verification code is chosen first (it is printed on every page),
then the PDF is rendered and recorded with its SHA-256.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from classbook.access.context import SchoolContext
from classbook.access.printing import certifier_role, may_print_contacts, may_print_whole_class, printable_assignments
from classbook.people.models import Role
from classbook.printing import documents, services
from classbook.printing.models import PrintedCopy, PrintKind
from classbook.printing.queries import SECTIONS, SUBJECT_SECTIONS, class_journal, summaries
from classbook.schools.models import SchoolClass


@dataclass(frozen=True)
class Printed:
    copy: PrintedCopy
    pdf: bytes

    @property
    def filename(self) -> str:
        return f"{self.copy.kind}-{self.copy.school_class.name}-{self.copy.code}.pdf"


def _certification(ctx: SchoolContext, certify: bool) -> documents.Certification | None:
    role = certifier_role(ctx)
    if not certify or role is None:
        return None
    return documents.Certification(str(Role(role).label), ctx.user.full_name, timezone.localdate())


def _footer(ctx: SchoolContext, certify: bool) -> documents.PrintFooter:
    return documents.PrintFooter(
        code=services.new_code(),
        generated_at=timezone.now(),
        printed_by=ctx.user.full_name,
        certification=_certification(ctx, certify),
    )


def _record(
    ctx: SchoolContext,
    school_class: SchoolClass,
    kind: str,
    footer: documents.PrintFooter,
    pdf: bytes,
    start: dt.date,
    end: dt.date,
    contents: dict[str, object],
) -> Printed:
    c = footer.certification
    copy = services.record_printed_copy(
        acting_user=ctx.user,
        school_class=school_class,
        kind=kind,
        code=footer.code,
        pdf=pdf,
        start=start,
        end=end,
        contents=contents,
        printed_at=footer.generated_at,
        certifier_position=c.position if c else "",
        certifier_name=c.name if c else "",
    )
    return Printed(copy, pdf)


def print_journal(
    ctx: SchoolContext,
    school_class: SchoolClass,
    *,
    start: dt.date,
    end: dt.date,
    assignment_ids: list[int] | None = None,
    sections: tuple[str, ...] = SECTIONS,
    certify: bool = False,
    base_url: str | None = None,
) -> Printed:
    """Print the journal pages the user asked for (only those they may print) and record the copy."""
    if not may_print_whole_class(ctx, school_class):
        sections = tuple(s for s in sections if s in SUBJECT_SECTIONS)
    footer = _footer(ctx, certify)
    journal = class_journal(
        ctx,
        school_class,
        printable_assignments(ctx, school_class),
        start=start,
        end=end,
        assignment_ids=assignment_ids,
        sections=sections,
        contacts=may_print_contacts(ctx, school_class),
    )
    pdf = documents.render_pdf(documents.journal_html(journal, footer), base_url=base_url)
    contents: dict[str, object] = {
        "subjects": journal.subjects,
        "journals": sorted({p.assignment_id for p in journal.parts}),
        "sections": list(sections),
    }
    return _record(ctx, school_class, PrintKind.JOURNAL, footer, pdf, start, end, contents)


def print_summary(
    ctx: SchoolContext,
    school_class: SchoolClass,
    *,
    start: dt.date,
    end: dt.date,
    certify: bool = False,
    base_url: str | None = None,
) -> Printed:
    """Print the class's summary sheets of the periods ending in the days (the reports' sheets) and record it."""
    footer = _footer(ctx, certify)
    sheets = summaries(printable_assignments(ctx, school_class), school_class, start, end)
    pdf = documents.render_pdf(documents.summary_sheet_html(school_class, sheets, footer), base_url=base_url)
    contents: dict[str, object] = {"periods": [s.scope.title for s in sheets], "sections": ["summary"]}
    return _record(ctx, school_class, PrintKind.SUMMARY, footer, pdf, start, end, contents)
