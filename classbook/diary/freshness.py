"""What a diary week's answer depends on, read in one statement: the API's ETag (issue 18).

``week_state`` changes whenever anything the week of one student shows changes, without building the
week (8 queries): the student's marks and absences in the week's lessons (count, versions, largest id,
latest ``updated_at``), the class's lessons of the week (the same, for topics, homework and registers),
the journal trail of those lessons (``JournalChange``: every journal write, deletes included), the
week's homework files, and the latest audit entry of the school or of no school that is not quiet
(``journal.freshness.audit_sql``): timetable entries and changes, bells, days off, subgroups, names —
everything else a week shows — change only through audited services. See ``journal.freshness``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import connection

from classbook.core.replicas import read_connection
from classbook.journal.freshness import audit_sql, quoted_tables


@functools.cache
def _week_sql() -> str:
    t = quoted_tables()
    q = connection.ops.quote_name
    date = q("date")
    in_week = f"l.{date} >= %(start)s AND l.{date} <= %(end)s"
    assignments = t["TeachingAssignment"]
    of_class = f"l.assignment_id IN (SELECT ta.id FROM {assignments} ta WHERE ta.school_class_id = %(cls)s)"  # noqa: S608
    own = "COUNT(*) n, COALESCE(SUM(x.version), 0) v, COALESCE(MAX(x.id), 0) i, MAX(x.updated_at) u"
    return f"""SELECT m.*, a.*, l.*, c.*, f.*, {audit_sql(t)} FROM
 (SELECT {own} FROM {t["Mark"]} x JOIN {t["Lesson"]} l ON l.id = x.lesson_id
   WHERE x.student_id = %(student)s AND {in_week}) m,
 (SELECT {own} FROM {t["Attendance"]} x JOIN {t["Lesson"]} l ON l.id = x.lesson_id
   WHERE x.student_id = %(student)s AND {in_week}) a,
 (SELECT COUNT(*) n, COALESCE(SUM(l.version), 0) v, COALESCE(MAX(l.id), 0) i, MAX(l.updated_at) u
   FROM {t["Lesson"]} l WHERE {of_class} AND {in_week}) l,
 (SELECT COALESCE(MAX(c.id), 0) i FROM {t["JournalChange"]} c JOIN {t["Lesson"]} l ON l.id = c.lesson_id
   WHERE {of_class} AND {in_week}) c,
 (SELECT COUNT(*) n, COALESCE(MAX(f.id), 0) i, COUNT(f.removed_at) r FROM {t["HomeworkAttachment"]} f
   JOIN {t["Lesson"]} l ON l.id = f.lesson_id WHERE {of_class} AND {in_week}) f"""  # noqa: S608 - names from model metadata


def week_state(
    *, school_id: int, class_id: int | None, student_id: int, start: dt.date, end: dt.date
) -> tuple[Any, ...]:
    """The state of one student's diary week ``start``..``end`` (one query; see the module)."""
    params: dict[str, Any] = {
        "school": school_id,
        "cls": class_id or 0,
        "student": student_id,
        "start": start,
        "end": end,
    }
    with read_connection().cursor() as cursor:  # a replica's on the diary's pages (core/replicas.py)
        cursor.execute(_week_sql(), params)
        return tuple(cursor.fetchone() or ())
