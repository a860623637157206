"""Who reads and writes the school's record books (R7.2, R7.3, R7.5): the book of orders, personal files,
the alphabetical book.

- The book of orders is read by whoever sees every student (administration, secretary, authority viewers).
- The secretary (and the administrator, ``MANAGE_STUDENTS``) drafts orders; only the director signs them.
- Read-only authority viewers never write; teachers, students, parents read nothing here (403).
"""

from __future__ import annotations

from django.db.models import QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.people.models import Role
from classbook.records.models import Order, OrderLine


def may_read_orders(ctx: SchoolContext) -> bool:
    """The book of orders, its pages, prints and API: those who see every student of the school."""
    return ctx.has(Perm.VIEW_ALL_STUDENTS)


def may_draft_orders(ctx: SchoolContext) -> bool:
    """Draft and edit unsigned orders: those who manage students (secretary, administrator), never read-only."""
    return ctx.has(Perm.MANAGE_STUDENTS) and not ctx.is_read_only


def may_sign_orders(ctx: SchoolContext) -> bool:
    """Sign an order (it then changes enrolments on its day): the director, and only the director."""
    return Role.DIRECTOR in ctx.roles and not ctx.is_read_only


def may_read_personal_files(ctx: SchoolContext) -> bool:
    """Personal files (page and PDF): those who see every student, and class teachers (their class's students,
    ``scopes.roster_students``), as the roster's student card."""
    return ctx.has(Perm.VIEW_ALL_STUDENTS) or ctx.is_class_teacher


def may_close_years(ctx: SchoolContext) -> bool:
    """Close a school year by hand (its enrolments end): those who manage students, never read-only."""
    return may_draft_orders(ctx)


def orders(ctx: SchoolContext) -> QuerySet[Order]:
    """The school's orders for those who read the book of orders; nothing for anyone else."""
    qs = Order.objects.filter(school=ctx.school).select_related("year", "created_by", "signed_by", "corrects")
    return qs if may_read_orders(ctx) else qs.none()


def order_lines(ctx: SchoolContext) -> QuerySet[OrderLine]:
    """Lines of the orders the user reads (the personal file's and the alphabetical book's references)."""
    qs = OrderLine.objects.filter(school=ctx.school).select_related("order", "student__user", "target_class")
    return qs if may_read_orders(ctx) or ctx.is_class_teacher else qs.none()
