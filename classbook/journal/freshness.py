"""What a journal grid's answer depends on, read in one statement: the API's ETag (issue 18).

``grid_state`` answers a short tuple that changes whenever anything the grid of one journal and one study
period shows changes, without building the grid (one query of aggregates over indexed rows; the grid
itself is 8-9 queries and the Python that shapes thousands of cells). What it covers:

- marks, attendance and lessons of the period: count, sum of versions (every write bumps a version),
  largest id (a delete followed by an insert) and latest ``updated_at``; the lessons' taken registers;
- the journal's period grades: count, versions, largest id and how many are locked;
- the journal's own trail (``JournalChange``): the largest id — every journal write, deletes, files,
  corrections and lesson edits included, whatever path it took;
- the class's enrolments (count, largest id, how many have ended): who is in the grid;
- everything else the grid shows (names, work types, scales, codes, rules, timetable changes, plan
  bindings, roles) changes only through audited services: the latest audit entry of the school or of no
  school, skipping actions that show in no journal (logins, sessions, tokens, messaging...).

The viewer (their roles and whether they may edit), the day (lessons become late or closed) and the
language are added by the caller (``classbook.api.etag``).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.db import connection

from classbook.core.models import AuditEntry
from classbook.journal.models import Attendance, HomeworkAttachment, JournalChange, Lesson, Mark, PeriodGrade
from classbook.people.models import Enrolment
from classbook.schools.models import TeachingAssignment

# Audit actions that change nothing a journal grid or a diary week shows (prefixes).
QUIET_ACTIONS = (
    "people.login",
    "people.logout",
    "people.sessions.",
    "people.api_token.",
    "people.totp.",
    "people.recovery_code",
    "people.activation_code.",
    "people.password",
    "messaging.",
    "notifications.",
    "timetable.calendar_feed.",
)


def quoted_tables() -> dict[str, str]:
    """The quoted table names of the models whose state the ETags read."""
    models = (
        Mark,
        Attendance,
        Lesson,
        PeriodGrade,
        JournalChange,
        Enrolment,
        AuditEntry,
        HomeworkAttachment,
        TeachingAssignment,
    )
    return {m.__name__: connection.ops.quote_name(m._meta.db_table) for m in models}


def audit_sql(t: dict[str, str]) -> str:
    """Two scalar subqueries: the latest non-quiet audit entry of the school, and of no school. Each walks
    the ``(school, at, id)`` index backwards and stops at the first entry that is not quiet."""
    quiet = " AND ".join(f"e.action NOT LIKE '{prefix}%%'" for prefix in QUIET_ACTIONS)
    # Constants and model metadata only; every value is a parameter.
    table, order = t["AuditEntry"], "ORDER BY e.at DESC, e.id DESC LIMIT 1"
    of_school = f"(SELECT e.id FROM {table} e WHERE e.school_id = %(school)s AND {quiet} {order})"  # noqa: S608
    of_none = f"(SELECT e.id FROM {table} e WHERE e.school_id IS NULL AND {quiet} {order})"  # noqa: S608
    return f"{of_school}, {of_none}"


@functools.cache
def _grid_sql() -> str:
    t = quoted_tables()
    q = connection.ops.quote_name
    date = q("date")
    in_period = f"l.assignment_id = %(assignment)s AND l.{date} >= %(start)s AND l.{date} <= %(end)s"
    facts = "COUNT(*) n, COALESCE(SUM(x.version), 0) v, COALESCE(MAX(x.id), 0) i, MAX(x.updated_at) u"
    return f"""SELECT m.*, a.*, l.*, g.*, c.*, e.*, {audit_sql(t)} FROM
 (SELECT {facts} FROM {t["Mark"]} x JOIN {t["Lesson"]} l ON l.id = x.lesson_id WHERE {in_period}) m,
 (SELECT {facts} FROM {t["Attendance"]} x JOIN {t["Lesson"]} l ON l.id = x.lesson_id WHERE {in_period}) a,
 (SELECT COUNT(*) n, COALESCE(SUM(l.version), 0) v, COALESCE(MAX(l.id), 0) i, MAX(l.updated_at) u,
   COUNT(l.register_taken_at) r FROM {t["Lesson"]} l WHERE {in_period}) l,
 (SELECT COUNT(*) n, COALESCE(SUM(g.version), 0) v, COALESCE(MAX(g.id), 0) i, COUNT(g.locked_at) k
   FROM {t["PeriodGrade"]} g WHERE g.assignment_id = %(assignment)s) g,
 (SELECT COALESCE(MAX(c.id), 0) i FROM {t["JournalChange"]} c WHERE c.assignment_id = %(assignment)s) c,
 (SELECT COUNT(*) n, COALESCE(MAX(e.id), 0) i, COUNT(e.{q("end")}) k
   FROM {t["Enrolment"]} e WHERE e.school_class_id = %(class)s) e"""  # noqa: S608 - names from model metadata


def grid_state(assignment: TeachingAssignment, start: dt.date, end: dt.date) -> tuple[Any, ...]:
    """The state of one journal's grid for the days ``start``..``end`` (one query; see the module)."""
    params: dict[str, Any] = {
        "assignment": assignment.pk,
        "class": assignment.school_class_id,
        "school": assignment.school_id,
        "start": start,
        "end": end,
    }
    with connection.cursor() as cursor:
        cursor.execute(_grid_sql(), params)
        return tuple(cursor.fetchone() or ())
