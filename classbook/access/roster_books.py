"""Who keeps and reads the book of certificates issued, who asks for and decides changes of personal data,
and who reads the weekly change feed (R7.1, R7.3, R7.6). docs/records.md and docs/roles.md.

Every page, API route and service asks these functions; none decides inline.
"""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.core.models import AuditEntry
from classbook.people.models import Enrolment, GuardianLink, Student, User
from classbook.roster.models import ChangeRequest, IssuedDocument

# --- The book of certificates issued (R7.3) ---------------------------------------------------------------


def may_read_certificate_book(ctx: SchoolContext) -> bool:
    """Everyone who sees every student's record reads the book: the administration, the secretary, deputies
    and the authority's viewers."""
    return ctx.has(Perm.VIEW_ALL_STUDENTS)


def may_keep_certificate_book(ctx: SchoolContext) -> bool:
    """Recording and correcting lines: the secretary, the director and the administrator; never read-only."""
    return ctx.has(Perm.ISSUE_CERTIFICATES) and not ctx.is_read_only


def issued_documents(ctx: SchoolContext) -> QuerySet[IssuedDocument]:
    qs = IssuedDocument.objects.filter(school=ctx.school).select_related(
        "student__user", "received_by_guardian", "recorded_by"
    )
    return qs if may_read_certificate_book(ctx) else qs.none()


def certificate_students(ctx: SchoolContext) -> QuerySet[Student]:
    """The students a document may be recorded for: every student of the school, present or former."""
    qs = Student.objects.filter(school=ctx.school).select_related("user")
    return qs if may_keep_certificate_book(ctx) else qs.none()


def receiving_guardians(ctx: SchoolContext, student: Student) -> QuerySet[User]:
    """The guardians who may receive a student's document: the student's linked guardians (ended links too:
    a parent who lost custody still is a person; the secretary decides who stands at the desk)."""
    if not may_keep_certificate_book(ctx):
        return User.objects.none()
    links = GuardianLink.objects.filter(school=ctx.school, student=student).values("guardian_id")
    return User.objects.filter(pk__in=links)


# --- Parents report changes of personal data (R7.6) -------------------------------------------------------


def may_request_changes(ctx: SchoolContext) -> bool:
    """A parent with at least one child they may see (a current link with "may see") asks for changes."""
    return bool(ctx.child_student_ids) and not ctx.is_read_only


def may_request_for(ctx: SchoolContext, student: Student) -> bool:
    """Only for their own child, of this school, through a visible current link."""
    return may_request_changes(ctx) and student.school_id == ctx.school.pk and student.pk in ctx.child_student_ids


def requestable_children(ctx: SchoolContext) -> QuerySet[Student]:
    qs = Student.objects.filter(school=ctx.school, pk__in=ctx.child_student_ids).select_related("user")
    return qs if may_request_changes(ctx) else qs.none()


def own_change_requests(ctx: SchoolContext) -> QuerySet[ChangeRequest]:
    """A parent's own requests and their outcome — also after the link ended (they made them)."""
    return ChangeRequest.objects.filter(school=ctx.school, requested_by=ctx.user).select_related(
        "student__user", "decided_by"
    )


def may_review_change_requests(ctx: SchoolContext) -> bool:
    """Those who manage students (secretary, administrator) and class teachers accept or reject requests."""
    return not ctx.is_read_only and (ctx.has(Perm.MANAGE_STUDENTS) or ctx.is_class_teacher)


def reviewable_change_requests(ctx: SchoolContext) -> QuerySet[ChangeRequest]:
    """The school's requests for those who manage students; a class teacher's: the current students of
    their class. Nobody else's."""
    qs = ChangeRequest.objects.filter(school=ctx.school).select_related("student__user", "requested_by", "decided_by")
    if not may_review_change_requests(ctx):
        return qs.none()
    if ctx.has(Perm.MANAGE_STUDENTS):
        return qs
    current = Enrolment.objects.filter(
        school=ctx.school, school_class_id__in=ctx.homeroom_class_ids, end__isnull=True
    ).values("student_id")
    return qs.filter(student_id__in=current)


def may_decide(ctx: SchoolContext, request: ChangeRequest) -> bool:
    """The service's check: the request is in the reviewer's scope (one rule with the pages and the API)."""
    return reviewable_change_requests(ctx).filter(pk=request.pk).exists()


# --- The weekly change feed (R7.1, seed 000 §4.19) ---------------------------------------------------------


def may_read_change_feed(ctx: SchoolContext) -> bool:
    """The secretary passes the weekly changes of class lists and staff on: those who manage students."""
    return ctx.has(Perm.MANAGE_STUDENTS) and ctx.has(Perm.VIEW_CONTACTS)


def change_feed_entries(ctx: SchoolContext) -> QuerySet[AuditEntry]:
    qs = AuditEntry.objects.filter(school=ctx.school)
    return qs if may_read_change_feed(ctx) else qs.none()
