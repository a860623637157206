"""Notifications API (R5.5, R2.10): the caller's own notifications per school, marking them read, their
preferences, linking Telegram, and the class teacher's notices. Thin: queries and services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from classbook.access import notifications as notices_access
from classbook.access.context import resolve_school, school_for
from classbook.api.pagination import ListQuery, Page, Sorts, paginate
from classbook.notifications import queries, services
from classbook.people.models import User

router = Router(tags=["notifications"])
me_router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: dt.datetime
    read: bool


class InboxOut(Page[NotificationOut]):
    unread: int = Field(description="How many of your notifications in this school are unread (all pages)")


NOTIFICATION_SORTS = Sorts("-created_at", created_at="created_at", id="id")
CANDIDATE_SORTS = Sorts("name", name="name", average="average", absences="absences", id="student_id")


class InboxQuery(ListQuery):
    unread: bool = Field(False, description="Only unread notifications")
    sort: str = NOTIFICATION_SORTS.field()


class CandidateQuery(ListQuery):
    sort: str = CANDIDATE_SORTS.field()


class ReadIn(Schema):
    ids: list[int] | None = Field(None, description="Notifications to mark read; omit to mark all read")


class ReadOut(Schema):
    marked: int
    unread: int


_SETTABLE_KINDS: list[Any] = services.settable_kinds()


class PreferenceIO(Schema):
    # The service refuses any other kind ("Unknown kind of notification."): the document lists them.
    kind: str = Field(json_schema_extra={"enum": _SETTABLE_KINDS})
    in_app: bool = True
    email: bool = True
    telegram: bool = True
    sms: bool = False
    viber: bool = False
    digest: bool = False


class PreferenceOut(PreferenceIO):
    label: str


class TelegramOut(Schema):
    available: bool
    linked: bool
    linked_at: dt.datetime | None


class TelegramCodeOut(Schema):
    code: str
    command: str
    url: str


class CandidateOut(Schema):
    student_id: int
    name: str
    average: Decimal | None
    absences: int
    failing: bool
    often_absent: bool


class NoticeIn(Schema):
    students: list[int]


class NoticeOut(Schema):
    id: int
    student_id: int
    average: Decimal | None
    absences: int
    recipients: int
    sent_at: dt.datetime


@router.get("/{school}/notifications", response=InboxOut, summary="Your notifications in this school, newest first")
def inbox(request: HttpRequest, school: str, q: Query[InboxQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    rows = queries.own_filtered(ctx, unread_only=q.unread)
    return {**paginate(request, rows, q, NOTIFICATION_SORTS, queries.rendered), "unread": queries.unread_count(ctx)}


@router.post("/{school}/notifications/read", response=ReadOut, summary="Mark your notifications read")
def mark_read(request: HttpRequest, school: str, payload: ReadIn) -> dict[str, int]:
    ctx = resolve_school(request.user, school)
    marked = services.mark_read(acting_user=ctx.user, school=ctx.school, ids=payload.ids)
    return {"marked": marked, "unread": queries.unread_count(ctx)}


@router.get(
    "/{school}/classes/{class_id}/notices", response=Page[CandidateOut], summary="Students over the notice thresholds"
)
def notice_candidates(request: HttpRequest, school: str, class_id: int, q: Query[CandidateQuery]) -> dict[str, Any]:
    ctx = resolve_school(request.user, school)
    return paginate(request, services.notice_candidates(queries.homeroom_class(ctx, class_id)), q, CANDIDATE_SORTS)


@router.post(
    "/{school}/classes/{class_id}/notices", response=list[NoticeOut], summary="Send the class teacher's notice (R2.10)"
)
def send_notices(request: HttpRequest, school: str, class_id: int, payload: NoticeIn) -> list[Any]:
    ctx = school_for(request.user, school, notices_access.may_send_class_notices)
    school_class = queries.homeroom_class(ctx, class_id)
    return services.send_class_notices(acting_user=ctx.user, school_class=school_class, student_ids=payload.students)


@me_router.get("/notification-preferences", response=list[PreferenceOut], summary="Your notification preferences")
def get_preferences(request: HttpRequest) -> list[dict[str, Any]]:
    return services.preferences(request.user)


def _signed_in(request: HttpRequest) -> User:
    """The caller of a ``/me`` route (``api_auth`` lets only signed-in, active users through)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


@me_router.put(
    "/notification-preferences", response=list[PreferenceOut], summary="Change your notification preferences"
)
def put_preferences(request: HttpRequest, payload: list[PreferenceIO]) -> list[dict[str, Any]]:
    return services.set_preferences(acting_user=_signed_in(request), items=[p.dict() for p in payload])


@me_router.get("/telegram", response=TelegramOut, summary="Whether your Telegram chat is linked")
def telegram(request: HttpRequest) -> dict[str, Any]:
    return services.telegram_status(request.user)


@me_router.post("/telegram", response=TelegramCodeOut, summary="A one-time code to send to the bot as /start <code>")
def telegram_code(request: HttpRequest) -> dict[str, str]:
    return services.start_telegram_link(acting_user=_signed_in(request))


@me_router.delete("/telegram", response=TelegramOut, summary="Unlink your Telegram chat")
def telegram_unlink(request: HttpRequest) -> dict[str, Any]:
    services.unlink_telegram(acting_user=_signed_in(request))
    return services.telegram_status(request.user)
