"""The roster's named rules (the roster part of ``classbook/access/scopes.py``) as a role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import scopes
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_view_roster": (scopes.may_view_roster, None, "Y Y Y Y N N Y N N N N N Y - -"),
    "may_manage_students": (scopes.may_manage_students, None, "Y N N Y N N N N N N N N N - -"),
    "edits_whole_student_file": (scopes.edits_whole_student_file, None, "Y N N Y N N N N N N N N N - -"),
    "may_manage_staff": (scopes.may_manage_staff, None, "Y Y N N N N N N N N N N N - -"),
    "may_read_staff_directory": (scopes.may_read_staff_directory, None, "Y Y Y Y Y Y Y Y N N N N Y - -"),
    "may_read_alphabetical_book": (scopes.may_read_alphabetical_book, None, "Y Y Y Y N N N N N N N N Y - -"),
    "may_see_contacts (class_a)": (
        scopes.may_see_contacts,
        lambda w: (w.class_a.pk,),
        "Y Y Y Y N N Y N N N N N N - -",
    ),
    "may_see_contacts (class_b)": (
        scopes.may_see_contacts,
        lambda w: (w.class_b.pk,),
        "Y Y Y Y N N N N N N N N N - -",
    ),
    "may_edit_student_contacts (student of class_a)": (
        scopes.may_edit_student_contacts,
        lambda w: (w.student,),
        "Y N N Y N N Y N N N N N N - -",
    ),
    "may_manage_consents (student of class_a)": (
        scopes.may_manage_consents,
        lambda w: (w.student,),
        "Y N N Y N N Y N N N N N N - -",
    ),
    "may_manage_consents (student of class_b)": (
        scopes.may_manage_consents,
        lambda w: (w.other_student,),
        "Y N N Y N N N N N N N N N - -",
    ),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_roster_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
