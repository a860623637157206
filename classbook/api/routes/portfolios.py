"""Portfolios over JSON (R8.2): ``GET /api/v1/schools/{school}/portfolios/students/{student_id}``.

Thin: the same read model as the page (``portfolios.queries.student_portfolio``, scoped by
``classbook.access.portfolios``): a student reads their own, a parent their child's, a teacher what the class
teacher shared; a student the caller may not see answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema

from classbook.access import portfolios as rules
from classbook.access.context import school_for
from classbook.portfolios import queries
from classbook.portfolios.models import Entry

router = Router(tags=["portfolios"])


class EntryOut(Schema):
    id: int
    kind: str = Field(description="work, achievement, certificate or olympiad")
    title: str
    day: dt.date
    description: str
    file_name: str
    file_url: str | None = Field(description="The file's download address (the page's), null without a file")
    sharing: str = Field(description="family, requested, class or school")
    requested: str = Field(description="What a request asks for: class or school; empty otherwise")
    shared_by: str | None
    shared_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime


class PortfolioOut(Schema):
    student: int
    name: str
    closed: bool = Field(description="true: the student's enrolment is closed; the portfolio is read-only")
    verification_code: str
    entries: list[EntryOut]


def _entry_out(school: str, e: Entry) -> dict[str, Any]:
    url = reverse("portfolios:entry_file", kwargs={"school": school, "entry_id": e.pk}) if e.file_name else None
    return {
        "id": e.pk,
        "kind": e.kind,
        "title": e.title,
        "day": e.day,
        "description": e.description,
        "file_name": e.file_name,
        "file_url": url,
        "sharing": e.sharing,
        "requested": e.requested,
        "shared_by": e.shared_by.full_name if e.shared_by else None,
        "shared_at": e.shared_at,
        "created_by": e.created_by.full_name,
        "created_at": e.created_at,
    }


@router.get(
    "/{school}/portfolios/students/{student_id}",
    response=PortfolioOut,
    summary="A student's portfolio as the caller sees it",
)
def student_portfolio(request: HttpRequest, school: str, student_id: int) -> dict[str, Any]:
    ctx = school_for(request.user, school, rules.may_read_portfolios)
    portfolio = queries.student_portfolio(ctx, student_id)
    assert portfolio.student is not None
    return {
        "student": portfolio.student.pk,
        "name": portfolio.student.user.full_name,
        "closed": portfolio.rights.closed,
        "verification_code": portfolio.fingerprint,
        "entries": [_entry_out(school, e) for e in portfolio.entries],
    }
