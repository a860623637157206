"""The reports rules (``classbook/access/reports.py``) as a role × relationship table: who reads reports,
whose journals their figures count (R6.9), who reads the user activity and changes the quality formula
(R6.3, R6.11).

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import reports
from classbook.access.context import SchoolContext
from classbook.schools.models import TeachingAssignment
from tests.access.conftest import HEADER, table_cases


def counts_journal(ctx: SchoolContext, assignment_id: int) -> bool:
    """The journal's figures are in the user's reports (``report_assignments``)."""
    return reports.report_assignments(ctx).filter(pk=assignment_id).exists()


def _class_b_journal(w) -> tuple[int]:
    return (TeachingAssignment.objects.get(teacher=w.other_teacher, school_class=w.class_b).pk,)


TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_read_reports": (reports.may_read_reports, None, "Y Y Y N Y Y Y Y N N N N Y - -"),
    # the teacher's journal of 5-А: its teacher, 5-А's class teacher, the administration; not the substitute
    "counts_journal (5-А mathematics)": (counts_journal, lambda w: (w.assignment.pk,), "Y Y Y N Y N Y N N N N N Y - -"),
    "counts_journal (5-Б history)": (counts_journal, _class_b_journal, "Y Y Y N N Y N N N N N N Y - -"),
    "may_read_user_activity": (reports.may_read_user_activity, None, "N Y Y N N N N N N N N N N - -"),
    "may_change_quality_formula": (reports.may_change_quality_formula, None, "N Y Y N N N N N N N N N N - -"),
    "may_change_report_settings": (reports.may_change_report_settings, None, "Y Y N N N N N N N N N N N - -"),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_reports_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER


def test_the_activity_logins_are_refused_to_those_who_do_not_read_them(ctx_of, world):
    from classbook.core.audit import log_action

    log_action("people.login", actor=world.teacher, obj=world.teacher)
    assert reports.activity_logins(ctx_of("deputy")).count() == 1
    assert reports.activity_logins(ctx_of("admin")).count() == 0
    assert not reports.activity_members(ctx_of("teacher")).exists()
    assert reports.activity_members(ctx_of("director")).filter(user=world.teacher).exists()
