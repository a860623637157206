"""Template filters that ask ``classbook.access``, so a link shows exactly when the page it leads to opens.

Each filter is the named rule that guards the target page (``school_view(rule=...)``) or its API route;
templates never read role flags of the context themselves (``tests/test_no_inline_permissions.py``).
``None`` (a page outside any school) answers False.
"""

from __future__ import annotations

from collections.abc import Callable

from django import template

from classbook.access import (
    accounts,
    appeals,
    archive,
    codes,
    diary,
    documents,
    journal,
    materials,
    messaging,
    oneroster,
    planning,
    portfolios,
    printing,
    records,
    reports,
    roster_books,
    scopes,
    signing,
    structure,
    surveys,
    timetable,
    webhooks,
)
from classbook.access.context import SchoolContext

register = template.Library()

Rule = Callable[[SchoolContext], bool]


def _filter(name: str, rule: Rule) -> None:
    def check(ctx: SchoolContext | None) -> bool:
        return ctx is not None and rule(ctx)

    check.__doc__ = rule.__doc__
    register.filter(name, check)


# One line per rule: the filter has the rule's name.
for _rule in (
    scopes.may_view_roster,
    scopes.may_view_audit_log,
    scopes.may_manage_staff,
    scopes.may_read_alphabetical_book,
    accounts.may_manage_accounts,
    structure.may_read_area,
    codes.may_open_codes,
    diary.uses_diary,
    journal.may_open_journals,
    journal.may_control_journals,
    journal.may_open_own_remarks,
    timetable.may_open_lesson_changes,
    planning.may_open_plans,
    reports.may_read_reports,
    printing.may_print,
    messaging.may_use_messaging,
    messaging.may_watch_unanswered,
    messaging.writes_about_nobody,
    appeals.may_open_absences,
    appeals.may_open_reports,
    appeals.may_open_flags,
    webhooks.may_manage_webhooks,
    archive.may_read_archives,
    archive.may_build_archives,
    archive.may_verify_archives,
    archive.may_draft_destruction,
    archive.may_change_archive_settings,
    signing.may_manage_signing,
    roster_books.may_read_certificate_book,
    roster_books.may_keep_certificate_book,
    roster_books.may_request_changes,
    roster_books.may_review_change_requests,
    roster_books.may_read_change_feed,
    records.may_read_orders,
    records.may_read_personal_files,
    oneroster.may_exchange_oneroster,
    surveys.may_open_surveys,
    documents.may_open_documents,
    documents.may_read_catalogue,
    portfolios.may_open_portfolios,
    portfolios.may_read_portfolios,
    materials.may_open_materials,
):
    _filter(_rule.__name__, _rule)

_filter("may_open_administration", structure.may_read_area)  # the administration area's link


@register.filter
def may_open_class_absences(ctx: SchoolContext | None, class_id: int | None) -> bool:
    """The absences page of one class (``appeals.may_open_class_absences``)."""
    return ctx is not None and class_id is not None and appeals.may_open_class_absences(ctx, class_id)


@register.filter
def may_print_journal(ctx: SchoolContext | None, assignment: object) -> bool:
    """The journal page's "Print" link (``printing.may_print_journal``)."""
    return ctx is not None and assignment is not None and printing.may_print_journal(ctx, assignment)  # type: ignore[arg-type]
