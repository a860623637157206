"""The journal's named rules (``classbook/access/journal.py``) as a role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import journal
from classbook.journal.queries import journal_index
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_open_journals": (journal.may_open_journals, None, "Y Y Y Y Y Y Y Y N N N N Y - -"),
    "may_control_journals": (journal.may_control_journals, None, "Y Y Y N N N N N N N N N Y - -"),
    "can_remark": (journal.can_remark, None, "Y Y Y N N N N N N N N N N - -"),
    "may_open_own_remarks": (journal.may_open_own_remarks, None, "N N N N Y Y Y Y N N N N N - -"),
    "may_read_assignment (tea's journal)": (
        journal.may_read_assignment,
        lambda w: (w.assignment,),
        "Y Y Y N Y N Y Y N N N N Y - -",
    ),
    # The same rule as a scope (the API, attachments, remarks) and in the index's prepared query: one rule.
    "readable_assignments (tea's journal)": (
        lambda ctx, a: journal.readable_assignments(ctx).filter(pk=a.pk).exists(),
        lambda w: (w.assignment,),
        "Y Y Y N Y N Y Y N N N N Y - -",
    ),
    "journal index lists tea's journal": (
        lambda ctx, a: a.pk in [e.id for e in journal_index(ctx)],
        lambda w: (w.assignment,),
        "Y Y Y N Y N Y Y N N N N Y - -",
    ),
    "may_edit_journal (tea's journal)": (
        journal.may_edit_journal,
        lambda w: (w.assignment,),
        "N N N N Y N N N N N N N N - -",
    ),
    "may_edit_lesson (tea's lesson given by sub)": (
        journal.may_edit_lesson,
        lambda w: (w.lesson,),
        "N N N N Y N N Y N N N N N - -",
    ),
    "may_edit_lesson_row (the same, on ids)": (
        journal.may_edit_lesson_row,
        lambda w: (w.assignment.teacher_id, w.lesson.conducted_by_id),
        "N N N N Y N N Y N N N N N - -",
    ),
    "may_keep_journal_offline (tea's journal)": (
        journal.may_keep_journal_offline,
        lambda w: (w.assignment,),
        "N N N N Y N N N N N N N N - -",
    ),
    "offline_lessons (tea's lesson given by sub)": (
        lambda ctx, lesson: journal.offline_lessons(ctx).filter(pk=lesson.pk).exists(),
        lambda w: (w.lesson,),
        "N N N N Y N N Y N N N N N - -",
    ),
    "may_correct_with (director, deputy)": (
        journal.may_correct_with,
        lambda w: (["director", "deputy"],),
        "N Y Y N N N N N N N N N N - -",
    ),
    "may_correct_with (admin too)": (
        journal.may_correct_with,
        lambda w: (["director", "deputy", "admin"],),
        "Y Y Y N N N N N N N N N N - -",
    ),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_journal_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
