"""Events of the roster other apps may react to (webhooks), without the roster importing them.

``enrolment_changed`` is sent once per committed transaction with ``items``: one dict per change of a
student's enrolment (``change``: ``added``, ``moved``, ``withdrawn``, or ``new_year`` from the year
opening; ``school_id``, ``student_id``, ``class_id`` (the class now; for a withdrawal the class left),
``previous_class_id`` (a move, a new year), ``on`` (ISO date)). See ``classbook.core.events``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import Signal

from classbook.core.events import send_on_commit

enrolment_changed = Signal()


def announce_enrolment(
    change: str,
    *,
    school_id: int,
    student_id: int,
    class_id: int | None,
    on: dt.date,
    previous_class_id: int | None = None,
) -> None:
    """Tell listeners after the commit; no query here (``core.events``)."""
    item: dict[str, Any] = {"change": change, "school_id": school_id, "student_id": student_id}
    item |= {"class_id": class_id, "previous_class_id": previous_class_id, "on": on.isoformat()}
    send_on_commit(enrolment_changed, "roster", item)
