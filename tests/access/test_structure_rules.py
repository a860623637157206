"""The administration area's named rules (``classbook/access/structure.py``, ``accounts.py``, ``codes.py``
and the audit log in ``scopes.py``) as a role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import accounts, codes, scopes, structure
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_read_area": (structure.may_read_area, None, "Y Y Y N N N N N N N N N Y - -"),
    "may_manage_school_settings": (structure.may_manage_school_settings, None, "Y Y N N N N N N N N N N N - -"),
    "may_open_year": (structure.may_open_year, None, "Y Y Y N N N N N N N N N N - -"),
    "may_manage_accounts": (accounts.may_manage_accounts, None, "Y N N N N N N N N N N N N - -"),
    "may_open_codes": (codes.may_open_codes, None, "Y N N N N N Y N N N N N N - -"),
    "issues_for_every_class": (codes.issues_for_every_class, None, "Y N N N N N N N N N N N N - -"),
    "may_view_audit_log": (scopes.may_view_audit_log, None, "Y Y N N N N N N N N N N N - -"),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_structure_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
