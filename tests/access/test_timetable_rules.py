"""The timetable's named rules (``classbook/access/timetable.py``) as a role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import timetable
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_manage_timetable": (timetable.may_manage_timetable, None, "Y Y Y N N N N N N N N N N - -"),
    "reads_whole_school": (timetable.reads_whole_school, None, "Y Y Y Y Y Y Y Y N N N N Y - -"),
    "reads_own_teaching": (timetable.reads_own_teaching, None, "N N N N Y Y Y Y N N N N N - -"),
    # The journal of missed and substituted lessons: staff only, the authority viewer neither page nor API.
    "may_open_lesson_changes": (timetable.may_open_lesson_changes, None, "Y Y Y Y Y Y Y Y N N N N N - -"),
    "reads_all_lesson_changes": (timetable.reads_all_lesson_changes, None, "Y Y Y N N N N N N N N N Y - -"),
    "may_see_changes_of (tea)": (
        timetable.may_see_changes_of,
        lambda w: (w.teacher.pk,),
        "Y Y Y N Y N N N N N N N Y - -",
    ),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_timetable_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
