"""Read models for the account and credential pages: few, explicit queries returning plain data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.sessions.models import Session
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from classbook.people.models import (
    ActivationCode,
    ApiToken,
    Enrolment,
    GuardianLink,
    Membership,
    Role,
    User,
    UserSession,
)
from classbook.schools.models import School

PERSON_KINDS = ("staff", "students", "parents")


@dataclass
class CodeRow:
    """One person on the activation-codes page (R1.2)."""

    user: User
    roles: list[str]
    classes: list[str] = field(default_factory=list)
    has_logged_in: bool = False
    code_issued_at: dt.datetime | None = None
    code_expires_at: dt.datetime | None = None

    @property
    def code_expired(self) -> bool:
        return self.code_expires_at is not None and self.code_expires_at <= timezone.now()

    @property
    def describe(self) -> str:
        """Role and class for the slip, e.g. "Student, 5-А"."""
        parts = ", ".join(self.roles)
        return f"{parts}, {', '.join(self.classes)}" if self.classes else parts


def filter_people(people: QuerySet[User], *, school: School, class_id: int | None, kind: str) -> QuerySet[User]:
    """Narrow a scoped queryset of people to a class (its students and their parents) and/or a kind."""
    if class_id is not None:
        people = people.filter(
            Q(student__enrolments__school_class_id=class_id, student__enrolments__end__isnull=True)
            | Q(
                guardian_links__school=school,
                guardian_links__ended_on__isnull=True,
                guardian_links__student__enrolments__school_class_id=class_id,
                guardian_links__student__enrolments__end__isnull=True,
            )
        )
    roles = {"staff": [r.value for r in Role if r not in (Role.STUDENT, Role.PARENT)], "students": ["student"]}
    roles["parents"] = ["parent"]
    if kind in roles:
        people = people.filter(memberships__school=school, memberships__role__in=roles[kind])
    return people.distinct()


def code_rows(people: QuerySet[User], *, school: School) -> list[CodeRow]:
    """People with their roles and classes in ``school`` and the state of their credentials.

    A constant number of queries, whatever the number of people.
    """
    latest_code = ActivationCode.objects.filter(
        user=OuterRef("pk"), school=school, used_at__isnull=True, revoked_at__isnull=True
    ).order_by("-issued_at")
    today = timezone.localdate()
    current_enrolments = Enrolment.objects.filter(school=school, end__isnull=True).select_related("school_class")
    qs = (
        people.annotate(
            code_issued_at=Subquery(latest_code.values("issued_at")[:1]),
            code_expires_at=Subquery(latest_code.values("expires_at")[:1]),
        )
        .select_related("student")
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(school=school, is_active=True).exclude(until__lt=today),
                to_attr="school_memberships",
            ),
            Prefetch("student__enrolments", queryset=current_enrolments, to_attr="current_enrolments"),
            Prefetch(
                "guardian_links",
                queryset=GuardianLink.objects.filter(school=school, ended_on__isnull=True).prefetch_related(
                    Prefetch("student__enrolments", queryset=current_enrolments, to_attr="current_enrolments")
                ),
                to_attr="school_guardian_links",
            ),
        )
        .order_by("last_name", "first_name", "patronymic", "pk")
    )
    rows = []
    user: Any  # prefetched attributes (school_memberships, ...) are not on the model class
    for user in qs:
        memberships: list[Membership] = list(user.school_memberships)
        role_labels = [str(m.get_role_display()) for m in sorted(memberships, key=lambda m: m.role)]
        classes: list[str] = []
        student: Any = getattr(user, "student", None)
        if student is not None and student.school_id == school.pk:
            classes += [e.school_class.name for e in student.current_enrolments]
        for link in user.school_guardian_links:
            classes += [e.school_class.name for e in link.student.current_enrolments]
        rows.append(
            CodeRow(
                user=user,
                roles=role_labels,
                classes=sorted(set(classes)),
                has_logged_in=user.last_login is not None,
                code_issued_at=user.code_issued_at,
                code_expires_at=user.code_expires_at,
            )
        )
    return rows


def user_sessions(user: User) -> QuerySet[UserSession]:
    """The user's sessions that are still alive (expired Django sessions are not listed)."""
    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=alive).order_by("-last_seen")


def api_tokens(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that are not revoked (expired ones stay listed so the user sees why they fail)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
