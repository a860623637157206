"""The messaging and notices rules (``classbook/access/messaging.py``, ``notifications.py``) as a
role × relationship table.

Columns: see ``COLUMNS`` in ``tests/access/conftest.py`` (Y allowed, N refused, - no context: 404).
"""

from __future__ import annotations

import pytest

from classbook.access import messaging, notifications
from tests.access.conftest import HEADER, table_cases

TABLE = {
    # cells: adm dir dep sec tea oth ct sub stu par opa end vie for ano
    "may_use_messaging": (messaging.may_use_messaging, None, "Y Y Y Y Y Y Y Y Y Y Y Y N - -"),
    "may_watch_unanswered": (messaging.may_watch_unanswered, None, "Y Y Y Y Y Y Y Y N N N N N - -"),
    "writes_about_nobody": (messaging.writes_about_nobody, None, "Y Y Y Y Y Y Y Y N N N N N - -"),
    "sees_school_unanswered": (messaging.sees_school_unanswered, None, "Y Y Y N N N N N N N N N N - -"),
    "may_publish": (messaging.may_publish, None, "Y Y Y N N N Y N N N N N N - -"),
    "may_publish_any": (messaging.may_publish_any, None, "Y Y Y N N N N N N N N N N - -"),
    "may_moderate": (messaging.may_moderate, None, "Y Y Y N N N N N N N N N N - -"),
    "may_send_class_notices": (notifications.may_send_class_notices, None, "Y Y Y Y Y Y Y Y Y Y Y Y N - -"),
    "keeps_class (class_a)": (
        notifications.keeps_class,
        lambda w: (w.class_a.pk,),
        "N N N N N N Y N N N N N N - -",
    ),
    "keeps_class (class_b)": (
        notifications.keeps_class,
        lambda w: (w.class_b.pk,),
        "N N N N N N N N N N N N N - -",
    ),
}


@pytest.mark.parametrize(("rule", "args", "expected"), table_cases(TABLE))
def test_messaging_rule_table(cast, row_of, rule, args, expected):
    assert row_of(rule, *(args(cast) if args else ())) == expected, HEADER
