"""The plans' named rules (``classbook/access/planning.py``) as a role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import planning
from classbook.planning.models import Plan
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_open_plans": (planning.may_open_plans, None, "Y Y Y N Y Y Y Y N N N N N - -"),
    "reads_all": (planning.reads_all, None, "Y Y Y N N N N N N N N N N - -"),
    "may_approve": (planning.may_approve, None, "Y Y Y N N N N N N N N N N - -"),
    "may_write_plan (tea's assignment)": (
        planning.may_write_plan,
        lambda w: (w.assignment,),
        "N N N N Y N N N N N N N N - -",
    ),
    "may_withdraw_shared (tea's shared plan)": (
        planning.may_withdraw_shared,
        lambda w: (Plan(created_by=w.teacher, is_shared=True),),
        "Y Y Y N Y N N N N N N N N - -",
    ),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_planning_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
