"""The absences, reports and flags rules (``classbook/access/appeals.py``, the diary's ``uses_diary``) as a
role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import appeals, diary
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_write_appeals": (appeals.may_write_appeals, None, "Y Y Y Y Y Y Y Y Y Y Y Y N - -"),
    "may_open_absences": (appeals.may_open_absences, None, "Y Y Y N N N Y N N N N N N - -"),
    "may_open_class_absences (class_a)": (
        appeals.may_open_class_absences,
        lambda w: (w.class_a.pk,),
        "Y Y Y N N N Y N N N N N N - -",
    ),
    "may_open_class_absences (class_b)": (
        appeals.may_open_class_absences,
        lambda w: (w.class_b.pk,),
        "Y Y Y N N N N N N N N N N - -",
    ),
    "may_record_reasons (class_a)": (
        appeals.may_record_reasons,
        lambda w: (w.class_a,),
        "N N N N N N Y N N N N N N - -",
    ),
    "may_report_absences": (appeals.may_report_absences, None, "N N N N N N N N N Y Y N N - -"),
    "may_open_reports": (appeals.may_open_reports, None, "Y Y Y N N N Y N Y Y Y N N - -"),
    "may_open_flags": (appeals.may_open_flags, None, "Y Y Y N Y Y Y Y Y Y Y N N - -"),
    "may_flag_marks": (appeals.may_flag_marks, None, "N N N N N N N N Y Y Y N N - -"),
    "uses_diary": (diary.uses_diary, None, "N N N N N N Y N Y Y Y N N - -"),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_appeals_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
