"""Printed journals over the API (issue 12, R6.6): ``/api/v1/schools/{school}/print/...``.

The same rules and the same printer as the pages (``classbook.access.printing``, ``classbook.printing.printer``):
a teacher prints their own subjects, a class teacher their class, the administration the school; every PDF
is recorded with its verification code (the ``X-Verification-Code`` header). 404 for a class the caller may
not print or another school's, 403 for roles that never print, 422 for bad days or sections.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from classbook.access import printing as access
from classbook.access.context import SchoolContext, school_for
from classbook.access.scopes import get_or_404
from classbook.core.errors import DomainError
from classbook.printing import printer
from classbook.printing.forms import range_error
from classbook.printing.queries import SECTIONS
from classbook.printing.services import normalise_code
from classbook.schools.models import SchoolClass

router = Router(tags=["printing"])


class PrintIn(Schema):
    start: dt.date
    end: dt.date
    journals: list[int] | None = None  # teaching assignment ids; None: every journal the caller may print
    sections: list[str] | None = None  # of ``title, contents, subjects, summary, attendance, remarks, students``
    certify: bool = False


class CopyOut(Schema):
    code: str
    kind: str
    school_class: str
    start: dt.date
    end: dt.date
    printed_at: dt.datetime
    printed_by: str | None
    pages: int
    size: int
    sha256: str
    certified: bool
    certifier: str
    contents: dict[str, object]


def _printer(request: HttpRequest, school: str) -> SchoolContext:
    return school_for(request.user, school, access.may_print)


def _class(ctx: SchoolContext, class_id: int) -> SchoolClass:
    return get_or_404(access.printable_classes(ctx).select_related("school", "class_teacher"), pk=class_id)


def _checked(body: PrintIn) -> None:
    error = range_error(body.start, body.end)
    if error:
        raise DomainError(error, field="end")
    if body.sections is not None and (not body.sections or any(s not in SECTIONS for s in body.sections)):
        raise DomainError("sections: " + ", ".join(SECTIONS), code="invalid_sections", field="sections")


def _pdf(printed: printer.Printed) -> HttpResponse:
    response = HttpResponse(printed.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{printed.filename}"'
    response["X-Verification-Code"] = printed.copy.code
    return response


@router.post(
    "/{school}/print/classes/{class_id}/journal",
    response={200: None},
    summary="Print a class's journal pages as a PDF in the paper journal's layout (R6.6)",
)
def print_journal(request: HttpRequest, school: str, class_id: int, body: PrintIn) -> HttpResponse:
    ctx = _printer(request, school)
    school_class = _class(ctx, class_id)
    _checked(body)
    printed = printer.print_journal(
        ctx,
        school_class,
        start=body.start,
        end=body.end,
        assignment_ids=body.journals,
        sections=tuple(body.sections) if body.sections is not None else SECTIONS,
        certify=body.certify,
    )
    return _pdf(printed)


@router.post(
    "/{school}/print/classes/{class_id}/summary",
    response={200: None},
    summary="Print a class's summary sheets of grades as a PDF (R6.6, R6.2)",
)
def print_summary(request: HttpRequest, school: str, class_id: int, body: PrintIn) -> HttpResponse:
    ctx = _printer(request, school)
    school_class = _class(ctx, class_id)
    if not access.may_print_whole_class(ctx, school_class):
        raise PermissionDenied
    _checked(body)
    return _pdf(printer.print_summary(ctx, school_class, start=body.start, end=body.end, certify=body.certify))


@router.get("/{school}/print/copies/{code}", response=CopyOut, summary="What a printed copy holds, by its code")
def copy(request: HttpRequest, school: str, code: str) -> dict[str, object]:
    ctx = school_for(request.user, school, access.may_verify)
    found = get_or_404(access.verifiable_copies(ctx), code=normalise_code(code))
    return {
        "code": found.code,
        "kind": found.kind,
        "school_class": found.school_class.name,
        "start": found.start,
        "end": found.end,
        "printed_at": found.printed_at,
        "printed_by": found.printed_by.full_name if found.printed_by else None,
        "pages": found.pages,
        "size": found.size,
        "sha256": found.sha256,
        "certified": found.certified,
        "certifier": f"{found.certifier_position} {found.certifier_name}".strip(),
        "contents": found.contents,
    }
