"""Read models for roster pages and the API: a fixed number of queries whatever the number of students."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from classbook.access import roster_books, scopes
from classbook.access.context import SchoolContext
from classbook.core.collation import name_order
from classbook.people.models import (
    Consent,
    ConsentPurpose,
    Enrolment,
    GuardianLink,
    Membership,
    Student,
    User,
    current_enrolment_q,
)
from classbook.roster.models import ChangeRequest, IssuedDocument, RequestStatus
from classbook.schools.models import SchoolClass

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def alphabetical(qs: QuerySet[Any], prefix: str = "user__") -> QuerySet[Any]:
    return qs.order_by(*name_order(prefix))


def staff_list(ctx: SchoolContext) -> list[User]:
    """Staff with their roles (``user.staff_roles``: active and revoked memberships), alphabetically."""
    roles = Prefetch(
        "memberships",
        queryset=scopes.staff_memberships(ctx).order_by("role"),
        to_attr="staff_roles",
    )
    return list(scopes.staff_people(ctx).prefetch_related(roles))


def is_active_membership(m: Membership) -> bool:
    return m.is_active and (m.until is None or m.until >= timezone.localdate())


def directory_rows(ctx: SchoolContext) -> list[dict[str, Any]]:
    """The staff directory every staff member sees: name, current roles and position only."""
    people = scopes.staff(ctx).prefetch_related(
        Prefetch("memberships", queryset=scopes.staff_directory_memberships(ctx), to_attr="current_roles")
    )
    return [
        {
            "id": u.pk,
            "full_name": u.full_name,
            "roles": sorted(m.role for m in u.current_roles),
            "position": next((m.position for m in u.current_roles if m.position), ""),
        }
        for u in people
    ]


class ConsentFlag(TypedDict):
    has_pd_consent: bool


def with_consent_flag(qs: QuerySet[Student], school_id: int) -> QuerySet[WithAnnotations[Student, ConsentFlag]]:
    """Annotate ``has_pd_consent``: a valid (not withdrawn) personal-data consent exists (R7.4)."""
    valid = Consent.objects.filter(
        school_id=school_id, student=OuterRef("pk"), purpose=ConsentPurpose.PERSONAL_DATA, withdrawn_on__isnull=True
    )
    return qs.annotate(has_pd_consent=Exists(valid))


@dataclass
class ClassRow:
    student: Student
    current: bool
    start: Any
    end: Any
    guardians: list[GuardianLink] = field(default_factory=list)


def class_roster(
    ctx: SchoolContext, school_class: SchoolClass, *, search: str = "", with_guardians: bool = False
) -> list[ClassRow]:
    """Everyone who was in the class, alphabetically; those who left or moved come last-in-place, greyed.

    Three queries (four with guardians), whatever the size of the class.
    """
    enrolments = scopes.roster_enrolments(ctx).filter(school_class=school_class)
    if search:
        enrolments = enrolments.filter(name_filter(search, "student__user__"))
    enrolments = alphabetical(enrolments, "student__user__")
    student_qs = with_consent_flag(scopes.roster_students(ctx), ctx.school.pk)
    if with_guardians:
        links = scopes.roster_guardian_links(ctx).filter(ended_on__isnull=True).order_by(*name_order("guardian__"))
        student_qs = student_qs.prefetch_related(Prefetch("guardian_links", queryset=links, to_attr="open_links"))
    rows = enrolments.prefetch_related(Prefetch("student", queryset=student_qs))
    # A class of a year that has ended and is not the current one has nobody in it now (year-aware "current").
    year = school_class.year
    ended = not year.is_current and year.end < timezone.localdate()
    return [
        ClassRow(
            student=e.student,
            current=e.end is None and not e.student.has_left and not ended,
            start=e.start,
            end=e.end,
            guardians=getattr(e.student, "open_links", []),
        )
        for e in rows
    ]


def name_filter(text: str, prefix: str = "user__") -> Q:
    """Every typed word must occur in a part of the name.

    SQLite folds case of ASCII letters only, so the usual spellings of a Cyrillic word are tried too.
    """
    cond = Q()
    for word in text.split()[:4]:
        word_cond = Q()
        for variant in {word[:60], word[:60].lower(), word[:60].capitalize(), word[:60].upper()}:
            for part in ("last_name", "first_name", "patronymic"):
                word_cond |= Q(**{f"{prefix}{part}__icontains": variant})
        cond &= word_cond
    return cond


def search_students(ctx: SchoolContext, text: str, limit: int = 50) -> list[Student]:
    """Students whose names contain every typed word, with their current class."""
    qs = alphabetical(scopes.roster_students(ctx).filter(name_filter(text)))
    return with_current_class(ctx, list(qs[:limit]))


def with_current_class(ctx: SchoolContext, students: list[Student]) -> list[Student]:
    """Attach ``current_class`` (or the last class of those who left) in one query."""
    by_student: dict[int, SchoolClass] = {}
    enrolments = (
        scopes.roster_enrolments(ctx).filter(student__in=[s.pk for s in students]).order_by("student_id", "start")
    )
    for e in enrolments:
        by_student[e.student_id] = e.school_class  # the latest start wins
    for s in students:
        s.current_class = by_student.get(s.pk)  # type: ignore[attr-defined]
    return students


def alphabetical_book(ctx: SchoolContext) -> list[Student]:
    """All students of the school by surname with class and personal file number (R7.3). Two queries."""
    return with_current_class(ctx, list(alphabetical(scopes.roster_students(ctx))))


def current_of(enrolments: list[Enrolment]) -> Enrolment | None:
    """The student's class now among their enrolments (``school_class__year`` loaded): the open one of the
    current year, else the latest open one (a school flagging no current year, or the years' overlap)."""
    open_rows = [e for e in enrolments if e.end is None]
    return next((e for e in open_rows if e.school_class.year.is_current), open_rows[-1] if open_rows else None)


@dataclass
class StudentCard:
    student: Student
    enrolments: list[Enrolment]
    guardian_links: list[GuardianLink]
    consents: list[Any]


def student_card(ctx: SchoolContext, student: Student) -> StudentCard:
    """The personal file: class history, guardians (ended ones too), consents."""
    return StudentCard(
        student=student,
        enrolments=list(scopes.roster_enrolments(ctx).filter(student=student).order_by("start")),
        guardian_links=list(
            scopes.roster_guardian_links(ctx).filter(student=student).order_by("ended_on", *name_order("guardian__"))
        ),
        consents=list(scopes.roster_consents(ctx).filter(student=student).order_by("-given_on", "-pk")),
    )


def only_without_consent(qs: QuerySet[Student], school_id: int) -> QuerySet[Student]:
    """Keep the students who have no valid personal-data consent (R7.4)."""
    return with_consent_flag(qs, school_id).filter(has_pd_consent=False)


def students_without_consent(ctx: SchoolContext, school_class: SchoolClass) -> list[Student]:
    """Current students of a class with no valid personal-data consent (R7.4)."""
    qs = with_consent_flag(
        scopes.roster_students(ctx).filter(
            Q(enrolments__school_class=school_class) & current_enrolment_q(ctx.school.pk, "enrolments__"),
            left_on__isnull=True,
        ),
        ctx.school.pk,
    ).filter(has_pd_consent=False)
    return list(alphabetical(qs))


def class_choices(ctx: SchoolContext, *, year_id: int | None = None) -> QuerySet[SchoolClass]:
    qs = scopes.roster_classes(ctx)
    return qs.filter(year_id=year_id) if year_id else qs


# --- The book of certificates issued, parents' change requests (R7.3, R7.6) -----------------------------


def certificate_book_rows(ctx: SchoolContext, year: int | None = None) -> QuerySet[IssuedDocument]:
    qs = roster_books.issued_documents(ctx)
    return qs if year is None else qs.filter(issued_on__year=year)


def certificate_book(ctx: SchoolContext, year: int | None = None) -> list[IssuedDocument]:
    """The book's lines in the order of issue (one query), optionally of one calendar year."""
    return list(certificate_book_rows(ctx, year).order_by("issued_on", "pk"))


def guardian_choices(ctx: SchoolContext, student: Student) -> list[tuple[int, str]]:
    return [(u.pk, u.full_name) for u in roster_books.receiving_guardians(ctx, student).order_by("last_name")]


def pending_change_requests(ctx: SchoolContext) -> list[ChangeRequest]:
    """The requests waiting for the reviewer, oldest first (one query)."""
    qs = roster_books.reviewable_change_requests(ctx).filter(status=RequestStatus.PENDING)
    return list(qs.order_by("created_at", "pk"))


def decided_change_requests(ctx: SchoolContext, limit: int = 50) -> list[ChangeRequest]:
    qs = roster_books.reviewable_change_requests(ctx).exclude(status=RequestStatus.PENDING)
    return list(qs.order_by("-decided_at", "-pk")[:limit])


def own_change_requests(ctx: SchoolContext, limit: int = 100) -> list[ChangeRequest]:
    return list(roster_books.own_change_requests(ctx).order_by("-created_at", "-pk")[:limit])


def child_choices(ctx: SchoolContext) -> list[tuple[int, str]]:
    return [(s.pk, s.user.full_name) for s in alphabetical(roster_books.requestable_children(ctx))]
