"""The journal's transactional outbox of notifications (issue 10).

Every journal change is an audit row (``JournalChange``), written in the change's own transaction; a row
whose ``announced_at`` is NULL is a change whose notifications have not been worked out yet. So the work to
notify is stored exactly when the change is, with no statement of its own (on PostgreSQL the cell, its audit
row and thereby its outbox entry are one statement): a commit whose answer was lost (the database went down
at that moment) keeps its notification, and a rolled-back change leaves none.

The notification worker takes the changes in batches (``claim``, in the worker's transaction: all or
nothing, rows locked with ``SKIP LOCKED`` so two workers take different rows) and marks them announced.
The journal knows nothing of notifications: it hands out the changes as the same plain items
``journal_changed`` carries (``journal/events.py``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from classbook.journal.models import JournalChange

_FIELDS = (
    "id",
    "kind",
    "school_id",
    "assignment_id",
    "lesson_id",
    "period_id",
    "student_id",
    "object_id",
    "old_value",
    "new_value",
)


def claim(limit: int) -> list[dict[str, Any]]:
    """The oldest ``limit`` changes not yet announced, marked announced in the caller's transaction (which
    must do the work in it: rolled back, the changes are pending again). Items as ``journal_changed``'s."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.claim runs inside the transaction that does the work")
    rows = list(
        JournalChange.objects.filter(announced_at__isnull=True)
        .order_by("id")
        .select_for_update(skip_locked=True)
        .values_list(*_FIELDS)[:limit]
    )
    if not rows:
        return []
    JournalChange.objects.filter(pk__in=[r[0] for r in rows]).update(announced_at=timezone.now())
    return [
        {
            "kind": kind,
            "school_id": school,
            "assignment_id": assignment,
            "lesson_id": lesson,
            "period_id": period,
            "student_id": student,
            "object_id": object_id,
            "old": old[:200],
            "new": new[:200],
        }
        for _pk, kind, school, assignment, lesson, period, student, object_id, old, new in rows
    ]


def pending() -> int:
    """How many changes wait for their notifications (monitoring, tests)."""
    return JournalChange.objects.filter(announced_at__isnull=True).count()


def settle(school_ids: list[int]) -> int:
    """Mark every pending change of these schools announced without notifying anyone: for history that is
    written at once and was never news (the demo's seeded year). Returns how many were settled."""
    pending_rows = JournalChange.objects.filter(school_id__in=school_ids, announced_at__isnull=True)
    return pending_rows.update(announced_at=timezone.now())
