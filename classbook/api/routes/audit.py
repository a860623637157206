"""The school's audit log over JSON: ``GET /api/v1/schools/{school}/audit`` (VIEW_AUDIT_LOG).

The same read model as the page (``classbook.audit.queries``): newest first, filtered by ``person``
(a user id; ``person_role`` = ``any`` | ``actor`` | ``subject``), ``action`` (exact, or a prefix ending
with a dot: ``people.``), ``object_type`` + ``object_id``, ``since`` / ``until`` (days, inclusive).
The answer is the API's one page shape (``classbook.api.pagination``) paged by keyset cursor, not offset:
follow ``next`` (older entries: ``before=``) and ``previous`` (newer: ``after=``); ``count`` is null (the log
only grows and is too long to count on every page).
Administrators and directors only; another school answers 404, other roles 403, bad input 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from classbook.access import scopes
from classbook.access.context import school_for
from classbook.api.pagination import Page, envelope
from classbook.audit import queries
from classbook.core.errors import DomainError

router = Router(tags=["audit"])


class AuditQuery(Schema):
    person: int | None = Field(None, ge=1, le=2**62)
    person_role: Literal["any", "actor", "subject"] = "any"
    action: str = Field("", max_length=100)
    object_type: str = Field("", max_length=100)
    object_id: str = Field("", max_length=64)
    since: dt.date | None = None
    until: dt.date | None = None
    before: str = Field("", max_length=40, description="Entries older than this cursor (set by ``next``)")
    after: str = Field("", max_length=40, description="Entries newer than this cursor (set by ``previous``)")
    limit: int = Field(queries.PAGE_SIZE, ge=1, le=200)
    sort: Literal["-at"] = Field("-at", description="Newest first: the only order a keyset cursor pages")


class AuditEntryOut(Schema):
    id: int
    at: dt.datetime
    action: str
    label: str
    actor: int | None
    actor_name: str
    subject: int | None
    subject_name: str
    object_type: str
    object_id: str
    data: dict[str, Any]
    account_wide: bool = Field(description="An entry without a school (a login) about a member of this school")


AuditPageOut = Page[AuditEntryOut]


def _cursor(text: str, field: str) -> queries.Cursor | None:
    if not text:
        return None
    cursor = queries.Cursor.decode(text)
    if cursor is None:
        raise DomainError(_("This page cursor is not valid; start from the first page."), field=field)
    return cursor


def _filters(q: AuditQuery) -> queries.AuditFilter:
    if q.action and not queries.valid_action(q.action):
        raise DomainError(_("Choose an action from the list."), field="action")
    if q.object_type and not queries.valid_object_type(q.object_type):
        raise DomainError(_("An object type looks like “people.user”."), field="object_type")
    if q.since and q.until and q.since > q.until:
        raise DomainError(_("The last day is before the first day."), field="until")
    return queries.AuditFilter(
        person=q.person,
        person_role=q.person_role,
        action=q.action,
        object_type=q.object_type,
        object_id=q.object_id.strip(),
        since=q.since,
        until=q.until,
    )


@router.get("/{school}/audit", response=AuditPageOut, summary="The school's audit log, newest first")
def audit_log(request: HttpRequest, school: str, q: Query[AuditQuery]) -> dict[str, Any]:
    ctx = school_for(request.user, school, scopes.may_view_audit_log)
    filters = _filters(q)
    before, after = _cursor(q.before, "before"), _cursor(q.after, "after")
    page = queries.audit_page(ctx, filters, before=before, after=after, size=q.limit)
    items = [
        {
            "id": r.id,
            "at": r.at,
            "action": r.action,
            "label": r.label,
            "actor": r.actor_id,
            "actor_name": r.actor_name,
            "subject": r.subject_id,
            "subject_name": r.subject_name,
            "object_type": r.object_type,
            "object_id": r.object_id,
            "data": r.data,
            "account_wide": r.without_school,
        }
        for r in page.rows
    ]
    return envelope(
        items,
        limit=q.limit,
        following=_link(request, "before", page.older),
        preceding=_link(request, "after", page.newer),
    )


def _link(request: HttpRequest, name: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = request.GET.copy()
    params.pop("before", None)
    params.pop("after", None)
    params[name] = cursor
    return f"{request.path}?{params.urlencode()}"
