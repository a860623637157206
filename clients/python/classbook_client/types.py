"""Typed shapes of the main answers (the OpenAPI document at ``/api/v1/openapi.json`` is complete; these
are the fields a client most often reads). ``total=False``: a newer server may add fields, never remove
them within v1 (docs/api.md "Versioning")."""

from __future__ import annotations

from typing import Any, Generic, TypedDict, TypeVar

T = TypeVar("T")


class Page(TypedDict, Generic[T], total=False):
    """One page of a list (docs/api.md "Pagination"); ``next``/``previous``: path and query, or None."""

    items: list[T]
    count: int | None  # all the matching items; None where not counted (the audit log)
    limit: int
    next: str | None
    previous: str | None


class SchoolRef(TypedDict, total=False):
    slug: str
    name: str


class Me(TypedDict, total=False):
    id: int
    username: str
    full_name: str
    language: str
    two_factor: bool
    schools: list[SchoolRef]


class Assignment(TypedDict, total=False):
    id: int
    subject: str
    school_class: str
    subgroup: str | None
    teacher: str
    hours_per_week: str  # a decimal, as a string
    can_edit: bool


class Mark(TypedDict, total=False):
    id: int
    lesson: int
    student: int
    work_type: str
    slot: int
    value: str
    comment: str
    version: int
    is_late: bool


class Attendance(TypedDict, total=False):
    id: int | None
    lesson: int
    student: int
    value: str
    reason: str
    version: int
    is_late: bool


class Grid(TypedDict, total=False):
    assignment: Assignment
    period: dict[str, Any]
    students: list[dict[str, Any]]
    lessons: list[dict[str, Any]]
    marks: list[Mark]
    attendance: list[dict[str, Any]]
    period_grades: list[dict[str, Any]]


class DiaryDay(TypedDict, total=False):
    date: str
    is_day_off: bool
    lessons: list[dict[str, Any]]


class DiaryWeek(TypedDict, total=False):
    student: dict[str, Any]
    start: str
    end: str
    days: list[DiaryDay]


class Webhook(TypedDict, total=False):
    id: int
    url: str
    description: str
    events: list[str]
    is_active: bool
    created_at: str
    previous_secret_until: str | None
    waiting: int
    failed: int
    last_delivery_at: str | None


class Delivery(TypedDict, total=False):
    id: int
    event_id: str
    event: str
    status: str  # pending, sending, sent, failed
    attempts: int
    response_code: int | None
    last_error: str
    created_at: str
    last_attempt_at: str | None
    delivered_at: str | None
    next_attempt_at: str | None
