"""The role table (R1.1, R1.4, R1.7, R1.8): which role holds which permission, written out in full.

The matrix below is the one docs/roles.md shows; change both together.
"""

from __future__ import annotations

import pytest

from classbook.access.rules import AUTHORITY_PERMS, ROLE_PERMS, Perm
from classbook.people.models import Role

ROLES = ["admin", "director", "deputy", "secretary", "teacher", "student", "parent"]

# perm: roles holding it, in ROLES order (1 = yes), then the authority viewer.
MATRIX = {
    #                            adm dir dep sec tea stu par  viewer
    Perm.VIEW_SCHOOL_DIRECTORY: ((1, 1, 1, 1, 1, 0, 0), 1),
    Perm.VIEW_ALL_STUDENTS: ((1, 1, 1, 1, 0, 0, 0), 1),
    Perm.VIEW_CONTACTS: ((1, 1, 1, 1, 0, 0, 0), 0),
    Perm.VIEW_ALL_JOURNALS: ((1, 1, 1, 0, 0, 0, 0), 1),
    Perm.VIEW_AUDIT_LOG: ((1, 1, 0, 0, 0, 0, 0), 0),
    Perm.MANAGE_SCHOOL_SETTINGS: ((1, 1, 0, 0, 0, 0, 0), 0),
    Perm.MANAGE_CALENDAR: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.MANAGE_STRUCTURE: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.MANAGE_STAFF: ((1, 1, 0, 0, 0, 0, 0), 0),
    Perm.MANAGE_STUDENTS: ((1, 0, 0, 1, 0, 0, 0), 0),
    Perm.MANAGE_CONSENTS: ((1, 0, 0, 1, 0, 0, 0), 0),
    Perm.ISSUE_STAFF_CODES: ((1, 0, 0, 0, 0, 0, 0), 0),
    Perm.ISSUE_FAMILY_CODES: ((1, 0, 0, 0, 0, 0, 0), 0),
    Perm.MANAGE_TIMETABLE: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.VIEW_ALL_PLANS: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.APPROVE_PLANS: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.PUBLISH_ANNOUNCEMENTS: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.MODERATE_FORUM: ((1, 1, 1, 0, 0, 0, 0), 0),
    Perm.ISSUE_CERTIFICATES: ((1, 1, 0, 1, 0, 0, 0), 0),
}

CELLS = [(role, perm, bool(row[i])) for perm, (row, _viewer) in MATRIX.items() for i, role in enumerate(ROLES)]


@pytest.mark.parametrize(("role", "perm", "held"), CELLS)
def test_role_holds_exactly_the_permissions_of_the_matrix(role, perm, held):
    assert (perm in ROLE_PERMS[role]) is held


@pytest.mark.parametrize(("perm", "held"), [(perm, bool(viewer)) for perm, (_row, viewer) in MATRIX.items()])
def test_authority_viewer_holds_only_read_permissions(perm, held):
    assert (perm in AUTHORITY_PERMS) is held


def test_every_role_has_a_row_and_no_unknown_role_is_listed():
    assert set(ROLE_PERMS) == set(Role.values)


def test_administrator_holds_every_permission_even_new_ones():
    assert ROLE_PERMS[Role.ADMIN] == frozenset(Perm)


def test_students_and_parents_hold_no_school_wide_permission():
    """They see only themselves and their own children, through relationships (R1.3)."""
    assert ROLE_PERMS[Role.STUDENT] == frozenset()
    assert ROLE_PERMS[Role.PARENT] == frozenset()


def test_authority_viewer_never_manages_or_issues_anything():
    assert all(p.name.startswith("VIEW_") for p in AUTHORITY_PERMS)
