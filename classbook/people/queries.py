"""Read models for the account and credential pages: few, explicit queries returning plain data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.sessions.models import Session
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from classbook.core.collation import name_order
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


def name_filter(text: str) -> Q:
    """Every typed word (up to four) must occur in a part of the name or in the username.

    SQLite folds the case of ASCII letters only, so the usual spellings of a Cyrillic word are tried too.
    """
    cond = Q()
    for word in text.split()[:4]:
        word_cond = Q()
        for variant in {word[:60], word[:60].lower(), word[:60].capitalize(), word[:60].upper()}:
            for part in ("last_name", "first_name", "patronymic", "username"):
                word_cond |= Q(**{f"{part}__icontains": variant})
        cond &= word_cond
    return cond


def filter_people(
    people: QuerySet[User], *, school: School, class_id: int | None, kind: str, search: str = ""
) -> QuerySet[User]:
    """Narrow a scoped queryset of people to a class (its students and their parents), a kind and a name.

    Subqueries, never lists of ids: the page must not grow with the school (issue 9: a 1,000-student
    school answered 500 on SQLite).
    """
    if class_id is not None:
        in_class = Enrolment.objects.filter(school=school, school_class_id=class_id, end__isnull=True)
        parents = (
            GuardianLink.objects.filter(school=school, student__in=in_class.values("student_id"))
            .exclude(ended_on__lte=timezone.localdate())
            .values("guardian_id")
        )
        people = people.filter(Q(pk__in=in_class.values("student__user_id")) | Q(pk__in=parents))
    roles = {
        "staff": [r.value for r in Role if r not in (Role.STUDENT, Role.PARENT)],
        "students": [Role.STUDENT.value],
        "parents": [Role.PARENT.value],
    }
    if kind in roles:
        people = people.filter(pk__in=Membership.objects.filter(school=school, role__in=roles[kind]).values("user_id"))
    if search.strip():
        people = people.filter(name_filter(search))
    return people


def code_people(people: QuerySet[User], *, school: School) -> QuerySet[User]:
    """``people`` in alphabetical order, each with their roles and classes in ``school`` and the state of
    their latest unused code: slice it (a page), then turn it into rows with ``rows_for``.

    A constant number of queries for any slice: the prefetches read only the sliced people.
    """
    latest_code = ActivationCode.objects.filter(
        user=OuterRef("pk"), school=school, used_at__isnull=True, revoked_at__isnull=True
    ).order_by("-issued_at")
    today = timezone.localdate()
    current_enrolments = Enrolment.objects.filter(school=school, end__isnull=True).select_related("school_class")
    return (
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
                queryset=GuardianLink.objects.filter(school=school)
                .exclude(ended_on__lte=today)
                .prefetch_related(
                    Prefetch("student__enrolments", queryset=current_enrolments, to_attr="current_enrolments")
                ),
                to_attr="school_guardian_links",
            ),
        )
        .order_by(*name_order())
    )


def rows_for(users: Iterable[User], *, school: School) -> list[CodeRow]:
    """Rows of the codes page (and slips) for people read through ``code_people``."""
    rows = []
    user: Any  # prefetched attributes (school_memberships, ...) are not on the model class
    for user in users:
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


def code_rows(people: QuerySet[User], *, school: School) -> list[CodeRow]:
    """Rows for every one of ``people`` (the slips: a bounded selection)."""
    return rows_for(code_people(people, school=school), school=school)


def user_sessions(user: User) -> QuerySet[UserSession]:
    """The user's sessions that are still alive (expired Django sessions are not listed)."""
    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.filter(user=user, session_key__in=alive).order_by("-last_seen")


def api_tokens(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that are not revoked (expired ones stay listed so the user sees why they fail)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at")
